"""Patcher step: secrets recognised by their shape, wherever they appear in text.

Key redaction (``redaction``) catches ``{"password": ...}``; this catches the same secrets
inside messages, metadata values, exception messages and tracebacks: bearer tokens, JWTs,
``name=value`` secrets in URLs and query strings (the name judged by the key deny-list),
credentials in URLs, AWS access keys, private-key blocks, card numbers (Luhn-checked, so
ordinary numbers survive), e-mail addresses (on by default), IP addresses (masked, or truncated
to their /24 or /48 network when IP logging is on) and any literal value registered as secret
(``st.secrets``).

Each shape is one ``Rule`` in ``rules()``: its regex, its replacement and the cheap tests that
decide whether it can apply at all (a few substring tests on the lower-cased text, a digit
count). Short strings (ids, keys, page names) are memoised, so ordinary text costs a few
microseconds at most.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeAlias

from ..schema import REDACTED
from .redaction import KeyRedactor

MIN_SECRET_LENGTH = 6  # shorter registered values would mask ordinary words
# Names that hold secrets in URLs and query strings but are too common as record keys (``key``,
# ``auth``) for the key deny-list; matched against the name's last ``.``/``-`` part.
QUERY_ONLY_KEYS = frozenset({"pwd", "key", "auth", "sig", "signature", "accesstoken", "refreshtoken", "idtoken"})

_BEARER = re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{8,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# Any name=value (the name decides), the value bare or quoted: api_key="abc" is a secret too.
# Each pattern that scans a run of characters may start only where such a run starts: a start at
# every character of a long run would rescan it each time (seconds for one 64 KiB value).
_QUERY = re.compile(r"(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]+)=([\"']?)[^&\s#;\"']+")
_NAME_PARTS = re.compile(r"[.-]")
_URL_CREDENTIALS = re.compile(r"(?i)(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@")
_AWS_PREFIXES = ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA")
_AWS_KEY = re.compile(rf"\b(?:{'|'.join(_AWS_PREFIXES)})[A-Z0-9]{{16}}\b")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|.*)", re.S)
_CARD = re.compile(r"\d(?:[ -]?\d){12,}")  # any run of 13+ digits, spaces or dashes between
_CARD_HINT = re.compile(r"\d[\d -]{12}")  # a loose, cheap superset of a 13-digit run
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\d.])(?:{_OCTET}\.){{3}}{_OCTET}(?![\d./])")
# Not starting inside a word: ``Foo::bar`` and ``std::vector`` are code paths, not addresses.
_IPV6 = re.compile(
    r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![0-9A-Fa-f:./])"
)
# An IPv6 address written as host:port without brackets (uvicorn's access lines: "::1:54321").
_IPV6_PORT = re.compile(r"(?<![\w:])((?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}):(\d{1,5})(?![0-9A-Fa-f:.])")
_IP_HINT = re.compile(r"\d\.\d|[0-9A-Fa-f]:[0-9A-Fa-f]{1,4}:")
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a string of ASCII digits (what card numbers satisfy)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    """Mask the run if a 13-19 digit stretch of it looks like a card: it starts a group (or
    anywhere in an unseparated run), its first digit is 2-6 (the card networks), and it passes
    Luhn. A card glued to other digits is caught; UUIDs and long zero runs are not."""
    text = match.group()
    groups = re.split(r"[ -]", text)
    digits = "".join(groups)
    if digits.count(digits[0]) == len(digits):  # one digit repeated (a zero run): never a card
        return text
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



def _ip(truncate: bool) -> Callable[[re.Match[str]], str]:
    """Mask an IP address, or with ``truncate`` keep its network (/24 for IPv4, /48 for IPv6)."""

    def replace(match: re.Match[str]) -> str:
        text = match.group()
        try:
            address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(text)
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


def _with_port(address: Callable[[re.Match[str]], str]) -> Callable[[re.Match[str]], str]:
    """Apply ``address`` to the host part of an unbracketed ``ipv6:port``; keep the port."""

    def replace(match: re.Match[str]) -> str:
        host = _IPV6.fullmatch(match.group(1))
        if host is None or _is_address(match.group()):  # then ":7334" is its last group, not a port
            return match.group()
        masked = address(host)
        return match.group() if masked == match.group(1) else f"{masked}:{match.group(2)}"

    return replace


def _query(keys: KeyRedactor) -> Callable[[re.Match[str]], str]:
    """Mask the value of a ``name=value`` pair whose name is a secret's."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if _NAME_PARTS.split(name)[-1].lower() in QUERY_ONLY_KEYS or keys.is_secret(name):
            return f"{name}={match.group(2)}{REDACTED}"
        return match.group()

    return replace


