"""Operations: the ``StructuredLogger`` API, ``track_operation`` and the decorator.

Each call here is a thin call into loguru: fields are bound to the record, and the sinks do the
encoding. An operation scope is a ``logger.contextualize`` block carrying ``operation``,
``operation_id`` and ``parent_operation_id``, so every record logged inside (loguru, stdlib,
libraries) says which operation it belongs to.
"""

from __future__ import annotations

import functools
import inspect
import os
import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from loguru import logger

from . import _loguru, _report
from .context import (
    Activation,
    OperationFrame,
    current_correlation_id,
    current_operation_id,
    live_frame,
    new_id,
    operation_var,
    settle_ambient,
)
from .errors import control_flow_outcome, error_context, normalize_error
from .otel.tracing import Tracing
from .otel.tracing import active as active_tracing
from .schema import EVENT_COMPLETE, EVENT_FAILED, EVENT_START

if TYPE_CHECKING:
    from loguru import Record

F = TypeVar("F", bound=Callable[..., Any])
Expected = tuple[type[BaseException], ...]
Level: TypeAlias = str | int

_levels: dict[Level, int] = {}


def _check_expected(expected: Any) -> Expected:
    """``expected`` as a tuple of exception classes; a clear TypeError for anything else."""
    if isinstance(expected, type):
        expected = (expected,)
    expected = tuple(expected)
    if not all(isinstance(cls, type) and issubclass(cls, BaseException) for cls in expected):
        raise TypeError(f"expected: exception classes, got {expected!r}")
    return expected


def _level_no(level: Level) -> int | None:
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


def _active(level: Level) -> Level | None:
    """``level`` if a record at it would be written (an unknown name becomes INFO), else None.

    Checked before anything is built, so a disabled call costs about loguru's own.
    """
    number = _level_no(level)
    if number is None:
        _report.notice_once(f"level:{level!r}", f"unknown log level {level!r}; logging at INFO")
        level, number = "INFO", 20
    return level if _enabled(number) else None


Origin = Callable[["Record"], None]  # puts a record's location (name, function, line) elsewhere


def _emit(depth: int, level: Level, message: str, fields: dict[str, Any], origin: Origin | None = None) -> None:
    """Log ``message`` with ``fields`` at an active ``level``; ``depth`` counts frames above
    this function's caller, whose location the record gets unless ``origin`` places it."""
    if fields.get("correlation_id") is None:
        fields["correlation_id"] = current_correlation_id() or new_id("req")
    try:
        bound = logger.bind(**fields)
        (bound.patch(origin) if origin is not None else bound).opt(depth=depth + 1).log(level, message)
    except Exception as exc:  # logging never breaks the app
        _report.notice_once("emit", f"a log call failed ({_report.describe(exc)})")


@dataclass(slots=True)
class Lifecycle:
    """One record of a tracked operation's life: ``start``, ``complete`` or ``failed``."""

    event: str
    level: Level
    message: str
    duration_ms: float | None = None
    success: bool = True
    metadata: Mapping[str, Any] | None = None
    error: Any = None


