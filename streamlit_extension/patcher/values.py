"""Patcher step: secrets recognised by their shape, wherever they appear in text.

Key redaction (``redaction``) catches ``{"password": ...}``; this catches the same secrets
inside messages, metadata values, exception messages and tracebacks: bearer tokens, JWTs,
``key=value`` secrets in URLs and query strings, credentials in URLs, AWS access keys,
private-key blocks, card numbers (Luhn-checked, so ordinary numbers survive), e-mail addresses
(on by default), IP addresses (masked, or truncated to their /24 or /48 network when IP logging
is on) and any literal value registered as secret (``st.secrets``). Each pattern runs
only when a cheap marker is present, so ordinary text costs a few substring checks.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from typing import Callable, Iterable, Optional

MASK = "[REDACTED]"
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
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![0-9A-Fa-f:.])")
_IP_HINT = re.compile(r"\d\.\d|::|[0-9A-Fa-f]:[0-9A-Fa-f]{1,4}:")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Text with none of these (lower-cased) markers and no 4-digit run is clean: returned as is.
_MARKERS = ("bearer", "basic", "token", "eyj", "=", "://", "akia", "asia", "agpa", "aida", "aroa",
            "anpa", "anva", "aipa", "-----begin")
_DIGITS = re.compile(r"\d{4}")


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
                return MASK
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


Rule = tuple[Callable[[str], bool], Callable[[str], str]]


class ValueRedactor:
    """Masks secrets found in strings. ``redact(text)`` returns the text unchanged when clean."""

    def __init__(self, *, emails: bool = True, secrets: Iterable[str] = (), ip: str = "mask") -> None:
        if ip not in ("mask", "truncate"):
            raise ValueError(f"ip: expected 'mask' or 'truncate', got {ip!r}")
        self.emails = emails
        self._secrets: Optional[re.Pattern] = None
        rules: list[Rule] = [
            (lambda t: "-----BEGIN" in t, lambda t: _PRIVATE_KEY.sub(MASK, t)),
            (lambda t: "eyJ" in t, lambda t: _JWT.sub(MASK, t)),
            (lambda t: True, lambda t: _BEARER.sub(lambda m: m.group(1) + m.group(2) + MASK, t)),
            (lambda t: "=" in t, lambda t: _QUERY.sub(lambda m: m.group(1) + MASK, t)),
            (lambda t: "://" in t, lambda t: _URL_CREDENTIALS.sub(lambda m: m.group(1) + MASK + "@", t)),
            (lambda t: True, lambda t: _AWS_KEY.sub(MASK, t)),
            (lambda t: True, lambda t: _CARD.sub(_card, t)),
        ]
        if emails:
            rules.append((lambda t: "@" in t, lambda t: _EMAIL.sub(MASK, t)))
        address = _ip(truncate=ip == "truncate")
        rules.append((lambda t: _IP_HINT.search(t) is not None,
                      lambda t: _IPV4.sub(address, _IPV6.sub(address, t))))
        self._rules = tuple(rules)
        self._markers = _MARKERS + (("@",) if emails else ())
        self.register(secrets)

    def register(self, secrets: Iterable[str]) -> None:
        """Add literal values that must never be written (e.g. everything in ``st.secrets``)."""
        known = set(self._secrets.pattern.split("|")) if self._secrets is not None else set()
        fresh = {re.escape(s) for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH}
        if fresh - known:
            # Longest first, so a secret that contains another is masked whole.
            alternatives = sorted(known | fresh, key=len, reverse=True)
            self._secrets = re.compile("|".join(alternatives))

    def redact(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(MASK, text)
        lowered = text.lower()
        if (not any(marker in lowered for marker in self._markers) and _DIGITS.search(text) is None
                and _IP_HINT.search(text) is None):
            return text
        for applies, apply in self._rules:
            if applies(text):
                text = apply(text)
        return text
