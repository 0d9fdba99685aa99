"""Which keys hold secrets.

A key matches a deny-listed term case-insensitively, whatever its separators (``api-key``,
``apiKey``, ``API_KEY``) and when the term is one part of a longer key (``db_password``,
``X-Auth-Token``). Short terms (``token``, ``ssn``) must be a whole part, so ``classname`` is
kept; longer ones also match inside a word (``dbpassword``). Value-pattern redaction (bearer
tokens, card numbers in messages) is a later step of the patcher.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

DEFAULT_REDACT_KEYS: frozenset[str] = frozenset(
    {
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "authorization",
        "cookie",
        "set_cookie",
        "private_key",
        "session_token",
        "credit_card",
        "card_number",
        "ssn",
    }
)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")
_SUBSTRING_MIN = 6  # terms this long also match inside a word
_CACHE_LIMIT = 10_000


def _normalize(key: str) -> str:
    return _SEPARATORS.sub("_", _CAMEL.sub("_", key).lower()).strip("_")


class KeyRedactor:
    """Decides, with a cache, whether a mapping key names a secret."""

    def __init__(self, keys: Iterable[str] = DEFAULT_REDACT_KEYS) -> None:
        if isinstance(keys, str):
            raise ValueError("redact_keys: expected an iterable of key names, not a single str")
        terms = {_normalize(str(k)) for k in keys} - {""}
        self.keys: frozenset[str] = frozenset(terms)
        self._parts = tuple(f"_{t}_" for t in terms)
        self._joined = tuple(t.replace("_", "") for t in terms if len(t) >= _SUBSTRING_MIN)
        self._cache: dict[str, bool] = {}
        # The cached answer for a key, or None: a hot loop reads this before calling is_secret().
        self.cached: Callable[[str], bool | None] = self._cache.get

    def is_secret(self, key: str) -> bool:
        try:
            return self._cache[key]
        except KeyError:
            pass
        norm = _normalize(key)
        padded = f"_{norm}_"
        squashed = norm.replace("_", "")
        result = any(p in padded for p in self._parts) or any(j in squashed for j in self._joined)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = result
        return result
