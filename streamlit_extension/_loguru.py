"""loguru's private names, used from here only.

loguru has no public file-sink class, no public parser for its ``"10 MB"``/``"14 days"``
syntax, no way to ask which patcher, handlers and level threshold it has now, and no way to
choose a ``serialize=True`` line's encoder. We need each, so they are read here, each by
feature, each with a fallback that keeps logging working:

* ``FileSink`` (``loguru._file_sink``): required; a loguru without it is refused at import
  with the supported range, since files are the product.
* ``parse_size``/``parse_duration`` (``loguru._string_parsers``): without them a size or
  duration text goes to loguru's own rotation and retention, which parse it themselves (we lose
  only our cheaper size check and app-wide retention).
* ``logger._core``: without it we can't see the current patcher or handlers, so ``setup_logging``
  trusts its own record of what it installed, and no record is skipped before loguru's check.
* ``Handler._serialize_record`` (``loguru._handler``): the encoder of a ``serialize=True`` line;
  our default file sink swaps in an orjson one (``sinks/serialized.py``) for its handler only.
  Without it loguru's own ``json.dumps`` stays: the same lines, slower.
* ``loguru._logger.context`` (the ContextVar behind ``contextualize``): when an operation ends
  inside a scope that began after it, its ``contextualize`` block must end without undoing the
  newer scope's values. Without the variable the newer scope loses its operation fields until
  it ends; nothing raises.
* ``FileSink._file`` (the open file behind a file sink): the resilient sink checks it is still
  the file at its path, and closes it without a flush after a failed write. Without it those
  checks are skipped.
* ``loguru._recattrs`` and ``loguru._logger.start_time``: a record made without a logging call
  (the file sink's ``records_lost`` line) is built the way loguru builds one, so it goes through
  the file format's own encoder, and a stdlib record written after the one it interrupted gets
  its own ``file`` back (``record_file``). Without them plain stand-ins with the same attributes
  are used.
* ``loguru._logger.aware_now`` (the clock of every record) and ``loguru._datetime``: loguru
  asks the C library for the local zone on every record (``timestamp()``, ``localtime()``, a
  new ``timezone``: a tenth of a flat record's cost); ``install_clock`` keeps the zone of the
  current local second and asks again only when the second changes. Without them loguru's own
  clock stays: the same times, slower.
* an attribute of ours on ``logger`` (``_streamlit_extension_shared``): the process store of
  ``_shared``, kept there because loguru is an installed package that Streamlit's watcher never
  re-imports. It needs only that ``logger`` takes attributes.

The tested range is in ``setup.cfg`` (``loguru>=0.7.0,<0.8``); ``tox -e loguru-oldest`` and
``tox -e loguru-newest`` run the suite on both ends.
"""

from __future__ import annotations

import datetime
import multiprocessing
import threading
from collections.abc import Callable
from typing import Any

import loguru
from loguru import logger

LOGURU_VERSION = getattr(loguru, "__version__", "?")

try:
    from loguru._file_sink import FileSink
except ImportError as exc:  # pragma: no cover - outside the supported range
    raise ImportError(
        f"streamlit_extension needs loguru's file sink (loguru._file_sink.FileSink), which loguru "
        f"{LOGURU_VERSION} does not have; install loguru>=0.7.0,<0.8"
    ) from exc

try:
    from loguru._handler import Handler as _Handler
except ImportError:  # pragma: no cover - then serialize=True lines keep loguru's own encoder
    _Handler = None  # type: ignore[assignment,misc]

try:  # pragma: no branch
    from loguru._recattrs import RecordFile, RecordLevel, RecordProcess, RecordThread
except ImportError:  # pragma: no cover - stand-ins with the attributes the encoders read
    from collections import namedtuple

    RecordLevel = namedtuple("RecordLevel", "name no icon")  # type: ignore[no-redef]
    RecordFile = namedtuple("RecordFile", "name path")  # type: ignore[no-redef]
    RecordThread = namedtuple("RecordThread", "id name")  # type: ignore[no-redef]
    RecordProcess = namedtuple("RecordProcess", "id name")  # type: ignore[no-redef]

try:
    from loguru._datetime import datetime as _Datetime  # noqa: N812
