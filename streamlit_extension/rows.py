"""The flat row: one record as a dict, ``schema.FLAT_FIELDS`` in order, then its other extras.

Writers build it from a loguru record (the ``json_format="flat"`` sink, and the ``records_lost``
record a file sink writes in that format) and from a stdlib ``LogRecord`` (``JSONFormatter``);
readers build it from a parsed line of either file format (``logs.reader``, archive manifests).
One builder, so the columns, their order and where a clashing extra goes are the same wherever
a row is made. Encoding a row as a line is the flat sink's (``sinks.flat``).
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from .schema import ANONYMOUS, CORRELATION_FIELDS, FLAT_FIELDS, OPERATION_FIELDS

if TYPE_CHECKING:
    import logging

    from loguru import Record

Row = dict[str, Any]

# Extras never copied to the top level: the flat fields, ``logger_name`` (written as ``logger``)
# and ``extra`` (the clashes' own key).
_RESERVED = frozenset(FLAT_FIELDS) | {"logger_name", "extra"}
# The columns the patcher and operations set in extra; the others come from the record itself.
_FROM_EXTRA = CORRELATION_FIELDS + OPERATION_FIELDS

# Every row starts as a copy of this: its keys already in order, so setting them never resizes.
_EMPTY: Row = dict.fromkeys(FLAT_FIELDS)

_UTC = datetime.timezone.utc
_DATETIME = datetime.datetime
# The last second formatted, most records share it: the time's own fields, type and zone (None:
# not to be reused), and its UTC text. Keyed on the fields, not on timestamp(), which cost more
# than the rest of this function.
_second: tuple[tuple[Any, ...] | None, str] = (None, "")
# Within this many seconds of the epoch a float timestamp never rounds a microsecond into the
# next second, so a second's text holds for all its microseconds.
_EXACT_SECONDS = 1 << 32


def iso_utc(moment: datetime.datetime) -> str:
    """``2024-05-01T12:00:00.123456Z``: UTC, microseconds (naive means UTC).

    Microseconds, not milliseconds: an operation shorter than a millisecond still lies inside its
    parent on a timeline.
    """
    global _second
    zone = moment.tzinfo
    key = (moment.second, moment.minute, moment.hour, moment.day, moment.month, moment.year, zone, type(moment))
    cached = _second
    if cached[0] != key:
        cached = _second = _second_of(moment, key)
    return f"{cached[1]}.{moment.microsecond:06d}Z"


def _second_of(moment: datetime.datetime, key: tuple[Any, ...]) -> tuple[tuple[Any, ...] | None, str]:
    zone = moment.tzinfo
    if zone is None:
        moment = moment.replace(tzinfo=_UTC)
    second = math.floor(moment.timestamp())
    text = datetime.datetime.fromtimestamp(second, _UTC).strftime("%Y-%m-%dT%H:%M:%S")
    # Reused only where the fields decide the second: a fixed offset of whole seconds, datetime's
    # own arithmetic.
    kind = type(moment)
    fixed = zone is None or (type(zone) is datetime.timezone and not zone.utcoffset(None).microseconds)
    reusable = (fixed and -_EXACT_SECONDS < second < _EXACT_SECONDS
                and kind.timestamp is _DATETIME.timestamp and kind.utcoffset is _DATETIME.utcoffset
                and kind.replace is _DATETIME.replace)
    return (key if reusable else None, text)


def add_extras(out: Row, extra: Mapping[str, Any]) -> Row:
    """Copy the record's other extras to the top level; a name clash goes under ``extra``."""
    clashes = None
    for key, value in extra.items():
        if key in _RESERVED:
            continue
        if key in out:
            clashes = clashes or {}
            clashes[key] = value
        else:
            out[key] = value
    if clashes:
        out["extra"] = clashes
    return out


