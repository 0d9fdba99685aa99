"""Standard-library ``logging`` → our loguru pipeline.

``InterceptHandler`` sits on the root logger, so legacy ``logging.getLogger(...)`` calls and
libraries reach the same sinks once, with the caller's function and line, the stdlib logger's
name (``extra.logger_name``), their ``extra=`` keys and ``exc_info``.
"""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

from loguru import logger

from . import _loguru, _report
from ._shared import shared

if TYPE_CHECKING:
    from loguru import Record

MARKER = "_streamlit_extension_handler"
ROUTED = "_streamlit_extension_routed"  # set on a LogRecord once one of our handlers took it
NOT_ROUTED = ("opentelemetry",)

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName", ROUTED,
}
_LOGGING_FILE = logging.__file__  # a caller's frame is the first one outside it

_local = threading.local()


def record_extras(record: logging.LogRecord) -> dict:
    """The keys a call passed with ``extra=`` (everything not standard on a LogRecord)."""
    return {key: record.__dict__[key] for key in record.__dict__.keys() - _STANDARD_ATTRS}


class InterceptHandler(logging.Handler):
    """Re-emit stdlib records through loguru (and so through our patcher and sinks)."""

    def __init__(self, level: int | str = logging.NOTSET) -> None:
        super().__init__(level)
        setattr(self, MARKER, True)
        self._levels: dict[str, str | int] = {}

    def _level(self, record: logging.LogRecord) -> str | int:
        try:
            return self._levels[record.levelname]
        except KeyError:
            pass
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        self._levels[record.levelname] = level
        return level

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, ROUTED, False):
            return  # another of our handlers (one being replaced) already routed it
        setattr(record, ROUTED, True)
        if record.name.startswith(NOT_ROUTED):
            # OpenTelemetry's own lines (export failures...) feeding back into our OTLP sink is
            # how an OTel handler beside an InterceptHandler deadlocks (loguru #1399): stderr.
            if record.levelno >= logging.WARNING:
                _report.notice_once(f"otel:{record.name}:{record.msg!s:.60}", f"{record.name}: {record.getMessage()}")
            return
        pending = getattr(_local, "pending", None)
        if pending is not None:
            # Logged while another record of this thread is being written (a repr() that logs
            # its SQL, a sink that logs): re-entering loguru there could loop or hit its
            # deadlock guard, so it is written right after that record instead.
            pending.append(record)
            return
        _local.pending = pending = []
        try:
            self._emit_safely(record, deferred=False)
            seen: set[tuple] = set()
            while pending:
                nested = pending.pop(0)
                text = nested.msg if isinstance(nested.msg, str) else None
                origin = (nested.name, nested.pathname, nested.lineno, text)
                if origin in seen or len(seen) >= MAX_NESTED:
                    # The same call again, from writing its own record: a logging loop.
                    _count_dropped(1 + len(pending))
                    break
                seen.add(origin)
                self._emit_safely(nested, deferred=True)
        finally:
            _local.pending = None

    def _emit_safely(self, record: logging.LogRecord, *, deferred: bool) -> None:
        try:
            self._emit(record, deferred)
        except Exception as exc:
            _report.notice_once("intercept", f"a stdlib log record could not be routed ({_report.describe(exc)})")

    def _emit(self, record: logging.LogRecord, deferred: bool = False) -> None:
        fields = record_extras(record)
        fields["logger_name"] = record.name
        try:
            message = record.getMessage()
        except Exception:  # bad %-args: stdlib would print a traceback and lose the line
            message = f"{record.msg!r} % {record.args!r}"
        bound = logger.bind(**fields)
        if deferred:  # written after the record it interrupted: its own origin, not ours
            bound = bound.patch(lambda r: _origin_of(r, record))
            depth = 0
        else:
            # Frames above this one: emit, _emit_safely, then logging's own until the caller's.
            frame: FrameType | None = sys._getframe(3)
            depth = 3
            while frame is not None and frame.f_code.co_filename == _LOGGING_FILE:
                frame, depth = frame.f_back, depth + 1
        bound.opt(depth=depth, exception=record.exc_info or None).log(self._level(record), message)


MAX_NESTED = 100  # distinct records logged while one record is written; more is runaway


@dataclass(eq=False)
class Dropped:
    """Records dropped as a logging loop since the process started."""

    count: int = 0


_dropped: Dropped = shared(f"{__name__}.dropped", Dropped)


def _count_dropped(count: int) -> None:
    _dropped.count += count
    _report.notice_once("reentrant-loop", f"dropped {_dropped.count} stdlib records logged while being written, "
                                          "again and again (a log call that logs itself?)", every=10.0)


def dropped_nested() -> int:
    """Records dropped as a logging loop since the process started."""
    return _dropped.count


def _origin_of(record: Record, source: logging.LogRecord) -> None:
    record["function"] = source.funcName
    record["line"] = source.lineno
    record["module"] = source.module
    record["name"] = source.name
    record["file"] = _loguru.record_file(source.filename, source.pathname)


def is_ours(handler: logging.Handler) -> bool:
    """True for an InterceptHandler of this package, even one from before a module reload."""
    return bool(getattr(handler, MARKER, False))


def install(level: int) -> tuple[InterceptHandler, int]:
    """Put one InterceptHandler on the root logger; return it and the root's previous level.

    The new handler goes on before any older one of ours comes off, so a record logged meanwhile
    from another thread is routed (once: see ``ROUTED``), never dropped.
    """
    root = logging.getLogger()
    handler = InterceptHandler()
    root.addHandler(handler)
    for old in list(root.handlers):
        if old is not handler and is_ours(old):
            root.removeHandler(old)
    previous = root.level
    root.setLevel(level)
    return handler, previous


def uninstall(handler: logging.Handler | None, previous_level: int | None) -> None:
    root = logging.getLogger()
    if handler is not None and handler in root.handlers:
        root.removeHandler(handler)
    if previous_level is not None:
        root.setLevel(previous_level)
