"""Patcher step: secrets recognised by their shape, wherever they appear in text.

Key redaction (``redaction``) catches ``{"password": ...}``; this catches the same secrets
inside messages, metadata values, exception messages and tracebacks: bearer tokens, JWTs,
``key=value`` secrets in URLs and query strings, credentials in URLs, AWS access keys,
private-key blocks, card numbers (Luhn-checked, so ordinary numbers survive), e-mail addresses
(on by default), IP addresses (masked, or truncated to their /24 or /48 network when IP logging
is on) and any literal value registered as secret (``st.secrets``). A few substring tests on the
lower-cased text pick the rules that can apply, and short strings (ids, keys, page names) are
memoised, so ordinary text costs a few microseconds at most.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Callable, Iterable

from ..schema import REDACTED

MIN_SECRET_LENGTH = 6  # shorter registered values would mask ordinary words

_BEARER = re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{8,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_QUERY = re.compile(
    r"(?i)(\b(?:password|passwd|pwd|secret|client[_-]?secret|token|access[_-]?token|refresh[_-]?token"
    r"|id[_-]?token|api[_-]?key|apikey|key|auth|authorization|signature|sig|session[_-]?token|ssn)=)[^&\s#;\"']+"
)
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@")
_AWS_KEY = re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|.*)", re.S)
_CARD = re.compile(r"\d(?:[ -]?\d){12,}")  # any run of 13+ digits, spaces or dashes between
_IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d./])")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![0-9A-Fa-f:./])")
# An IPv6 address written as host:port without brackets (uvicorn's access lines: "::1:54321").
_IPV6_PORT = re.compile(r"(?<![0-9A-Fa-f:])((?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}):(\d{1,5})(?![0-9A-Fa-f:.])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match) -> str:
    """Mask the run if a 13-19 digit stretch of it looks like a card: it starts a group (or
    anywhere in an unseparated run), its first digit is 2-6 (the card networks), and it passes
    Luhn. A card glued to other digits is caught; UUIDs and long zero runs are not."""
    text = match.group()
    groups = re.split(r"[ -]", text)
    digits = "".join(groups)
    if len(groups) == 1:
        starts: Iterable[int] = range(len(digits))
    else:  # digit offsets where a separated group begins
        starts = itertools.accumulate((len(g) for g in groups[:-1]), initial=0)
    for start in starts:
        if not "2" <= digits[start : start + 1] <= "6":
            continue
        for size in range(13, min(len(digits) - start, 19) + 1):
            window = digits[start : start + size]
            if len(set(window)) > 1 and luhn_valid(window):
                return REDACTED
    return text


def _ip(truncate: bool) -> Callable[[re.Match], str]:
    """Mask an IP address, or with ``truncate`` keep its network (/24 for IPv4, /48 for IPv6)."""

    def replace(match: re.Match) -> str:
        text = match.group()
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return text  # a time like 12:30:45, not an address
        if not truncate:
            return "[IP]"
        address = getattr(address, "ipv4_mapped", None) or address  # ::ffff:a.b.c.d is IPv4
        prefix = 24 if address.version == 4 else 48
        return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))

    return replace


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _with_port(address: Callable[[re.Match], str]) -> Callable[[re.Match], str]:
    """Apply ``address`` to the host part of an unbracketed ``ipv6:port``; keep the port."""

    def replace(match: re.Match) -> str:
        host = _IPV6.fullmatch(match.group(1))
        if host is None or _is_address(match.group()):  # then ":7334" is its last group, not a port
            return match.group()
        masked = address(host)
        return match.group() if masked == match.group(1) else f"{masked}:{match.group(2)}"

    return replace


# Which rules can apply, from substring tests on the lower-cased text (a regex alternation of
# these literals is several times slower in CPython); digits gate the card and IP rules.
_LITERAL_TRIGGERS = (
    ("-----begin", "pem"), ("eyj", "jwt"), ("bearer", "bearer"), ("basic", "bearer"), ("token", "bearer"),
    ("=", "query"), ("://", "url"), ("akia", "aws"), ("asia", "aws"), ("agpa", "aws"), ("aida", "aws"),
    ("aroa", "aws"), ("anpa", "aws"), ("anva", "aws"), ("aipa", "aws"), ("@", "email"), ("::", "ip"),
)
# One pass that says whether any of them occurs: most text holds none, and a regex search is
# about 2x cheaper than the 17 substring tests on a typical message.
_ANY_TRIGGER = re.compile("|".join(re.escape(marker) for marker, _ in _LITERAL_TRIGGERS))
_DIGIT = re.compile(r"\d")
_ASCII_DIGITS = b"0123456789"
_CARD_HINT = re.compile(r"\d[\d -]{12}")  # a loose, cheap superset of a 13-digit run
_IP_HINT = re.compile(r"\d\.\d|[0-9A-Fa-f]:[0-9A-Fa-f]{1,4}:")
_MEMO_LIMIT = 4096
_MEMO_MAX_CHARS = 256  # ids, keys, page names and short messages repeat; long text rarely does


class ValueRedactor:
    """Masks secrets found in strings. ``redact(text)`` returns the text unchanged when clean."""

    def __init__(self, *, emails: bool = True, secrets: Iterable[str] = (), ip: str = "mask") -> None:
        if ip not in ("mask", "truncate"):
            raise ValueError(f"ip: expected 'mask' or 'truncate', got {ip!r}")
        self.emails = emails
        address = _ip(truncate=ip == "truncate")
        # In this order: a private-key block or JWT is masked whole before its parts match others.
        rules: dict[str, Callable[[str], str]] = {
            "pem": lambda t: _PRIVATE_KEY.sub(REDACTED, t),
            "jwt": lambda t: _JWT.sub(REDACTED, t),
            "bearer": lambda t: _BEARER.sub(lambda m: m.group(1) + m.group(2) + REDACTED, t),
            "query": lambda t: _QUERY.sub(lambda m: m.group(1) + REDACTED, t),
            "url": lambda t: _URL_CREDENTIALS.sub(lambda m: m.group(1) + REDACTED + "@", t),
            "aws": lambda t: _AWS_KEY.sub(REDACTED, t),
            "card": lambda t: _CARD.sub(_card, t),
            "email": lambda t: _EMAIL.sub(REDACTED, t),
            "ip": lambda t: _IPV4.sub(address, _IPV6.sub(address, _IPV6_PORT.sub(_with_port(address), t))),
        }
        if not emails:
            del rules["email"]
        self._rules = rules
        self._known: set[str] = set()
        self._secrets: re.Pattern | None = None
        self._memo: dict[str, str] = {}
        self.register(secrets)

    def register(self, secrets: Iterable[str]) -> None:
        """Add literal values that must never be written (e.g. everything in ``st.secrets``)."""
        fresh = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH} - self._known
        if fresh:
            self._known |= fresh
            # Longest first, so a secret that contains another is masked whole.
            self._secrets = re.compile("|".join(re.escape(s) for s in sorted(self._known, key=len, reverse=True)))
            self._memo = {}

    def redact(self, text: str) -> str:
        if len(text) > _MEMO_MAX_CHARS:
            return self._redact(text)
        memo = self._memo
        done = memo.get(text)
        if done is None:
            done = self._redact(text)
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[text] = done
        return done

    def _redact(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        lowered = text.lower()
        kinds = set()
        if _ANY_TRIGGER.search(lowered) is not None:
            kinds = {kind for marker, kind in _LITERAL_TRIGGERS if marker in lowered}
        if text.isascii():  # count the digits in C: a card needs 13, most text has fewer
            digits = len(text) - len(text.encode().translate(None, _ASCII_DIGITS))
            has_digit, maybe_card = digits > 0, digits >= 13
        else:  # \d also matches other scripts' digits
            has_digit = maybe_card = _DIGIT.search(text) is not None
        if has_digit:
            if maybe_card and _CARD_HINT.search(text) is not None:
                kinds.add("card")
            if ("." in text or ":" in text) and _IP_HINT.search(text) is not None:
                kinds.add("ip")
        if not kinds:
            return text
        for kind, apply in self._rules.items():
            if kind in kinds:
                text = apply(text)
        return text
