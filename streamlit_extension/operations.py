"""Operations: the ``StructuredLogger`` API, ``track_operation`` and the decorator.

Each call here is a thin call into loguru: fields are bound to the record, and the sinks do the
encoding. An operation scope is a ``logger.contextualize`` block carrying ``operation``,
``operation_id`` and ``parent_operation_id``, so every record logged inside (loguru, stdlib,
libraries) says which operation it belongs to.
"""

from __future__ import annotations

import functools
import inspect
import time
from typing import Any, Callable, Mapping, Optional, TypeVar, Union

from loguru import logger

from . import _loguru, _report
from .context import (
    OperationFrame,
    correlation_id_var,
    current_correlation_id,
    current_operation_id,
    new_id,
    operation_var,
)
from .errors import control_flow_outcome, error_context, normalize_error

F = TypeVar("F", bound=Callable[..., Any])
Level = Union[str, int]

_levels: dict[Level, int] = {}


def _level_no(level: Level) -> Optional[int]:
    """The numeric level, or None if loguru doesn't know it."""
    try:
        return _levels[level]
    except KeyError:
        pass
    try:
        number = level if isinstance(level, int) else logger.level(level).no
    except (ValueError, TypeError):
        return None
    _levels[level] = number
    return number


def _enabled(number: int) -> bool:
    # loguru's own early exit, read up front so a disabled call skips building the record.
    return number >= _loguru.min_level()


def _active(level: Level) -> Optional[Level]:
    """``level`` if a record at it would be written (an unknown name becomes INFO), else None.

    Checked before anything is built, so a disabled call costs about loguru's own.
    """
    number = _level_no(level)
    if number is None:
        _report.notice_once(f"level:{level!r}", f"unknown log level {level!r}; logging at INFO")
        level, number = "INFO", 20
    return level if _enabled(number) else None


def _emit(depth: int, level: Level, message: str, fields: dict[str, Any]) -> None:
    """Log ``message`` with ``fields`` at an active ``level``; ``depth`` counts frames above
    this function's caller."""
    if fields.get("correlation_id") is None:
        fields["correlation_id"] = current_correlation_id() or new_id("req")
    try:
        logger.bind(**fields).opt(depth=depth + 1).log(level, message)
    except Exception as exc:  # logging never breaks the app
        _report.notice_once("emit", f"a log call failed ({_report.describe(exc)})")


class _OperationScope:
    """``track_operation``'s context manager: start, then complete or failed, with timing."""

    __slots__ = ("_owner", "_name", "_metadata", "_depth", "_cid_token", "_op_token", "_ctx", "_start")

    def __init__(self, owner: "StructuredLogger", name: str, metadata: Optional[Mapping[str, Any]], depth: int) -> None:
        self._owner = owner
        self._name = name
        self._metadata = metadata
        self._depth = depth

    def __enter__(self) -> str:
        cid = current_correlation_id()
        # A top-level operation outside any scope or run is its own interaction.
        self._cid_token = None if cid is not None else correlation_id_var.set(cid := new_id("req"))
        # The parent is the enclosing operation, or the Streamlit script run itself.
        frame = OperationFrame(self._name, new_id("op"), current_operation_id())
        self._op_token = operation_var.set(frame)
        self._ctx = logger.contextualize(
            operation=frame.name, operation_id=frame.operation_id, parent_operation_id=frame.parent_operation_id
        )
        self._ctx.__enter__()
        self._owner._event(self._depth, "INFO", f"{self._name} started", self._name, "start", None, True, self._metadata, None)
        self._start = time.perf_counter()
        return cid

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> bool:
        duration_ms = round((time.perf_counter() - self._start) * 1000, 3)
        try:
            if exc is None:
                self._owner._event(self._depth, "INFO", f"{self._name} completed", self._name, "complete", duration_ms, True, self._metadata, None)
            elif (outcome := control_flow_outcome(exc)) is not None:
                metadata = {**(self._metadata or {}), "outcome": outcome}
                self._owner._event(self._depth, "INFO", f"{self._name} completed ({outcome})", self._name, "complete", duration_ms, True, metadata, None)
            else:
                self._owner._event(
                    self._depth, "ERROR", f"{self._name} failed: {type(exc).__name__}", self._name, "failed",
                    duration_ms, False, self._metadata, error_context(exc, tb),
                )
        finally:
            self._ctx.__exit__(None, None, None)
            operation_var.reset(self._op_token)
            if self._cid_token is not None:
                correlation_id_var.reset(self._cid_token)
        return False  # the exception, if any, propagates unchanged


