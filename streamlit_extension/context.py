"""The context variables that say which interaction and operation a record belongs to.

This is the only module that sets them: the frame stack of tracked operations (one record of
the current operation; loguru's ``contextualize`` carries its fields onto records, and
``reconcile_operation`` keeps the two in agreement), the correlation id of scopes, and the
ambient source (a Streamlit run). Values live in ``contextvars``, so each thread and
each asyncio task sees its own; the variables themselves are created once per process (see
``_shared``), so a re-import by Streamlit's file watcher keeps the values already set.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from loguru import logger

from . import _loguru, _report
from ._shared import shared
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

    @property
    def interaction_id(self) -> str | None:
        """The interaction this operation is in, when it opened it itself."""
        return self.correlation_id

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<OperationFrame {self.name} {self.operation_id} {state}>"


def live_frame(frame: OperationFrame | None) -> OperationFrame | None:
    """``frame``, or its nearest ancestor that hasn't ended."""
    while frame is not None and frame.closed:
        frame = frame.parent
    return frame


@dataclass(eq=False)
class _Variables:
    """This module's process state: the variables are made once, so a re-import by Streamlit's
    file watcher keeps the values already set in them."""

    correlation_id: ContextVar[str | None] = field(
        default_factory=lambda: ContextVar("streamlit_extension_correlation_id", default=None))
    operation: ContextVar[OperationFrame | None] = field(
        default_factory=lambda: ContextVar("streamlit_extension_operation", default=None))
    ambient: AmbientSource | None = None  # the one ambient source (a Streamlit run), if installed
    interaction_end: Callable[[str], None] | None = None  # told when a scope's own interaction ends


_vars: _Variables = shared(f"{__name__}.variables", _Variables)
correlation_id_var: ContextVar[str | None] = _vars.correlation_id
operation_var: ContextVar[OperationFrame | None] = _vars.operation


def _ended_frame(frame: OperationFrame | None, operation_id: object = None, correlation_id: object = None) -> bool:
    """Is ``operation_id`` (or the interaction ``correlation_id``) one of this context's own
    frames that has ended? Then its values are still here only because it ended elsewhere."""
    while frame is not None:
        if frame.operation_id == operation_id or (correlation_id is not None
                                                 and frame.correlation_id == correlation_id):
            return frame.closed
        frame = frame.parent
    return False


def reconcile_operation(extra: dict[str, Any]) -> None:
    """Make a record's operation fields (``logger.contextualize`` carries them) say what the
    frame stack says: an operation that ended elsewhere left its values in this context; the
    nearest open one's replace them, or none (a run's own fields fill in). Values an app bound
    itself are not ours, and are kept."""
    frame = operation_var.get()
    if frame is None:
        return
    operation_id = extra.get("operation_id")
    if operation_id is None or (not frame.closed and operation_id == frame.operation_id):
        return  # the common case: nothing, or the innermost open operation
    if not _ended_frame(frame, operation_id):
        return
    live = live_frame(frame)
    if live is None:
        for key in _OPERATION_KEYS:
            extra.pop(key, None)
    else:
        extra.update(operation=live.name, operation_id=live.operation_id, parent_operation_id=live.parent_operation_id)


_OPERATION_KEYS = ("operation", "operation_id", "parent_operation_id")


def scope_correlation_id() -> str | None:
    """The id a scope made current here (``correlation_scope``, ``set_correlation_id``, or an
    operation that opened its own interaction), unless it is the interaction of an operation
    that ended elsewhere."""
    value = correlation_id_var.get()
    if value is not None and _ended_frame(operation_var.get(), correlation_id=value):
        return None
    return value


class Activation:
    """An operation's frame made current in this context, for as long as the activation lasts:
    the frame stack (``operation_var``), the operation's fields in ``logger.contextualize``, and
    the interaction it opened, where the context doesn't already say it.

    Leaving never raises. In a context other than the one it began in (a generator closed from
    another thread, an async generator finalised by the event loop) the values can't be taken
    back: the frame is marked closed, and ``reconcile_operation`` and ``scope_correlation_id``
    skip what it left.
    """

    __slots__ = ("_cid_token", "_ctx", "_op_token", "frame")

    def __init__(self, frame: OperationFrame) -> None:
        self.frame = frame

    def __enter__(self) -> None:
        frame = self.frame
        frame.closed = False
        # Only where the context doesn't already say this interaction (its own new id, or a
        # generator resumed elsewhere): inside a Streamlit run the run stays the scope.
        cid = frame.interaction_id
        self._cid_token = correlation_id_var.set(cid) if cid is not None and current_correlation_id() != cid else None
        self._op_token = operation_var.set(frame)
        self._ctx = logger.contextualize(
            operation=frame.name, operation_id=frame.operation_id, parent_operation_id=frame.parent_operation_id
        )
        self._ctx.__enter__()

    def in_place(self) -> bool:
        """Is this frame still the innermost one in the current context (a plain, in-order exit)?"""
        return operation_var.get() is self.frame

    def __exit__(self, *exc: Any) -> None:
        frame = self.frame
        frame.closed = True
        if operation_var.get() is not frame:
            # Another context, or a scope that began after this one is still open: resetting
            # would undo that scope's values. Leave them; the frame stack says they ended.
            self._end_contextualize_keeping_values()
            return
        for undo in (self._exit_contextualize, self._reset_operation, self._reset_correlation):
            try:
                undo()
            except (ValueError, RuntimeError):  # "created in a different Context", or used twice
                pass

    def _end_contextualize_keeping_values(self) -> None:
        # The block must end now: left open, its cleanup would run whenever it is garbage
        # collected, and undo whatever scope is current then.
        var = _loguru.contextualize_var()
        current = var.get() if var is not None else None
        try:
            self._exit_contextualize()
        except (ValueError, RuntimeError):  # another context: nothing here was changed
            return
        if var is not None:
            var.set(current)

    def _exit_contextualize(self) -> None:
        self._ctx.__exit__(None, None, None)

    def _reset_operation(self) -> None:
        operation_var.reset(self._op_token)

    def _reset_correlation(self) -> None:
        if self._cid_token is not None:
            correlation_id_var.reset(self._cid_token)


