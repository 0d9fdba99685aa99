"""Patcher step: keep an exception whole as ``extra["error"]``.

loguru's own ``serialize`` keeps only ``traceback: true``; this keeps type, message and the
formatted traceback, the same shape ``track_operation`` writes on failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import error_context

if TYPE_CHECKING:
    from loguru import Record


def add_error_context(record: Record) -> None:
    exception = record["exception"]
    if exception is None or exception.value is None:
        return
    extra = record["extra"]
    if extra.get("error") is None:
        extra["error"] = error_context(exception.value, exception.traceback)