class _Operation:
    """One tracked operation: its ids, its timing, and its ``start`` / end records."""

    __slots__ = ("_began_ns", "_clock_ns", "_ended", "correlation_id", "expected", "frame", "logger_name", "metadata",
                 "name", "origin", "span")

    def __init__(self, owner: StructuredLogger, name: str, metadata: Mapping[str, Any] | None,
                 expected: Expected = (), origin: Origin | None = None) -> None:
        self.origin = origin  # the decorated function's location; None: the caller's
        self.logger_name = owner.name
        self.name = name
        self.metadata = metadata
        self.expected = expected
        settle_ambient()  # a run a record found: its span current here before ours starts under it
        cid = current_correlation_id()
        owned = None
        if not cid:  # a top-level operation outside any scope or run is its own interaction
            cid = owned = new_id("req")
        self.correlation_id = cid
        # The parent is the enclosing open operation, or the Streamlit script run itself.
        parent = live_frame(operation_var.get())
        self.frame = OperationFrame(name, new_id("op"), parent, current_operation_id(), owned)
        tracing = active_tracing()
        # One pair of clock readings per operation, for its span and its record alike: the
        # start here (the wall clock for the span, the monotonic one for the duration) and the
        # end in ``end``, so the span lasts exactly ``duration_ms``.
        self._began_ns = time.time_ns()
        self._clock_ns = time.perf_counter_ns()
        # A child of the current span: the enclosing operation's, or the script run's.
        attributes = {"correlation_id": self.correlation_id, "operation.id": self.frame.operation_id}
        self.span = (tracing.start(name, attributes, start_time=self._began_ns, metadata=metadata)
                     if tracing is not None else None)
        self._ended = False

    def start(self, depth: int) -> None:
        self._write(depth + 1, Lifecycle(EVENT_START, "INFO", f"{self.name} started", metadata=self.metadata))

    def end(self, depth: int, exc: BaseException | None = None, tb: Any = None,
            outcome: str | None = None) -> None:
        """Write ``complete`` (with ``outcome`` if given) or, for a real exception, ``failed``."""
        if self._ended:
            return
        self._ended = True
        elapsed_ns = time.perf_counter_ns() - self._clock_ns
        end_ns = self._began_ns + elapsed_ns
        duration_ms = round(elapsed_ns / 1e6, 3)
        if exc is not None and outcome is None:
            outcome = control_flow_outcome(exc)
            if outcome is None and self.expected and isinstance(exc, self.expected):
                # A user's mistake the operation declared (a duplicate key, a bad e-mail): still
                # "failed", at WARNING and without a traceback, and counted apart from errors.
                refused = {**error_context(exc, tb), "traceback": None, "expected": True}
                self._write(depth + 1, Lifecycle(EVENT_FAILED, "WARNING", f"{self.name} refused: {type(exc).__name__}",
                                                 duration_ms=duration_ms, success=False, metadata=self.metadata,
                                                 error=refused))
                self._end_span(end_ns, "refused", refused)
                return
            if outcome is None:
                error = error_context(exc, tb)
                self._write(depth + 1, Lifecycle(EVENT_FAILED, "ERROR", f"{self.name} failed: {type(exc).__name__}",
                                                 duration_ms=duration_ms, success=False, metadata=self.metadata,
                                                 error=error))
                self._end_span(end_ns, "failed", error)
                return
        metadata = self.metadata if outcome is None else {**(self.metadata or {}), "outcome": outcome}
        message = f"{self.name} completed ({outcome})" if outcome else f"{self.name} completed"
        self._write(depth + 1, Lifecycle(EVENT_COMPLETE, "INFO", message, duration_ms=duration_ms, metadata=metadata))
        self._end_span(end_ns, outcome or EVENT_COMPLETE)

    def _write(self, depth: int, record: Lifecycle) -> None:
        active = _active(record.level)
        if active is None:
            return
        fields = {
            "operation": self.name,
            "event": record.event,
            "duration_ms": record.duration_ms,
            "success": record.success,
            "metadata": record.metadata,
            "error": record.error,
            "logger_name": self.logger_name,
            # The operation's own ids, whatever context it ends in.
            "operation_id": self.frame.operation_id,
            "parent_operation_id": self.frame.parent_operation_id,
            "correlation_id": self.correlation_id,
        }
        _emit(depth + 1, active, record.message, fields, self.origin)

    def _end_span(self, end_ns: int, outcome: str, error: Mapping[str, Any] | None = None) -> None:
        """End the span at the record's end reading, saying ``outcome`` (complete, refused,
        failed, or a control-flow one: rerun, stop, closed)."""
        tracing = active_tracing()
        if self.span is not None and tracing is not None:
            tracing.end(self.span, error, refused=outcome == "refused", outcome=outcome, end_time=end_ns)


class _Activation:
    """The operation current in this context (``context.Activation``) and its span current with
    it (OpenTelemetry on). Leaving never raises, whatever context it ends in."""

    __slots__ = ("_context", "_operation", "_span_token")

    def __init__(self, operation: _Operation) -> None:
        self._operation = operation
        self._context = Activation(operation.frame)

    def __enter__(self) -> None:
        self._context.__enter__()
        operation = self._operation
        tracing = active_tracing() if operation.span is not None else None
        self._span_token = tracing.attach(operation.span, operation.correlation_id) if tracing is not None else None

    def __exit__(self, *exc: Any) -> None:
        if self._span_token is not None and self._context.in_place():  # elsewhere OTel would complain
            Tracing.detach(self._span_token)
        self._context.__exit__()


