"""The context variables that say which interaction and operation a record belongs to.

This is the only module that touches them. Values live in ``contextvars``, so each thread and
each asyncio task sees its own; the variables themselves are created once per process (see
``_state``), so a re-import by Streamlit's file watcher keeps the values already set.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from . import _report, _state
from .validators import is_valid_id


class OperationFrame:
    """A tracked operation as the context sees it: name, ids, parent, and whether it ended.

    An operation that ends in another context than it began in (a generator closed from another
    thread, an async generator finalised by the event loop) can't take its values back out of
    the context it began in. It is marked ``closed`` instead, and everything that reads the
    context (``live_frame``, the patcher) skips closed frames.
    """

    __slots__ = ("closed", "correlation_id", "name", "operation_id", "parent", "parent_operation_id")

    def __init__(self, name: str, operation_id: str, parent: OperationFrame | None,
                 parent_operation_id: str | None, correlation_id: str | None = None) -> None:
        self.name = name
        self.operation_id = operation_id
        self.parent = parent
        self.parent_operation_id = parent_operation_id
        self.correlation_id = correlation_id  # set when this operation opened its own interaction
        self.closed = False

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<OperationFrame {self.name} {self.operation_id} {state}>"


def live_frame(frame: OperationFrame | None) -> OperationFrame | None:
    """``frame``, or its nearest ancestor that hasn't ended."""
    while frame is not None and frame.closed:
        frame = frame.parent
    return frame


# Operations that ended where they couldn't take their values back out of the context (another
# context, or inside a scope that began after them): their ids, and the interaction id each had
# opened. Rare, so a small FIFO-bounded map; the patcher skips values found here.
_STALE_LIMIT = 4096
_stale: dict[str, str | None] = _state.state().stale_operations


def mark_stale(frame: OperationFrame) -> None:
    if len(_stale) >= _STALE_LIMIT:
        _stale.pop(next(iter(_stale)), None)
    _stale[frame.operation_id] = frame.correlation_id


def is_stale_operation(operation_id: Any) -> bool:
    """Did this operation end elsewhere? Asked about any value an app bound as ``operation_id``."""
    try:  # free unless it raises: this runs for every record
        return operation_id in _stale
    except TypeError:  # an unhashable value (a list): not an id of ours
        return False


def is_stale_correlation(correlation_id: str | None) -> bool:
    return correlation_id is not None and bool(_stale) and correlation_id in _stale.values()


correlation_id_var: ContextVar[str | None] = _state.state().correlation_id_var
operation_var: ContextVar[OperationFrame | None] = _state.state().operation_var

class AmbientSource(Protocol):
    """Where record fields come from when no scope set them (the current Streamlit run)."""

    def fields(self) -> Mapping[str, Any] | None:
        """``correlation_id``, ``session_id``, ``user_id``, ``operation``... or None."""

    def set_correlation_id(self, value: str) -> bool:
        """Make ``value`` current for the rest of the ambient scope; False if there is none."""


_ambient: list[AmbientSource] = _state.state().ambient_sources


def set_ambient_source(source: AmbientSource | None) -> None:
    """Install (or with None, clear) the one ambient source."""
    _ambient[:] = [] if source is None else [source]


def ambient_fields() -> Mapping[str, Any] | None:
    """The ambient fields for the current thread, or None (also if the source fails)."""
    if not _ambient:
        return None
    try:
        return _ambient[0].fields()
    except Exception as exc:
        _report.notice_once("ambient", f"context lookup failed ({_report.describe(exc)})")
        return None


def current_correlation_id() -> str | None:
    """The id of the current scope, else the ambient one (a Streamlit run), else None."""
    value = correlation_id_var.get()
    if value is not None and is_stale_correlation(value):
        value = None  # the interaction of an operation that ended elsewhere
    if value is None and _ambient:
        fields = ambient_fields()
        if fields:
            value = fields.get("correlation_id")
    return value


def current_operation_id() -> str | None:
    """The innermost open operation's id: a tracked operation, else the ambient run's."""
    frame = live_frame(operation_var.get())
    if frame is not None:
        return frame.operation_id
    fields = ambient_fields() if _ambient else None
    return fields.get("operation_id") if fields else None


def _set_ambient_id(value: str) -> bool:
    try:
        return _ambient[0].set_correlation_id(value)
    except Exception as exc:
        _report.notice_once("ambient-set", f"context update failed ({_report.describe(exc)})")
        return False


def new_id(prefix: str) -> str:
    """``prefix`` + ``_`` + 12 lowercase hex digits from a uuid4."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def checked_id(value: object, *, source: str) -> str:
    """Return ``value`` if it is a valid id, else a fresh ``req_`` id and one stderr notice."""
    if is_valid_id(value):
        return value  # type: ignore[return-value]
    replacement = new_id("req")
    # The rejected value is never echoed: it may carry CR/LF, escapes or a secret.
    _report.notice_once(
        f"invalid-id:{source}",
        f"ignored an invalid correlation id from {source} "
        f"(type {type(value).__name__}); using {replacement}",
    )
    return replacement


class CorrelationIDManager:
    """The original spec's API over the current context's correlation id."""

    @staticmethod
    def generate_correlation_id(prefix: str = "req") -> str:
        return new_id(prefix)

    @staticmethod
    def get_current_correlation_id() -> str | None:
        return current_correlation_id()

    @staticmethod
    def set_correlation_id(correlation_id: str) -> str:
        """Make ``correlation_id`` current until the context ends; an invalid id is replaced."""
        value = checked_id(correlation_id, source="set_correlation_id")
        # Inside a Streamlit run the run is the scope: a contextvar set here would leak into
        # the next run when Streamlit reuses the thread.
        if not (_ambient and correlation_id_var.get() is None and _set_ambient_id(value)):
            correlation_id_var.set(value)
        return value

    @staticmethod
    def ensure_correlation_id() -> str:
        """Return the current id, generating and setting one if there is none."""
        current = current_correlation_id()
        if current is None:
            current = new_id("req")
            correlation_id_var.set(current)
        return current


@contextmanager
def correlation_scope(correlation_id: str | None = None) -> Iterator[str]:
    """Make a correlation id current for everything logged inside; yields it.

    With no argument the enclosing id is reused, or a new one is generated at the top level.
    Works in sync and async code alike (entered and left in the same task).
    """
    if correlation_id is not None:
        value = checked_id(correlation_id, source="correlation_scope")
    else:
        value = current_correlation_id() or new_id("req")
    token = correlation_id_var.set(value)
    try:
        yield value
    finally:
        correlation_id_var.reset(token)
