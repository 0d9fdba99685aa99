"""Patcher step: who and which interaction a record belongs to.

Values bound explicitly (``bind``/``contextualize``) win; then the current scope; then the
ambient source (a Streamlit run); then the honest fallbacks ``null`` / ``"anonymous"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..context import ambient_fields, reconcile_operation, scope_correlation_id
from ..schema import ANONYMOUS

if TYPE_CHECKING:
    from loguru import Record


def add_correlation(record: Record) -> None:
    extra = record["extra"]
    reconcile_operation(extra)
    ambient = ambient_fields()
    if "correlation_id" not in extra:
        cid = scope_correlation_id()
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
