"""loguru's ``serialize=True`` line, encoded by orjson.

The default file sink is added with ``serialize=True`` and writes loguru's own schema. loguru
encodes that object with ``json.dumps(default=str)``, about a third of a record's cost in this
format. ``serialize_record`` builds the same object and hands it to orjson: the same fields and
values once parsed, with compact separators. Anything orjson refuses (an int beyond 64 bits, a
lone surrogate, a non-string key) goes to loguru's own encoder, so no line is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from .. import _loguru

if TYPE_CHECKING:
    from loguru import Record

# Types json.dumps(default=str) would print with str(): orjson must not encode them its own way.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_APPEND_NEWLINE


def _loguru_encoder() -> Callable[[str, Any], str]:
    encoder = _loguru.own_serializer()
    if encoder is None:  # pragma: no cover - loguru without it never gets our encoder (see install)
        raise RuntimeError("loguru's serializer is unavailable")
    return encoder


def serialize_record(text: str, record: Record) -> str:
    """The JSON line loguru's ``serialize=True`` writes for ``record``, newline included."""
    try:
        exception: Any = record["exception"]
        if exception is not None:
            exception = {
                "type": None if exception.type is None else exception.type.__name__,
                "value": exception.value,
                "traceback": bool(exception.traceback),
            }
        elapsed, moment = record["elapsed"], record["time"]
        level, file, process, thread = record["level"], record["file"], record["process"], record["thread"]
        return orjson.dumps({
            "text": text,
            "record": {
                "elapsed": {"repr": str(elapsed), "seconds": elapsed.total_seconds()},
                "exception": exception,
                "extra": record["extra"],
                "file": {"name": file.name, "path": file.path},
                "function": record["function"],
                "level": {"icon": level.icon, "name": level.name, "no": level.no},
                "line": record["line"],
                "message": record["message"],
                "module": record["module"],
                "name": record["name"],
                "process": {"id": process.id, "name": process.name},
                "thread": {"id": thread.id, "name": thread.name},
                "time": {"repr": str(moment), "timestamp": moment.timestamp()},
            },
        }, default=str, option=_OPTIONS).decode()
    except Exception:
        return _loguru_encoder()(text, record)


def loguru_line(record: Record) -> str:
    """The whole ``serialize=True`` line of ``record`` with its default ``text``: what the default
    file sink writes (for a line made without a logging call, such as ``records_lost``)."""
    from .flat import LOGURU_TEXT

    return serialize_record(LOGURU_TEXT.format(**record), record)


def install(sink_id: int) -> bool:
    """Encode the ``serialize=True`` handler ``sink_id``'s lines here; False if loguru won't allow it:
    loguru's own encoder then stays."""
    return _loguru.set_serializer(sink_id, serialize_record)
