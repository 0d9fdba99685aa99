"""loguru's ``serialize=True`` line, encoded by orjson.

The default file sink is added with ``serialize=True`` and writes loguru's own schema. loguru
encodes that object with ``json.dumps(default=str)``, about a third of a record's cost in this
format. ``serialize_record`` builds the same object and hands it to orjson: the same fields and
values once parsed, with compact separators. Anything orjson refuses (an int beyond 64 bits, a
lone surrogate, a non-string key) goes to loguru's own encoder, so no line is lost.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from .. import _loguru

if TYPE_CHECKING:
    from loguru import Record

# Types json.dumps(default=str) would print with str(): orjson must not encode them its own way.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_APPEND_NEWLINE


_FIXED = datetime.timezone
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
# The last second written: its key, ``str()`` of it cut after the seconds, and its microseconds
# since the epoch. A key of None never matches: that second is computed record by record.
_second: tuple[tuple[Any, ...] | None, str, str, int] = (None, "", "", 0)


def _from_second(cached: tuple[Any, str, str, int], micro: int) -> dict[str, Any]:
    text = f"{cached[1]}.{micro:06d}{cached[2]}" if micro else cached[1] + cached[2]
    # timestamp() is (self - epoch).total_seconds(): whole microseconds over 10**6, one division.
    return {"repr": text, "timestamp": (cached[3] + micro) / 1_000_000}


def _time(moment: datetime.datetime) -> dict[str, Any]:
    """``{"repr": str(moment), "timestamp": moment.timestamp()}``, the same text and float, with
    what records of one second share computed once: the two calls were a fifth of this encoder."""
    global _second
    zone = moment.tzinfo
    if type(zone) is not _FIXED:  # naive, or a zone whose offset can change within a second
        return {"repr": str(moment), "timestamp": moment.timestamp()}
    key = (moment.second, moment.minute, moment.hour, moment.day, moment.month, moment.year, zone)
    cached = _second
    if cached[0] == key:
        return _from_second(cached, moment.microsecond)
    exact = {"repr": str(moment), "timestamp": moment.timestamp()}
    whole = str(moment.replace(microsecond=0))
    since = moment.replace(microsecond=0) - _EPOCH
    cached = (key, whole[:19], whole[19:], (since.days * 86400 + since.seconds) * 1_000_000 + since.microseconds)
    # Kept only if it gives this record's own text and float (a datetime subclass may print its own way).
    _second = cached if _from_second(cached, moment.microsecond) == exact else (None, "", "", 0)
    return exact


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
        elapsed = record["elapsed"]
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
                "time": _time(record["time"]),
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