except ImportError:  # pragma: no cover - then the text's time goes through loguru's format
    _Datetime = None  # type: ignore[assignment,misc]

try:
    from loguru._string_parsers import parse_duration, parse_size
except ImportError:  # pragma: no cover - callers hand the text to loguru, which parses it itself
    parse_duration = parse_size = None  # type: ignore[assignment]


def contextualize_var() -> Any | None:
    """The ContextVar behind ``logger.contextualize`` (``loguru._logger.context``), or None."""
    import loguru._logger as module

    var = getattr(module, "context", None)
    return var if hasattr(var, "get") and hasattr(var, "set") else None


def open_file(sink: FileSink) -> Any | None:
    """The file object a ``FileSink`` writes to now (None before its first write or if unknown)."""
    return getattr(sink, "_file", None)


def make_record(level: str, message: str, extra: dict[str, Any], *, moment: datetime.datetime,
                name: str, function: str, line: int = 0) -> dict[str, Any]:
    """A record as loguru's ``Logger._log`` shapes one, for a line written without a logging call.

    ``moment`` (aware) is the record's time. Its ``time`` is loguru's own datetime type where
    available, so a format's ``{time:YYYY-MM-DD ...}`` renders as for any other record.
    """
    import loguru._logger as module

    started = getattr(module, "start_time", None)
    moment = _loguru_datetime(moment)
    level_no = logger.level(level)
    module_name = name.rpartition(".")[2]
    thread, process = threading.current_thread(), multiprocessing.current_process()
    return {
        "elapsed": moment - started if isinstance(started, datetime.datetime) else datetime.timedelta(0),
        "exception": None,
        "extra": extra,
        "file": RecordFile(f"{module_name}.py", f"{module_name}.py"),
        "function": function,
        "level": RecordLevel(level_no.name, level_no.no, level_no.icon),
        "line": line,
        "message": message,
        "module": module_name,
        "name": name,
        "process": RecordProcess(process.ident, process.name),
        "thread": RecordThread(thread.ident, thread.name),
        "time": moment,
    }


_second: tuple[tuple[int, ...], str] = ((), "")  # the last second's key and "YYYY-MM-DD HH:MM:SS"


def default_time_text(moment: Any) -> str | None:
    """A record's ``{time:YYYY-MM-DD HH:mm:ss.SSS}`` (loguru's default layout), the text loguru
    prints for it, or None for a time of another type (a patcher's), which prints its own way.
    The seconds are formatted once per second: through loguru's ``__format__`` each record took
    twice as long."""
    global _second
    if type(moment) is not _Datetime or _Datetime is None:
        return None
    key = (moment.second, moment.minute, moment.hour, moment.day, moment.month, moment.year)
    cached = _second
    if cached[0] != key:
        cached = _second = (key, f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
                                 f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}")
    return f"{cached[1]}.{moment.microsecond // 1000:03d}"


def record_file(name: str, path: str) -> Any:
    """A record's ``file`` value, as loguru makes it (``{file.name}``, ``{file.path}``)."""
    return RecordFile(name, path)


def _loguru_datetime(moment: datetime.datetime) -> datetime.datetime:
    try:
        from loguru._datetime import datetime as loguru_datetime
    except ImportError:  # pragma: no cover
        return moment
    local = moment.astimezone()
    return loguru_datetime(local.year, local.month, local.day, local.hour, local.minute, local.second,
                           local.microsecond, tzinfo=local.tzinfo)


_CLOCK_ORIGINAL = "_streamlit_extension_original"  # on our clock: the one it replaced