def opened_interaction(operation_id: object) -> bool:
    """Is ``operation_id`` the current operation, and did it open its own interaction (a
    top-level operation outside any scope or run)? Its end is then the interaction's end."""
    frame = operation_var.get()
    return frame is not None and frame.operation_id == operation_id and frame.correlation_id is not None


def on_interaction_end(listener: Callable[[str], None] | None) -> None:
    """Have ``listener(correlation_id)`` called when an interaction ends: a ``correlation_scope``
    that opened one, or a Streamlit run (None: no one). The failure context drops or finishes its buffer then."""
    _vars.interaction_end = listener


def interaction_ended(value: str) -> None:
    """The interaction ``value`` ended (a scope left, a run finished): tell the listener."""
    listener = _vars.interaction_end
    if listener is not None:
        try:
            listener(value)
        except Exception as exc:
            _report.notice_once("interaction-end", f"an interaction's end was not handled ({_report.describe(exc)})")


def adopt_correlation_id(value: str | None) -> None:
    """In a worker thread's fresh copy of a context: make the submitting page's interaction id
    current, if this context has none."""
    if value is not None and correlation_id_var.get() is None:
        correlation_id_var.set(value)


class AmbientSource(Protocol):
    """Where record fields come from when no scope set them (the current Streamlit run)."""

    def fields(self) -> Mapping[str, Any] | None:
        """``correlation_id``, ``session_id``, ``user_id``, ``operation``... or None."""

    def set_correlation_id(self, value: str) -> bool:
        """Make ``value`` current for the rest of the ambient scope; False if there is none."""

    def settle(self) -> None:
        """Called outside any logging call (an operation starting): do what a scope found by a
        record could not do inside the patcher."""


def set_ambient_source(source: AmbientSource | None) -> None:
    """Install (or with None, clear) the one ambient source."""
    _vars.ambient = source


def ambient_fields() -> Mapping[str, Any] | None:
    """The ambient fields for the current thread, or None (also if the source fails)."""
    source = _vars.ambient
    if source is None:
        return None
    try:
        return source.fields()
    except Exception as exc:
        _report.notice_once("ambient", f"context lookup failed ({_report.describe(exc)})")
        return None


def settle_ambient() -> None:
    """Let the ambient source finish, outside the patcher, what a record found (never raises)."""
    if _vars.ambient is not None:
        try:
            _vars.ambient.settle()
        except Exception as exc:
            _report.notice_once("ambient-settle", f"context update failed ({_report.describe(exc)})")


def current_correlation_id() -> str | None:
    """The id of the current scope, else the ambient one (a Streamlit run), else None."""
    value = scope_correlation_id()
    if value is None and _vars.ambient is not None:
        fields = ambient_fields()
        if fields:
            value = fields.get("correlation_id")
    return value


def current_reference() -> str | None:
    """The reference a user can quote to support for what they are doing now: the current
    interaction's correlation id (``st-logs trace`` finds it), or None outside any interaction.

    In a Streamlit run, the run's id, the one shown under a page's uncaught error; in a worker
    started with ``run_in_thread`` or ``ContextThreadPoolExecutor``, the id of the run that
    started it, also after that run ended.
    """
    return current_correlation_id()


def current_operation_id() -> str | None:
    """The innermost open operation's id: a tracked operation, else the ambient run's."""
    frame = live_frame(operation_var.get())
    if frame is not None:
        return frame.operation_id
    fields = ambient_fields() if _vars.ambient is not None else None
    return fields.get("operation_id") if fields else None


def _set_ambient_id(value: str) -> bool:
    try:
        return _vars.ambient is not None and _vars.ambient.set_correlation_id(value)
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
        if not (_vars.ambient is not None and correlation_id_var.get() is None and _set_ambient_id(value)):
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
    # Only with a listener: a scope that reuses the enclosing id doesn't end that interaction.
    enclosing = current_correlation_id() if _vars.interaction_end is not None or correlation_id is None else None
    if correlation_id is not None:
        value = checked_id(correlation_id, source="correlation_scope")
    else:
        value = enclosing or new_id("req")
    opened = value != enclosing
    token = correlation_id_var.set(value)
    try:
        yield value
    finally:
        correlation_id_var.reset(token)
        if opened and _vars.interaction_end is not None:
            interaction_ended(value)