class _OperationScope:
    """``track_operation``'s context manager: start, then complete or failed, with timing."""

    __slots__ = ("_activation", "_depth", "_expected", "_metadata", "_name", "_operation", "_origin", "_owner")

    def __init__(self, owner: StructuredLogger, name: str, metadata: Mapping[str, Any] | None, depth: int,
                 expected: Expected = (), origin: Origin | None = None) -> None:
        self._origin = origin
        self._owner = owner
        self._name = name
        self._metadata = metadata
        self._depth = depth
        self._expected = _check_expected(expected)

    def __enter__(self) -> str:
        self._operation = _Operation(self._owner, self._name, self._metadata, self._expected, self._origin)
        self._activation = _Activation(self._operation)
        self._activation.__enter__()
        self._operation.start(self._depth)
        return self._operation.correlation_id

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        try:
            self._operation.end(self._depth, exc, tb)
        finally:
            self._activation.__exit__()  # the exception, if any, propagates unchanged


def _write_operation(logger_name: str, depth: int, operation: str, level: Level = "INFO", message: str = "", *,
                     duration_ms: float | None = None, success: bool = True, error: Any = None,
                     metadata: Mapping[str, Any] | None = None, **extra_metadata: Any) -> None:
    """One record about ``operation`` (not a tracked one's start or end), at an active ``level``."""
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
        "logger_name": logger_name,
    }
    _emit(depth + 1, active, message or operation, fields)


