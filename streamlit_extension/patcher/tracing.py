"""Patcher step (OpenTelemetry on): the current span's ``trace_id`` and ``span_id``.

Read in the caller's thread, when the record is made, so a sink that runs elsewhere
(``enqueue=True``, the OTLP exporter) still gets the span the call was made in. Only a
recording span counts: with no SDK configured there are no ids to give. It runs after the
sanitizer: the ids are ours, so they need no scan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..otel import _api
from ..otel.logs import SPAN_CONTEXT

if TYPE_CHECKING:
    from loguru import Record


# The last OTel context seen, its span, and the span's ids as hex. A context is immutable, so
# the same object holds the same span: a run's records skip the lookup and the formatting.
# Held strongly (one context at a time), so ``is`` can't match a new object at a freed one's
# address.
_last: tuple[Any, Any, Any, str, str] = (None, None, None, "", "")


def add_trace_ids(record: Record) -> None:
    global _last
    context = _api.context.get_current()
    last = _last
    if last[0] is not context:
        span = _api.trace.get_current_span(context)
        span_context = span.get_span_context()
        last = _last = (context, span, span_context, format(span_context.trace_id, "032x"),
                        format(span_context.span_id, "016x"))
    if not last[1].is_recording():  # checked per record: a span may end while still current
        return
    own: dict[str, Any] = record  # type: ignore[assignment]  # our top-level key isn't in Record
    own[SPAN_CONTEXT] = last[2]  # for the OTLP log sink, wherever it runs
    extra = record["extra"]
    extra["trace_id"] = last[3]
    extra["span_id"] = last[4]
