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
import sys
from typing import TYPE_CHECKING, Any

from ..errors import safe_str
from ..pseudonyms import user_id_of
from ..schema import OWN_FIELDS, REDACTED
from ..validators import is_valid_id
from .redaction import KeyRedactor
from .values import ValueRedactor

if TYPE_CHECKING:
    from loguru import Record

MAX_DEPTH = 32
MAX_FIELD_CHARS = 64 * 1024
MAX_RECORD_CHARS = 512 * 1024
DEPTH_MARKER = "[depth limit]"
CYCLE_MARKER = "[cycle]"
BUDGET_MARKER = "[truncated: record size limit]"
BUDGET_KEY = "…"  # where a mapping cut at the record limit says so

_PLAIN = (str, int, bool, type(None))
_CLEAN_LIMIT = 4096


# str() and json refuse ints beyond this many digits (ValueError): such a value is written in hex.
_MAX_DIGITS = getattr(sys, "get_int_max_str_digits", lambda: 0)() or None
_BIG_INT_BITS = int(_MAX_DIGITS * 3.32) if _MAX_DIGITS else None  # below this, every int prints


def _int(value: int) -> Any:
    """``value``, or for one too long to print, its first 64 hex digits and its length."""
    if _BIG_INT_BITS is None or value.bit_length() < _BIG_INT_BITS or abs(value) < 10 ** (_MAX_DIGITS or 0):
        return value
    digits = hex(value)
    sign = "-" if digits.startswith("-") else ""
    digits = digits.lstrip("-")[2:]
    return f"{sign}0x{digits[:64]}…[int of {len(digits)} hex digits]"


def _cost(value: Any) -> int:
    """About how many characters a plain non-string value takes in JSON."""
    if type(value) is int:
        return value.bit_length() * 30103 // 100000 + 2
    return 6  # true, false, null


def _float(value: float) -> Any:
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