def _after_scheme(match: re.Match[str]) -> str:
    """``Bearer abc...`` -> ``Bearer [REDACTED]``: the scheme and its spacing stay."""
    return match.group(1) + match.group(2) + REDACTED


def _after_user(match: re.Match[str]) -> str:
    """``https://ann:pw@host`` -> ``https://ann:[REDACTED]@host``."""
    return match.group(1) + REDACTED + "@"


Replacement: TypeAlias = str | Callable[[re.Match[str]], str]


@dataclass(frozen=True, eq=False)
class Rule:
    """One secret shape.

    It runs on a text when one of its ``triggers`` (lower-case substrings) occurs there, or when
    the text has at least ``min_digits`` digits, contains ``needs`` (if set), and ``hint`` (a
    loose, cheap regex) matches.
    Then every match of ``pattern`` is replaced with ``replace`` (a string or a function of the
    match, returning the match's own text to keep it).
    """

    name: str
    pattern: re.Pattern[str]
    replace: Replacement
    triggers: tuple[str, ...] = ()
    hint: re.Pattern[str] | None = None
    min_digits: int = 1
    needs: str = ""


def rules(*, emails: bool = True, ip: str = "mask", keys: KeyRedactor | None = None) -> tuple[Rule, ...]:
    """The rules in the order they run (a private-key block or a JWT is masked whole before its
    parts could match another rule). A new secret shape is one more entry here."""
    address = _ip(truncate=ip == "truncate")
    table = (
        Rule("pem", _PRIVATE_KEY, REDACTED, triggers=("-----begin",)),
        Rule("jwt", _JWT, REDACTED, triggers=("eyj",)),
        Rule("bearer", _BEARER, _after_scheme, triggers=("bearer", "basic", "token")),
        Rule("query", _QUERY, _query(keys or KeyRedactor()), triggers=("=",)),
        Rule("url", _URL_CREDENTIALS, _after_user, triggers=("://",)),
        Rule("aws", _AWS_KEY, REDACTED, triggers=tuple(p.lower() for p in _AWS_PREFIXES)),
        Rule("card", _CARD, _card, hint=_CARD_HINT, min_digits=13),
        Rule("email", _EMAIL, REDACTED, triggers=("@",)),
        # An unbracketed ipv6:port first, so its port isn't taken for the address's last group.
        Rule("ipv6-port", _IPV6_PORT, _with_port(address), triggers=("::",), hint=_IP_HINT, needs=":"),
        Rule("ipv6", _IPV6, address, triggers=("::",), hint=_IP_HINT, needs=":"),
        Rule("ipv4", _IPV4, address, hint=_IP_HINT, needs="."),
    )
    return tuple(rule for rule in table if emails or rule.name != "email")


_DIGIT = re.compile(r"\d")
_ASCII_DIGITS = b"0123456789"
_MANY = 1 << 30
_MEMO_LIMIT = 4096
_PASSES = 3  # a mask exposes at most a couple of glued secrets in turn
_MEMO_MAX_CHARS = 256  # ids, keys, page names and short messages repeat; long text rarely does
# A text's "shape": its ASCII digits all made 0. No trigger holds a digit and every hint treats
# the ten digits alike, so which rules a text needs depends on its shape only: "created client
# CL0000001" and "... CL0000002" need the same ones (none), and the second is known clean.
_ZERO_DIGITS = bytes.maketrans(b"0123456789", b"0" * 10)
_DIGIT_NEUTRAL = re.compile(r"0-9|\{\d+(?:,\d*)?\}")  # the parts of a hint that may name digits


