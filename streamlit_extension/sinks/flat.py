"""The flat line: a ``rows`` row encoded as one strict-JSON line.

Used by the loguru ``json_format="flat"`` sink, the stdlib ``JSONFormatter`` and the file sink's
``records_lost`` record. Encoding is a single orjson call on a small dict; what orjson refuses
goes to the standard encoder, and anything unusual falls back to a sanitised copy, so a record
is never dropped and never written as invalid JSON.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import orjson

from .. import _loguru
from ..patcher.redaction import KeyRedactor
from ..patcher.sanitize import json_safe
from ..rows import from_loguru, iso_utc

if TYPE_CHECKING:
    from loguru import Record

_json_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def _encode(obj: Any) -> str:
    try:
        return orjson.dumps(obj).decode()
    except (TypeError, ValueError):  # odd keys or types, an int past 64 bits: the stdlib path decides
        return _json_encode(obj)


def encode_line(obj: dict, redactor: KeyRedactor | None = None) -> str:
    """One strict-JSON line without the newline. Never raises for odd values."""
    try:
        line = _encode(obj)
    except (TypeError, ValueError, RecursionError):
        line = _json_encode(json_safe(obj, redactor))
    return line


def flat_line(record: Record, redactor: KeyRedactor | None = None) -> str:
    """The whole flat line of ``record``, newline included."""
    return encode_line(from_loguru(record), redactor) + "\n"


# The "text" of loguru's serialized line: its default layout, minus "{exception}", which would
# render the exception outside our redaction (extra.error carries the masked traceback).
LOGURU_TEXT = "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {name}:{function}:{line} - {message}\n"


# The same text with the time made by ``_loguru.default_time_text`` (a top-level record key, as
# ``se_flat`` below), not by loguru's ``__format__``: half the instructions.
_LOGURU_TEXT_TIMED = LOGURU_TEXT.replace("{time:YYYY-MM-DD HH:mm:ss.SSS}", "{se_time}")


def loguru_text_format(record: Record) -> str:
    moment = _loguru.default_time_text(record["time"])
    if moment is None:
        return LOGURU_TEXT
    own: dict[str, Any] = record  # type: ignore[assignment]  # our top-level key isn't in Record
    own["se_time"] = moment
    return _LOGURU_TEXT_TIMED


def make_flat_format(redactor: KeyRedactor | None):
    """A loguru ``format`` function writing the flat line (loguru's file sink stays in use)."""

    def flat_format(record: Record) -> str:
        try:
            line = encode_line(from_loguru(record), redactor)
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
