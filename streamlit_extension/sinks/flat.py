"""The flat JSON schema: the original spec's fields at the top level, one line per record.

Shared by the loguru ``json_format="flat"`` sink and the stdlib ``JSONFormatter``. Encoding is a
single ``json`` call on a small dict; anything unusual falls back to a sanitised copy, so a
record is never dropped and never written as invalid JSON.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Optional

from ..patcher.redaction import KeyRedactor
from ..patcher.sanitize import json_safe

# Record fields every flat line carries, in this order (null when absent).
CORRELATION_FIELDS = ("correlation_id", "session_id", "user_id")
OPERATION_FIELDS = ("operation", "event", "duration_ms", "success", "metadata", "error")
SOURCE_FIELDS = ("logger", "module", "function", "line")
FLAT_FIELDS = ("timestamp", "level", "message", *CORRELATION_FIELDS, *OPERATION_FIELDS, *SOURCE_FIELDS)
_RESERVED = frozenset(FLAT_FIELDS) | {"logger_name", "extra"}

_UTC = datetime.timezone.utc
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def iso_utc_ms(moment: datetime.datetime) -> str:
    """``2024-05-01T12:00:00.123Z``: UTC, millisecond precision."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(_UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


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


def encode_line(obj: dict, redactor: Optional[KeyRedactor] = None) -> str:
    """One strict-JSON line without the newline. Never raises for odd values."""
    try:
        line = _encode(obj)
    except (TypeError, ValueError, RecursionError):
        line = _encode(json_safe(obj, redactor))
    # Valid JSON, but line-oriented tools would split there.
    if "\u2028" in line or "\u2029" in line:
        line = line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return line


def flat_from_loguru(record: dict) -> dict:
    extra = record["extra"]
    get = extra.get
    out: dict[str, Any] = {
        "timestamp": iso_utc_ms(record["time"]),
        "level": record["level"].name,
        "message": record["message"],
    }
    for key in CORRELATION_FIELDS:
        out[key] = get(key)
    for key in OPERATION_FIELDS:
        out[key] = get(key)
    out["logger"] = get("logger_name") or record["name"]
    out["module"] = record["module"]
    out["function"] = record["function"]
    out["line"] = record["line"]
    return add_extras(out, extra)


def make_flat_format(redactor: Optional[KeyRedactor]):
    """A loguru ``format`` function writing the flat line (loguru's file sink stays in use)."""

    def flat_format(record: dict) -> str:
        try:
            line = encode_line(flat_from_loguru(record), redactor)
        except Exception:
            line = _encode(
                {
                    "timestamp": iso_utc_ms(record["time"]),
                    "level": record["level"].name,
                    "message": json_safe(record["message"], None),
                    "extra": "[unserializable]",
                }
            )
        # A top-level record key, not extra: loguru's own serialize never copies it.
        record["se_flat"] = line
        return "{se_flat}\n"

    return flat_format
