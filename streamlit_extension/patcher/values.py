"""Patcher step: secrets recognised by their shape, wherever they appear in text.

Key redaction (``redaction``) catches ``{"password": ...}``; this catches the same secrets
inside messages, metadata values, exception messages and tracebacks: bearer tokens, JWTs,
``key=value`` secrets in URLs and query strings, credentials in URLs, AWS access keys,
private-key blocks, card numbers (Luhn-checked, so ordinary numbers survive), e-mail addresses
(on by default) and any literal value registered as secret (``st.secrets``). Each pattern runs
only when a cheap marker is present, so ordinary text costs a few substring checks.
"""

from __future__ import annotations

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
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
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
    digits = re.sub(r"[ -]", "", match.group())
    return MASK if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group()


Rule = tuple[Callable[[str], bool], Callable[[str], str]]


class ValueRedactor:
    """Masks secrets found in strings. ``redact(text)`` returns the text unchanged when clean."""

    def __init__(self, *, emails: bool = True, secrets: Iterable[str] = ()) -> None:
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
        if not any(marker in lowered for marker in self._markers) and _DIGITS.search(text) is None:
            return text
        for applies, apply in self._rules:
            if applies(text):
                text = apply(text)
        return text
