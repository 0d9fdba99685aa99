"""Patcher step: who and which interaction a record belongs to.

Values bound explicitly (``bind``/``contextualize``) win; then the current scope; then the
ambient source (a Streamlit run); then the honest fallbacks ``null`` / ``"anonymous"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..context import (
    ambient_fields,
    correlation_id_var,
    is_stale_correlation,
    is_stale_operation,
    live_frame,
    operation_var,
)
from ..schema import ANONYMOUS

if TYPE_CHECKING:
    from loguru import Record

_OPERATION_KEYS = ("operation", "operation_id", "parent_operation_id")


def _drop_ended_operation(extra: dict) -> None:
    """An operation that ended elsewhere left its values in this context: use the nearest
    open operation's instead, or none (the run's own fields fill in)."""
    live = live_frame(operation_var.get())
    if live is None:
        for key in _OPERATION_KEYS:
            extra.pop(key, None)
    else:
        extra.update(operation=live.name, operation_id=live.operation_id, parent_operation_id=live.parent_operation_id)


def add_correlation(record: Record) -> None:
    extra = record["extra"]
    if is_stale_operation(extra.get("operation_id")):
        _drop_ended_operation(extra)
    ambient = ambient_fields()
    if "correlation_id" not in extra:
        cid = correlation_id_var.get()
        if is_stale_correlation(cid):  # opened by an operation that ended elsewhere
            cid = None
        if cid is None and ambient:
            cid = ambient.get("correlation_id")
        extra["correlation_id"] = cid
    if ambient:
        for key, value in ambient.items():
            if key not in extra:
                extra[key] = value
    if "session_id" not in extra:
        extra["session_id"] = None
    if "user_id" not in extra:
        extra["user_id"] = ANONYMOUS