class ValueRedactor:
    """Masks secrets found in strings. ``redact(text)`` returns the text unchanged when clean.

    ``keys`` judges the names of ``name=value`` pairs (by default the default key deny-list).
    """

    def __init__(self, *, emails: bool = True, secrets: Iterable[str] = (), ip: str = "mask",
                 keys: KeyRedactor | None = None) -> None:
        if ip not in ("mask", "truncate"):
            raise ValueError(f"ip: expected 'mask' or 'truncate', got {ip!r}")
        self.emails = emails
        self._rules = rules(emails=emails, ip=ip, keys=keys)
        self._triggered = tuple((trigger, rule) for rule in self._rules for trigger in rule.triggers)
        # Whether any trigger occurs, in one search: most text holds none, and one regex search is
        # cheaper in CPython than a substring test per trigger.
        self._any_trigger = re.compile("|".join(sorted({re.escape(t) for t, _ in self._triggered})))
        # Rules sharing a hint are tested together: one search decides for all of them.
        gates: dict[tuple[re.Pattern[str], int, str], list[Rule]] = {}
        for rule in self._rules:
            if rule.hint is not None:
                gates.setdefault((rule.hint, rule.min_digits, rule.needs), []).append(rule)
        self._gates = tuple((hint, min_digits, needs, tuple(gated))
                            for (hint, min_digits, needs), gated in gates.items())
        self._known: set[str] = set()
        self._secrets: re.Pattern[str] | None = None
        self._memo: dict[str, str] = {}
        # Shapes whose texts no rule applies to (see _ZERO_DIGITS); only if the rules allow it.
        self._clean_shapes: set[bytes] | None = set() if self._shapes_decide() else None
        self.register(secrets)

    def register(self, secrets: Iterable[str]) -> None:
        """Add literal values that must never be written (e.g. everything in ``st.secrets``)."""
        fresh = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH} - self._known
        if fresh:
            self._known |= fresh
            # Longest first, so a secret that contains another is masked whole.
            self._secrets = re.compile("|".join(re.escape(s) for s in sorted(self._known, key=len, reverse=True)))
            self._memo = {}

    def _shapes_decide(self) -> bool:
        """Whether a text's shape decides which rules it needs: no trigger holds a digit, and no
        hint names one (``0-9`` in a class and counted repeats aside; ``\\d`` matches them all)."""
        if any(char.isdigit() for trigger, _ in self._triggered for char in trigger):
            return False
        return not any(char.isdigit() for hint, _, needs, _ in self._gates
                       for char in _DIGIT_NEUTRAL.sub("", hint.pattern) + needs)

    def redact(self, text: str) -> str:
        if len(text) > _MEMO_MAX_CHARS:
            return self._redact(text)
        memo = self._memo
        done = memo.get(text)
        if done is not None:
            return done
        shapes = self._clean_shapes
        if shapes is not None and text.isascii():
            # Ids and counters differ in their digits only: a text shaped like one found clean
            # before is clean too, unless it holds a registered secret. Not memoised: such text
            # is mostly unique, and would only push out the strings that do repeat.
            shape = text.encode().translate(_ZERO_DIGITS)
            if self._secrets is None or self._secrets.search(text) is None:
                if shape in shapes:
                    return text
                if not self._chosen(text):
                    if len(shapes) >= _MEMO_LIMIT:
                        shapes.clear()
                    shapes.add(shape)
                    return text
        done = self._redact(text)
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[text] = done
        return done

    def _redact(self, text: str, passes: int = _PASSES) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        chosen = self._chosen(text)
        if chosen:
            before = text
            for rule in self._rules:
                if rule in chosen:
                    text = rule.pattern.sub(rule.replace, text)
            # A mask can open a word boundary a rule that already ran needs ("10.0.0.1AKIA…" is
            # "[IP]AKIA…" now): pass again while something changes, a bounded number of times.
            if text != before and passes > 1:
                text = self._redact(text, passes - 1)
        return text

    def _chosen(self, text: str) -> set[Rule] | None:
        """The rules that can apply to ``text``: cheap tests first, in one call frame."""
        lowered = text.lower()
        chosen = None
        if self._any_trigger.search(lowered) is not None:
            chosen = {rule for trigger, rule in self._triggered if trigger in lowered}
        if text.isascii():  # count the digits in C: a card needs 13, most text has fewer
            digits = len(text) - len(text.encode().translate(None, _ASCII_DIGITS))
        else:  # \d also matches other scripts' digits: let every hinted rule look
            digits = _MANY if _DIGIT.search(text) is not None else 0
        if digits:
            for hint, min_digits, needs, gated in self._gates:
                if digits >= min_digits and needs in text and hint.search(text) is not None:
                    chosen = chosen or set()
                    chosen.update(gated)
        return chosen
