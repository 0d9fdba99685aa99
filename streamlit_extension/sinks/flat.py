"""The flat JSON schema: the original spec's fields at the top level, one line per record.

Shared by the loguru ``json_format="flat"`` sink and the stdlib ``JSONFormatter``. Encoding is a
single ``json`` call on a small dict; anything unusual falls back to a sanitised copy, so a
record is never dropped and never written as invalid JSON.
"""

from __future__ import annotations

import datetime
import json
import math
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..patcher.redaction import KeyRedactor
from ..patcher.sanitize import json_safe
from ..schema import CORRELATION_FIELDS, FLAT_FIELDS, OPERATION_FIELDS

if TYPE_CHECKING:
    from loguru import Record

_RESERVED = frozenset(FLAT_FIELDS) | {"logger_name", "extra"}
# The columns the patcher and operations set; the writer fills the others from loguru's record.
_FROM_EXTRA = CORRELATION_FIELDS + OPERATION_FIELDS

_UTC = datetime.timezone.utc
_json_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode

_orjson: ModuleType | None
try:  # a required dependency now; kept optional here so a broken install still writes lines
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised by forcing _orjson = None in tests
    _orjson = None


def _encode(obj: Any) -> str:
    if _orjson is not None:
        try:
            return _orjson.dumps(obj).decode()
        except (TypeError, ValueError):  # odd keys or types: the stdlib path decides
            pass
    return _json_encode(obj)


_second: tuple[int, str] = (-1, "")  # the last second formatted: most records share it


def iso_utc(moment: datetime.datetime) -> str:
    """``2024-05-01T12:00:00.123456Z``: UTC, microseconds (naive means UTC).

    Microseconds, not milliseconds: an operation shorter than a millisecond still lies inside its
    parent on a timeline.
    """
    global _second
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_UTC)
    second = math.floor(moment.timestamp())
    cached = _second
    if cached[0] != second:
        cached = _second = (second, datetime.datetime.fromtimestamp(second, _UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{cached[1]}.{moment.microsecond:06d}Z"


def add_extras(out: dict, extra: dict) -> dict:
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


def encode_line(obj: dict, redactor: KeyRedactor | None = None) -> str:
    """One strict-JSON line without the newline. Never raises for odd values."""
    try:
        line = _encode(obj)
    except (TypeError, ValueError, RecursionError):
        line = _json_encode(json_safe(obj, redactor))
    return line


def flat_from_loguru(record: Record) -> dict[str, Any]:
    """The flat row of a loguru record: ``schema.FLAT_FIELDS`` in order, then the other extras."""
    extra = record["extra"]
    get = extra.get
    out: dict[str, Any] = {
        "timestamp": iso_utc(record["time"]),
        "level": record["level"].name,
        "message": record["message"],
    }
    for key in _FROM_EXTRA:
        out[key] = get(key)
    out["logger"] = get("logger_name") or record["name"]
    out["module"] = record["module"]
    out["function"] = record["function"]
    out["line"] = record["line"]
    return add_extras(out, extra)


def flat_line(record: Record, redactor: KeyRedactor | None = None) -> str:
    """The whole flat line of ``record``, newline included."""
    return encode_line(flat_from_loguru(record), redactor) + "\n"


# The "text" of loguru's serialized line: its default layout, minus "{exception}", which would
# render the exception outside our redaction (extra.error carries the masked traceback).
LOGURU_TEXT = "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {name}:{function}:{line} - {message}\n"


def loguru_text_format(record: Record) -> str:
    return LOGURU_TEXT


def make_flat_format(redactor: KeyRedactor | None):
    """A loguru ``format`` function writing the flat line (loguru's file sink stays in use)."""

    def flat_format(record: Record) -> str:
        try:
            line = encode_line(flat_from_loguru(record), redactor)
        except Exception:
            line = _json_encode(
                {
                    "timestamp": iso_utc(record["time"]),
                    "level": record["level"].name,
                    "message": json_safe(record["message"], None),
                    "extra": "[unserializable]",
                }
            )
        # A top-level record key, not extra: loguru's own serialize never copies it.
        own: dict[str, Any] = record  # type: ignore[assignment]  # (so it isn't in loguru's Record type)
        own["se_flat"] = line
        return "{se_flat}\n"

    return flat_format