class Sanitizer:
    """Redacts, bounds and JSON-proofs a record's message and extras."""

    def __init__(self, keys: KeyRedactor | None = None, values: ValueRedactor | None = None, *,
                 max_field: int = MAX_FIELD_CHARS, max_record: int = MAX_RECORD_CHARS,
                 max_depth: int = MAX_DEPTH) -> None:
        self.keys = keys
        self.values = values
        self.max_field = max_field
        self.max_record = max_record
        self.max_depth = max_depth
        self._clean: dict[str, None] = {}  # id and name values already found plain

    def string(self, text: str, budget: list[int]) -> str:
        if self.values is not None:
            text = self.values.redact(text)
        if len(text) > self.max_field:
            text = f"{text[: self.max_field]}…[truncated {len(text) - self.max_field} chars]"
        budget[0] -= len(text)
        return text if budget[0] >= 0 else BUDGET_MARKER

    def _own_field(self, key: str, value: str, budget: list[int]) -> str:
        """An id or name field: a plain id stays (and is remembered); anything else is a value
        an app bound itself, so an e-mail ``user_id`` becomes its pseudonym and the rest is
        scanned like any text."""
        if len(value) <= 128 and "@" not in value and is_valid_id(value):
            if len(self._clean) >= _CLEAN_LIMIT:
                self._clean.clear()
            self._clean[value] = None
            return value
        if key == "user_id":
            return user_id_of(value) or value
        return self.string(value, budget)

    def key(self, key: Any, budget: list[int]) -> str:
        """A mapping key as JSON needs it: a string, scanned and capped like a value."""
        name = key if type(key) is str else safe_str(key)
        if self.values is not None:
            name = self.values.redact(name)
        if len(name) > self.max_field:
            name = f"{name[: self.max_field]}…[truncated {len(name) - self.max_field} chars]"
        budget[0] -= len(name) + 4
        return name

    def value(self, value: Any, budget: list[int], depth: int = 0, path: set | None = None) -> Any:
        """A JSON-safe copy of ``value``."""
        cls = type(value)
        if cls is str:
            return self.string(value, budget)
        if cls in _PLAIN:
            budget[0] -= _cost(value)
            if budget[0] < 0:
                return BUDGET_MARKER
            return _int(value) if cls is int else value
        if cls is float:
            budget[0] -= 24
            return _float(value) if budget[0] >= 0 else BUDGET_MARKER
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
                        if budget[0] <= 0:  # one marker for the rest, not one per item
                            out[BUDGET_KEY] = BUDGET_MARKER
                            break
                        name = self.key(key, budget)
                        if self.keys is not None and self.keys.is_secret(name):
                            out[name] = REDACTED
                        else:
                            out[name] = self.value(item, budget, depth + 1, path)
                    return out
                items = []
                for item in value:
                    if budget[0] <= 0:
                        items.append(BUDGET_MARKER)
                        break
                    items.append(self.value(item, budget, depth + 1, path))
                return items
            finally:
                path.discard(marker)
        if isinstance(value, str):  # subclasses such as StrEnum: keep the plain value
            return self.string(str.__str__(value), budget)
        if isinstance(value, int):  # IntEnum and friends
            return self.value(int(value), budget)
        if isinstance(value, float):
            return _float(float(value))
        if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
            return value.isoformat()
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self._bytes(value, budget)
        if isinstance(value, BaseException):
            return self.string(f"{type(value).__name__}: {safe_str(value)}", budget)
        return self.string(safe_str(value), budget)

    def _bytes(self, value: bytes | bytearray | memoryview, budget: list[int]) -> str:
        """UTF-8 text of at most ``max_field`` bytes (others escaped), saying how many were cut."""
        view = memoryview(value)
        try:
            view = view.cast("B")
        except TypeError:  # not contiguous: sliced by its own items
            pass
        head = bytes(view[: self.max_field])
        text = self.string(head.decode("utf-8", "backslashreplace"), budget)
        cut = view.nbytes - len(head)
        if cut > 0 and text != BUDGET_MARKER:
            text = f"{text}…[truncated {cut} bytes]"
        return text

    def extra(self, extra: dict, budget: list[int] | None = None) -> None:
        """Make a record's ``extra`` dict safe in place (its top-level dict is per record)."""
        budget = budget if budget is not None else [self.max_record]
        keys = self.keys
        # The key cache is read inline: this loop runs for every field of every record.
        secret = keys.cached if keys is not None else None
        renamed = None
        clean = self._clean
        for key, item in extra.items():
            cls = type(item)
            if key in OWN_FIELDS and cls in _PLAIN:
                if cls is not str or item in clean:
                    continue  # ids and names we set or checked before
                fixed = self._own_field(key, item, budget)
                if fixed is not item:
                    extra[key] = fixed
                continue
            if len(key) > 64 or not key.isidentifier():  # not a keyword argument's name: scan it
                name = self.key(key, budget)
                if name != key:
                    renamed = renamed or {}
                    renamed[key] = name
            if secret is not None:
                hidden = secret(key)
                if hidden is None:
                    hidden = keys.is_secret(key)  # type: ignore[union-attr]  # secret is set only with keys
                if hidden:
                    extra[key] = REDACTED
                    continue
            if cls is str:
                extra[key] = self.string(item, budget)
            elif cls is bool or item is None:
                budget[0] -= 6
            else:
                extra[key] = self.value(item, budget)
            if budget[0] < 0 and cls in _PLAIN:
                extra[key] = BUDGET_MARKER
        if renamed:
            for old_key, new_key in renamed.items():
                extra[new_key] = extra.pop(old_key)

    def record(self, record: Record) -> None:
        """Message, extras and the attached exception of a loguru record."""
        budget = [self.max_record]
        message = record["message"]
        if type(message) is str:
            record["message"] = self.string(message, budget)
        self.extra(record["extra"], budget)
        exception = record["exception"]
        if exception is not None and exception.value is not None:
            record["exception"] = _redacted_exception(exception, self.values)


def _redacted_exception(exception: Any, values: ValueRedactor | None) -> Any:
    """The record's exception with a masked message, for sinks that print loguru's own view.

    One whose ``str()`` raises gets a stand-in that prints, or loguru's serializer would drop the
    whole record.
    """
    original = exception.value
    try:
        text, printable = str(original), True
    except Exception:
        text, printable = f"<unprintable {type(original).__name__}>", False
    masked = values.redact(text) if values is not None else text
    if printable and masked == text:
        return exception
    try:
        clone = copy.copy(original)
        clone.args = (masked,)
        if str(clone) != masked:  # raises too for a __str__ that raises: then the stand-in
            raise TypeError("custom __str__")
    except Exception:
        clone = Exception(masked)
    clone.__cause__, clone.__context__ = original.__cause__, original.__context__
    clone.__traceback__ = original.__traceback__
    return type(exception)(exception.type, clone, exception.traceback)


_PLAIN_SANITIZER = Sanitizer()


def json_safe(value: Any, redactor: KeyRedactor | None = None) -> Any:
    """A JSON-safe copy of ``value`` (secret keys masked if ``redactor`` is given)."""
    sanitizer = _PLAIN_SANITIZER if redactor is None else Sanitizer(redactor)
    return sanitizer.value(value, [sanitizer.max_record])