def _row(timestamp: str, level: Any, message: Any, extra: Mapping[str, Any],
         logger: Any, module: Any, function: Any, line: Any) -> Row:
    """The row itself: every writer and reader comes here with the record's own fields."""
    out = _EMPTY.copy()
    out["timestamp"] = timestamp
    out["level"] = level
    out["message"] = message
    get = extra.get
    for key in _FROM_EXTRA:
        out[key] = get(key)
    out["logger"] = logger
    out["module"] = module
    out["function"] = function
    out["line"] = line
    return add_extras(out, extra)


def from_loguru(record: Record) -> Row:
    """The row of a loguru record (after our patcher: the correlation fields are in extra)."""
    extra = record["extra"]
    return _row(iso_utc(record["time"]), record["level"].name, record["message"], extra,
                extra.get("logger_name") or record["name"], record["module"], record["function"], record["line"])


def from_stdlib(record: logging.LogRecord, message: str, extra: dict[str, Any]) -> Row:
    """The row of a stdlib record formatted outside loguru, with ``message`` and ``extra`` as the
    caller sanitised them. No patcher ran: an unknown user is ``anonymous`` here."""
    moment = datetime.datetime.fromtimestamp(record.created, _UTC)
    out = _row(iso_utc(moment), record.levelname, message, extra,
               record.name, record.module, record.funcName, record.lineno)
    if out["user_id"] is None:
        out["user_id"] = ANONYMOUS
    return out


# What parsing a malformed line raises (bad JSON or UTF-8, too deep, a field of the wrong kind):
# readers count it as damage.
DAMAGE = (ValueError, RecursionError, KeyError, TypeError, AttributeError)
_DIGITS_AS_NINES = bytes.maketrans(b"0123456789", b"9" * 10)
_NINETEEN_DIGITS = b"9" * 19


def loads(line: bytes) -> Any:
    """``json.loads`` of one line, through orjson (several times faster) where that reads the
    same: orjson refuses NaN and reads an int past 64 bits as a float, so a line with either (or
    with any run of 19 digits, which is how such an int looks) goes to ``json``."""
    # A run of 19 digits, found without a regex (translate and find are ~10x faster per line).
    if line.translate(_DIGITS_AS_NINES).find(_NINETEEN_DIGITS) == -1:
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError:
            pass
    return json.loads(line)


def from_line(obj: Any) -> Row | None:
    """A parsed line of either format as a row, or None if it isn't one of our records.

    A line of our shape with a field missing or malformed raises (one of ``DAMAGE``): readers
    count it as damage.
    """
    if not isinstance(obj, dict):
        return None
    record = obj.get("record")
    if "text" in obj and isinstance(record, dict):  # loguru's serialize=True
        return _from_serialized(record)
    timestamp = obj.get("timestamp")
    if isinstance(timestamp, str) and "level" in obj:  # the flat format
        if len(timestamp) != 27 or timestamp[-1] != "Z":  # not ours (µs, Z): milliseconds before 0.2, another tool's
            obj["timestamp"] = _uniform_time(timestamp)
        return obj
    return None


def _uniform_time(timestamp: str) -> str:
    """Another writer's ISO time as ours (``09:00:00Z`` → ``09:00:00.000000Z``), so that it sorts,
    compares and prints like every other; a time that can't be read is left as it is."""
    try:
        return iso_utc(datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00")))
    except ValueError:
        return timestamp


def _from_serialized(record: dict[str, Any]) -> Row:
    extra = record.get("extra") or {}
    moment = datetime.datetime.fromtimestamp(float(record["time"]["timestamp"]), _UTC)
    out = _row(iso_utc(moment), record["level"]["name"], record.get("message"), extra,
               extra.get("logger_name") or record.get("name"), record.get("module"), record.get("function"),
               record.get("line"))
    exception = record.get("exception")
    if out["error"] is None and isinstance(exception, dict):  # plain loguru's line, or an exception without a value
        out["error"] = {"type": exception.get("type"), "message": exception.get("value"), "traceback": None}
    return out