def install_clock() -> bool:
    """Replace loguru's record clock (``aware_now``) with one that makes the local time zone
    once per local second; idempotent. Returns whether ours is in place.

    The zone (UTC offset and name) depends only on the instant, and a naive local time with its
    ``fold`` names one UTC second, in which no zone change can fall (transitions are on whole
    seconds): a record in the same local second and fold gets the zone loguru made for the
    first, and an equal ``datetime`` of loguru's own type. Any other second, and anything
    unusual, goes to loguru's own clock, whose result is what the cache keeps. ``datetime.now``
    is looked up on loguru's module at every call, as loguru does (freezegun patches it there).
    """
    import sys

    module = sys.modules.get("loguru._logger")
    clocks = sys.modules.get("loguru._datetime")
    original = getattr(module, "aware_now", None)
    if original is None or clocks is None or _Datetime is None or not hasattr(clocks, "datetime_"):
        return False
    if getattr(original, _CLOCK_ORIGINAL, None) is not None:
        return True
    make = _Datetime
    naive = type(datetime.datetime.min)  # the C type, even where freezegun swapped the module's name
    last: tuple[Any, Any] = (None, None)  # replaced whole: (a local second's fields and fold, its zone)

    def aware_now() -> datetime.datetime:
        nonlocal last
        try:
            now = clocks.datetime_.now()
            key = (now.second, now.minute, now.hour, now.day, now.month, now.year, now.fold)
            cached = last
            if cached[0] == key and type(now) is naive:
                return make(now.year, now.month, now.day, now.hour, now.minute, now.second, now.microsecond,
                            cached[1], fold=now.fold)
        except Exception:
            pass
        moment = original()
        try:
            last = ((moment.second, moment.minute, moment.hour, moment.day, moment.month, moment.year,
                     moment.fold), moment.tzinfo)
        except Exception:
            pass
        return moment

    setattr(aware_now, _CLOCK_ORIGINAL, original)
    module.aware_now = aware_now  # type: ignore[union-attr]
    return True


def uninstall_clock() -> None:
    """Put loguru's own record clock back, if ours is in place (``close()`` leaves loguru as it was)."""
    import sys

    module = sys.modules.get("loguru._logger")
    original = getattr(getattr(module, "aware_now", None), _CLOCK_ORIGINAL, None)
    if original is not None:
        module.aware_now = original  # type: ignore[union-attr]


_STORE = "_streamlit_extension_shared"


def process_store() -> dict[str, Any]:
    """A dictionary kept on loguru's ``logger`` for the life of the process (see ``_shared``)."""
    found: dict[str, Any] | None = vars(logger).get(_STORE)
    if found is None:
        found = vars(logger).setdefault(_STORE, {})  # atomic: two first callers get one dictionary
    return found


def _core() -> Any:
    return getattr(logger, "_core", None)


def current_patcher() -> Callable | None:
    """The patcher installed with ``logger.configure(patcher=...)``, or None if unknown."""
    return getattr(_core(), "patcher", None)


def installed_handler_ids() -> frozenset[int] | None:
    """The ids of every handler ``logger.add`` installed, or None if loguru won't say."""
    handlers = getattr(_core(), "handlers", None)
    try:
        return frozenset(handlers) if handlers is not None else None
    except TypeError:
        return None


def own_serializer() -> Callable[[str, Any], str] | None:
    """loguru's encoder of a ``serialize=True`` line (``Handler._serialize_record``), or None."""
    encoder = getattr(_Handler, "_serialize_record", None)
    return encoder if callable(encoder) else None


def set_serializer(sink_id: int, encoder: Callable[[str, Any], str]) -> bool:
    """Have the ``serialize=True`` handler ``sink_id`` encode its lines with ``encoder``.

    loguru calls ``self._serialize_record(text, record)`` for such a handler, so an attribute of
    that name on the handler takes its place. False, and loguru's own encoder stays, if this
    loguru doesn't work that way.
    """
    if own_serializer() is None:
        return False
    try:
        handler = _core().handlers[sink_id]
        if not isinstance(handler, _Handler) or handler._serialize is not True:
            return False
        handler._serialize_record = encoder  # type: ignore[method-assign]  # per handler, on purpose
    except Exception:
        return False
    return True


def min_level() -> float:
    """The lowest level any handler accepts (loguru's own early exit); 0 if unknown."""
    value = getattr(_core(), "min_level", 0)
    return value if isinstance(value, (int, float)) else 0


__all__ = [
    "LOGURU_VERSION",
    "FileSink",
    "contextualize_var",
    "current_patcher",
    "default_time_text",
    "install_clock",
    "installed_handler_ids",
    "make_record",
    "min_level",
    "open_file",
    "own_serializer",
    "parse_duration",
    "parse_size",
    "process_store",
    "record_file",
    "set_serializer",
    "uninstall_clock",
]