class StructuredLogger:
    """The original spec's structured logger, as thin calls into loguru."""

    def __init__(self, name: str) -> None:
        self.name = name

    def log_operation(self, operation: str, level: Level = "INFO", message: str = "",
                      duration_ms: float | None = None, success: bool = True, error: Any = None,
                      metadata: Mapping[str, Any] | None = None) -> None:
        """Log one record about ``operation``; always carries a correlation id."""
        _write_operation(self.name, 1, operation, level, message, duration_ms=duration_ms, success=success,
                         error=error, metadata=metadata)

    def info(self, operation: str, message: str = "", **kwargs: Any) -> None:
        _write_operation(self.name, 1, operation, kwargs.pop("level", "INFO"), message, **kwargs)

    def warning(self, operation: str, message: str = "", **kwargs: Any) -> None:
        _write_operation(self.name, 1, operation, kwargs.pop("level", "WARNING"), message, **kwargs)

    def error(self, operation: str, message: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("success", False)
        _write_operation(self.name, 1, operation, kwargs.pop("level", "ERROR"), message, **kwargs)

    def track_operation(self, operation: str, metadata: Mapping[str, Any] | None = None, *,
                        expected: Expected = ()) -> _OperationScope:
        """Context manager: logs start and complete/failed with ``duration_ms``; yields the correlation id.

        ``expected``: exception classes that are a user's mistake, not a fault (a duplicate key):
        ``failed`` at WARNING without a traceback, ``error.expected = true``.
        """
        return _OperationScope(self, operation, metadata, 1, expected)


correlation_logger = StructuredLogger("streamlit_extension")


def with_correlation_logging(operation: str, metadata_func: Callable[..., Any] | None = None, *,
                             expected: Expected = ()) -> Callable[[F], F]:
    """Decorate a sync or async function (or generator) so each call is a tracked operation.

    ``metadata_func`` receives the call's arguments and returns the operation's metadata; if it
    raises, the call goes on without metadata and one warning is logged. ``expected`` as for
    ``track_operation``.
    """
    expected = _check_expected(expected)

    def decorate(fn: F) -> F:
        warned = False
        origin = _origin_of(fn)

        def metadata(args: tuple, kwargs: dict) -> Mapping[str, Any] | None:
            nonlocal warned
            if metadata_func is None:
                return None
            try:
                value = metadata_func(*args, **kwargs)
            except Exception as exc:
                if not warned:
                    warned = True
                    _write_operation(correlation_logger.name, 2, operation, "WARNING",
                                     f"metadata_func for {operation} failed; logging without metadata", error=exc)
                return None
            return value if value is None or isinstance(value, Mapping) else {"value": value}

        if inspect.isasyncgenfunction(fn):

            @functools.wraps(fn)
            def async_gen_wrapper(*args: Any, **kwargs: Any) -> Any:
                return _tracked_async_generator(fn(*args, **kwargs), operation, metadata(args, kwargs), expected,
                                                origin)

            return async_gen_wrapper  # type: ignore[return-value]

        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
                return _tracked_generator(fn(*args, **kwargs), operation, metadata(args, kwargs), expected, origin)

            return gen_wrapper  # type: ignore[return-value]

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with _OperationScope(correlation_logger, operation, metadata(args, kwargs), 1, expected, origin):
                    return await fn(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _OperationScope(correlation_logger, operation, metadata(args, kwargs), 2, expected, origin):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _origin_of(fn: Callable[..., Any]) -> Origin | None:
    """Where ``fn`` is defined, as a patch for the records of the operations it runs: its module,
    qualified name and first line (a decorated function's first decorator, as Python counts it).
    Without it they would show the caller's frame (a ``<lambda>`` that calls ``fn``). None for a
    callable without code of its own: the caller's location stays."""
    try:
        inner = inspect.unwrap(fn)
    except ValueError:  # a __wrapped__ cycle
        inner = fn
    code = getattr(inner, "__code__", None)
    if code is None:
        return None
    name = str(getattr(inner, "__module__", None) or getattr(fn, "__module__", None) or "?")
    function = str(getattr(inner, "__qualname__", None) or code.co_name)
    line, path = code.co_firstlineno, code.co_filename
    file = _loguru.record_file(os.path.basename(path), path)
    module = os.path.splitext(file.name)[0]

    def place(record: Record) -> None:
        record["name"], record["module"], record["function"], record["line"] = name, module, function, line
        record["file"] = file

    return place


# Generators: the operation spans the iteration, not the call. It starts at the first next(),
# completes when the generator is exhausted, fails on an exception, and ends as "closed" when the
# consumer stops early. Its values are in the context only while the generator runs, so the
# consumer's own records between items never carry them.


class _Iteration:
    """One tracked iteration of a generator: the operation starts at the first step, and each
    step runs with its values current (``step``)."""

    __slots__ = ("expected", "metadata", "name", "operation", "origin")

    def __init__(self, name: str, metadata: Mapping[str, Any] | None, expected: Expected,
                 origin: Origin | None = None) -> None:
        self.name, self.metadata, self.expected, self.origin = name, metadata, expected, origin
        self.operation: _Operation | None = None

    def step(self) -> _Activation:
        if self.operation is None:
            self.operation = _Operation(correlation_logger, self.name, self.metadata, self.expected, self.origin)
            with _Activation(self.operation):
                self.operation.start(2)
        return _Activation(self.operation)

    def end(self, exc: BaseException | None = None, outcome: str | None = None) -> None:
        if self.operation is not None:
            self.operation.end(2, exc, exc.__traceback__ if exc is not None else None, outcome=outcome)


def _tracked_generator(inner: Generator, name: str, metadata: Mapping[str, Any] | None,
                       expected: Expected = (), origin: Origin | None = None) -> Generator:
    tracked = _Iteration(name, metadata, expected, origin)
    send: Any = None
    throw: BaseException | None = None
    while True:
        with tracked.step():
            try:
                item = inner.throw(throw) if throw is not None else inner.send(send)
            except StopIteration as stop:
                tracked.end()
                return stop.value
            except BaseException as exc:
                tracked.end(exc)
                raise
        send, throw = None, None
        try:
            send = yield item
        except GeneratorExit:
            with tracked.step():
                try:
                    inner.close()
                except BaseException as exc:
                    tracked.end(exc)
                    raise
                tracked.end(outcome="closed")
            raise
        except BaseException as exc:  # thrown in by the consumer: the inner generator decides
            throw = exc


async def _tracked_async_generator(inner: AsyncGenerator, name: str, metadata: Mapping[str, Any] | None,
                                   expected: Expected = (), origin: Origin | None = None) -> AsyncGenerator:
    # The same steps as _tracked_generator, awaited.
    tracked = _Iteration(name, metadata, expected, origin)
    send: Any = None
    throw: BaseException | None = None
    while True:
        with tracked.step():
            try:
                item = await (inner.athrow(throw) if throw is not None else inner.asend(send))
            except StopAsyncIteration:
                tracked.end()
                return
            except BaseException as exc:
                tracked.end(exc)
                raise
        send, throw = None, None
        try:
            send = yield item
        except GeneratorExit:
            with tracked.step():
                try:
                    await inner.aclose()
                except BaseException as exc:
                    tracked.end(exc)
                    raise
                tracked.end(outcome="closed")
            raise
        except BaseException as exc:
            throw = exc
