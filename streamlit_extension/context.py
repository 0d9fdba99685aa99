"""The context variables that say which interaction and operation a record belongs to.

This is the only module that touches them. Values live in ``contextvars``, so each thread and
each asyncio task sees its own; the variables themselves are created once per process (see
``_state``), so a re-import by Streamlit's file watcher keeps the values already set.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Optional

from . import _report, _state
from .validators import is_valid_id


class OperationFrame(NamedTuple):
    """The innermost tracked operation: its name, its id and its parent's id."""

    name: str
    operation_id: str
    parent_operation_id: Optional[str]


correlation_id_var: ContextVar[Optional[str]] = _state.persistent(
    "correlation_id_var", lambda: ContextVar("streamlit_extension_correlation_id", default=None)
)
operation_var: ContextVar[Optional[OperationFrame]] = _state.persistent(
    "operation_var", lambda: ContextVar("streamlit_extension_operation", default=None)
)

# Where the fields come from when no scope set them: the current Streamlit script run fills
# correlation_id, session_id, user_id, page... Returns None outside such a run.
AmbientProvider = Callable[[], Optional[Mapping[str, Any]]]
_ambient: list[AmbientProvider] = _state.persistent("ambient_providers", list)


def set_ambient_provider(provider: Optional[AmbientProvider]) -> None:
    """Install (or with None, clear) the one fallback source of record fields."""
    _ambient[:] = [] if provider is None else [provider]


def ambient_fields() -> Optional[Mapping[str, Any]]:
    """The ambient fields for the current thread, or None (also if the provider fails)."""
    if not _ambient:
        return None
    try:
        return _ambient[0]()
    except Exception as exc:
        _report.notice_once("ambient", f"context lookup failed ({_report.describe(exc)})")
        return None


def current_correlation_id() -> Optional[str]:
    """The id of the current scope, else the ambient one (a Streamlit run), else None."""
    value = correlation_id_var.get()
    if value is None and _ambient:
        fields = ambient_fields()
        if fields:
            value = fields.get("correlation_id")
    return value


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
    def get_current_correlation_id() -> Optional[str]:
        return current_correlation_id()

    @staticmethod
    def set_correlation_id(correlation_id: str) -> str:
        """Make ``correlation_id`` current until the context ends; an invalid id is replaced."""
        value = checked_id(correlation_id, source="set_correlation_id")
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
def correlation_scope(correlation_id: Optional[str] = None) -> Iterator[str]:
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
