"""Turn any value into strict-JSON-safe data, redacting secret keys on the way.

loguru's ``serialize=True`` drops a record whose extras are cyclic or have tuple keys, and writes
a bare ``NaN``; this step makes both formats safe. Containers are always copied, so the app's
own objects are never changed.
"""

from __future__ import annotations

import datetime
import math
from typing import Any, Optional

from .redaction import REDACTED, KeyRedactor

MAX_DEPTH = 32
DEPTH_MARKER = "[depth limit]"
CYCLE_MARKER = "[cycle]"

_PLAIN = (str, int, bool, type(None))


def _float(value: float) -> Any:
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _text(value: Any) -> str:
    try:
        return str(value)
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


def json_safe(value: Any, redactor: Optional[KeyRedactor], depth: int = 0, path: Optional[set] = None) -> Any:
    """A JSON-safe copy of ``value``; secret keys (per ``redactor``) become ``[REDACTED]``."""
    cls = type(value)
    if cls in _PLAIN:
        return value
    if cls is float:
        return _float(value)
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        if depth >= MAX_DEPTH:
            return DEPTH_MARKER
        if path is None:
            path = set()
        marker = id(value)
        if marker in path:
            return CYCLE_MARKER
        path.add(marker)
        try:
            if isinstance(value, dict):
                out = {}
                for key, item in value.items():
                    name = key if type(key) is str else _text(key)
                    if redactor is not None and redactor.is_secret(name):
                        out[name] = REDACTED
                    else:
                        out[name] = json_safe(item, redactor, depth + 1, path)
                return out
            return [json_safe(item, redactor, depth + 1, path) for item in value]
        finally:
            path.discard(marker)
    if isinstance(value, str):  # subclasses such as StrEnum: keep the plain value
        return str.__str__(value)
    if isinstance(value, int):  # IntEnum and friends
        return int(value)
    if isinstance(value, float):
        return _float(float(value))
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {_text(value)}"
    return _text(value)


def sanitize_extra(extra: dict, redactor: Optional[KeyRedactor]) -> None:
    """Make a record's ``extra`` dict JSON-safe in place (its top-level dict is per record)."""
    for key, value in extra.items():
        if redactor is not None and redactor.is_secret(key):
            extra[key] = REDACTED
        elif type(value) not in _PLAIN:
            extra[key] = json_safe(value, redactor)