class StructuredLogger:
    """The original spec's structured logger, as thin calls into loguru."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _event(self, depth: int, level: Level, message: str, operation: str, event: str,
               duration_ms: Optional[float], success: bool, metadata: Optional[Mapping[str, Any]], error: Any) -> None:
        active = _active(level)
        if active is None:
            return
        fields = {
            "operation": operation,
            "event": event,
            "duration_ms": duration_ms,
            "success": success,
            "metadata": metadata,
            "error": error,
            "logger_name": self.name,
        }
        _emit(depth + 1, active, message, fields)

    def _log_operation(self, depth: int, operation: str, level: Level = "INFO", message: str = "",
                       duration_ms: Optional[float] = None, success: bool = True, error: Any = None,
                       metadata: Optional[Mapping[str, Any]] = None, **extra_metadata: Any) -> None:
        active = _active(level)
        if active is None:
            return
        if extra_metadata:  # unknown keyword arguments are kept as metadata, not refused
            metadata = {**(metadata or {}), **extra_metadata}
        fields = {
            "operation": operation,
            "event": None,
            "duration_ms": duration_ms,
            "success": success,
            "metadata": metadata,
            "error": normalize_error(error),
            "logger_name": self.name,
        }
        _emit(depth + 1, active, message or operation, fields)

    def log_operation(self, operation: str, level: Level = "INFO", message: str = "",
                      duration_ms: Optional[float] = None, success: bool = True, error: Any = None,
                      metadata: Optional[Mapping[str, Any]] = None) -> None:
        """Log one record about ``operation``; always carries a correlation id."""
        self._log_operation(1, operation, level, message, duration_ms, success, error, metadata)

    def info(self, operation: str, message: str = "", **kwargs: Any) -> None:
        self._log_operation(1, operation, kwargs.pop("level", "INFO"), message, **kwargs)

    def warning(self, operation: str, message: str = "", **kwargs: Any) -> None:
        self._log_operation(1, operation, kwargs.pop("level", "WARNING"), message, **kwargs)

    def error(self, operation: str, message: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("success", False)
        self._log_operation(1, operation, kwargs.pop("level", "ERROR"), message, **kwargs)

    def track_operation(self, operation: str, metadata: Optional[Mapping[str, Any]] = None) -> _OperationScope:
        """Context manager: logs start and complete/failed with ``duration_ms``; yields the correlation id."""
        return _OperationScope(self, operation, metadata, 1)


correlation_logger = StructuredLogger("streamlit_extension")


def with_correlation_logging(operation: str, metadata_func: Optional[Callable[..., Any]] = None) -> Callable[[F], F]:
    """Decorate a sync or async function so each call is a tracked operation.

    ``metadata_func`` receives the call's arguments and returns the operation's metadata; if it
    raises, the call goes on without metadata and one warning is logged.
    """

    def decorate(fn: F) -> F:
        warned = False

        def metadata(args: tuple, kwargs: dict) -> Optional[Mapping[str, Any]]:
            nonlocal warned
            if metadata_func is None:
                return None
            try:
                value = metadata_func(*args, **kwargs)
            except Exception as exc:
                if not warned:
                    warned = True
                    correlation_logger._log_operation(
                        2, operation, "WARNING", f"metadata_func for {operation} failed; logging without metadata",
                        error=exc,
                    )
                return None
            return value if value is None or isinstance(value, Mapping) else {"value": value}

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with _OperationScope(correlation_logger, operation, metadata(args, kwargs), 1):
                    return await fn(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _OperationScope(correlation_logger, operation, metadata(args, kwargs), 2):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
