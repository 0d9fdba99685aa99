"""Patcher step (OpenTelemetry on): the current span's ``trace_id`` and ``span_id``.

Read in the caller's thread, when the record is made, so a sink that runs elsewhere
(``enqueue=True``, the OTLP exporter) still gets the span the call was made in. Only a
recording span counts: with no SDK configured there are no ids to give.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..otel import _api
from ..otel.logs import SPAN_CONTEXT

if TYPE_CHECKING:
    from loguru import Record


# The last span context seen and its ids as hex: a run's records share one span, and formatting
# the two ints was half this step. Held strongly, so ``is`` can't match a new object at its address.
_last: tuple[Any, str, str] = (None, "", "")


def add_trace_ids(record: Record) -> None:
    global _last
    span = _api.trace.get_current_span()
    if not span.is_recording():
        return
    span_context = span.get_span_context()
    last = _last
    if last[0] is not span_context:
        last = _last = (span_context, format(span_context.trace_id, "032x"), format(span_context.span_id, "016x"))
    own: dict[str, Any] = record  # type: ignore[assignment]  # our top-level key isn't in Record
    own[SPAN_CONTEXT] = span_context  # for the OTLP log sink, wherever it runs
    extra = record["extra"]
    extra["trace_id"] = last[1]
    extra["span_id"] = last[2]
