"""Turn any value into strict-JSON-safe, bounded, redacted data.

loguru's ``serialize=True`` drops a record whose extras are cyclic or have tuple keys, and writes
a bare ``NaN``; this step makes both formats safe. It also masks secrets (by key, and by shape
in every string), and caps what one value and one record may weigh, so a DataFrame or a 50 MB
string can't blow up a line. Containers are always copied: the app's own objects never change.
"""

from __future__ import annotations

import copy
import datetime
import math
from typing import Any, Optional

from .redaction import REDACTED, KeyRedactor
from .values import ValueRedactor

MAX_DEPTH = 32
MAX_FIELD_CHARS = 64 * 1024
MAX_RECORD_CHARS = 512 * 1024
DEPTH_MARKER = "[depth limit]"
CYCLE_MARKER = "[cycle]"
BUDGET_MARKER = "[truncated: record size limit]"

_PLAIN = (str, int, bool, type(None))
# Fields we generate or validate ourselves: never scanned for secret shapes.
OWN_FIELDS = frozenset({
    "correlation_id", "session_id", "user_id", "operation", "operation_id", "parent_operation_id",
    "event", "page", "request_id", "trace_id", "logger_name", "duration_ms", "success",
})


def _float(value: float) -> Any:
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _text(value: Any) -> str:
    try:
        return str(value)
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


class Sanitizer:
    """Redacts, bounds and JSON-proofs a record's message and extras."""

    def __init__(self, keys: Optional[KeyRedactor] = None, values: Optional[ValueRedactor] = None, *,
                 max_field: int = MAX_FIELD_CHARS, max_record: int = MAX_RECORD_CHARS, max_depth: int = MAX_DEPTH) -> None:
        self.keys = keys
        self.values = values
        self.max_field = max_field
        self.max_record = max_record
        self.max_depth = max_depth

    def string(self, text: str, budget: list[int]) -> str:
        if self.values is not None:
            text = self.values.redact(text)
        if len(text) > self.max_field:
            text = f"{text[: self.max_field]}…[truncated {len(text) - self.max_field} chars]"
        budget[0] -= len(text)
        return text if budget[0] >= 0 else BUDGET_MARKER

    def value(self, value: Any, budget: list[int], depth: int = 0, path: Optional[set] = None) -> Any:
        """A JSON-safe copy of ``value``."""
        cls = type(value)
        if cls is str:
            return self.string(value, budget)
        if cls in _PLAIN:
            return value
        if cls is float:
            return _float(value)
        if isinstance(value, (dict, list, tuple, set, frozenset)):
            if depth >= self.max_depth:
                return DEPTH_MARKER
            if budget[0] <= 0:
                return BUDGET_MARKER
            path = set() if path is None else path
            marker = id(value)
            if marker in path:
                return CYCLE_MARKER
            path.add(marker)
            try:
                if isinstance(value, dict):
                    out = {}
                    for key, item in value.items():
                        name = key if type(key) is str else _text(key)
                        if self.keys is not None and self.keys.is_secret(name):
                            out[name] = REDACTED
                        else:
                            out[name] = self.value(item, budget, depth + 1, path)
                    return out
                return [self.value(item, budget, depth + 1, path) for item in value]
            finally:
                path.discard(marker)
        if isinstance(value, str):  # subclasses such as StrEnum: keep the plain value
            return self.string(str.__str__(value), budget)
        if isinstance(value, int):  # IntEnum and friends
            return int(value)
        if isinstance(value, float):
            return _float(float(value))
        if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
            return value.isoformat()
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self.string(bytes(value[: self.max_field]).decode("utf-8", "backslashreplace"), budget)
        if isinstance(value, BaseException):
            return self.string(f"{type(value).__name__}: {_text(value)}", budget)
        return self.string(_text(value), budget)

    def extra(self, extra: dict, budget: Optional[list[int]] = None) -> None:
        """Make a record's ``extra`` dict safe in place (its top-level dict is per record)."""
        budget = budget if budget is not None else [self.max_record]
        keys, max_field = self.keys, self.max_field
        # The key cache is read inline: this loop runs for every field of every record.
        secret = keys._cache.get if keys is not None else None
        for key, item in extra.items():
            cls = type(item)
            if key in OWN_FIELDS and cls in _PLAIN and (cls is not str or len(item) <= max_field):
                continue  # ids and names we set or validated ourselves
            if secret is not None:
                hidden = secret(key)
                if hidden is None:
                    hidden = keys.is_secret(key)
                if hidden:
                    extra[key] = REDACTED
                    continue
            if cls is str:
                extra[key] = self.string(item, budget)
            elif cls not in _PLAIN:
                extra[key] = self.value(item, budget)

    def record(self, record: dict) -> None:
        """Message, extras and the attached exception of a loguru record."""
        budget = [self.max_record]
        message = record["message"]
        if type(message) is str:
            record["message"] = self.string(message, budget)
        self.extra(record["extra"], budget)
        exception = record["exception"]
        if exception is not None and exception.value is not None and self.values is not None:
            record["exception"] = _redacted_exception(exception, self.values)


def _redacted_exception(exception: Any, values: ValueRedactor) -> Any:
    """The record's exception with a masked message, for sinks that print loguru's own view."""
    original = exception.value
    text = _text(original)
    masked = values.redact(text)
    if masked == text:
        return exception
    try:
        clone = copy.copy(original)
        clone.args = (masked,)
        if _text(clone) != masked:
            raise TypeError("custom __str__")
    except Exception:
        clone = Exception(masked)
    clone.__cause__, clone.__context__ = original.__cause__, original.__context__
    clone.__traceback__ = original.__traceback__
    return type(exception)(exception.type, clone, exception.traceback)


_PLAIN_SANITIZER = Sanitizer()


def json_safe(value: Any, redactor: Optional[KeyRedactor] = None) -> Any:
    """A JSON-safe copy of ``value`` (secret keys masked if ``redactor`` is given)."""
    sanitizer = _PLAIN_SANITIZER if redactor is None else Sanitizer(redactor)
    return sanitizer.value(value, [sanitizer.max_record])
