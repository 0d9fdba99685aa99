"""OpenTelemetry: spans for runs and operations, trace ids on records, OTLP logs, and the
headers that carry an interaction to backend services.

Everything here is optional: without the ``otel`` extra only ``outgoing_headers`` does anything
(``X-Request-ID`` and a ``baggage`` entry). The module map: ``_api`` (every OpenTelemetry import),
``provider`` (``LOG_OTEL`` and the SDK), ``tracing`` (spans), ``logs`` (the OTLP log sink),
``delivery`` (our exporters: counted, quiet, bounded) and ``shutdown`` (a bounded exit).
"""

from __future__ import annotations

from ..context import current_correlation_id
from . import _api

REQUEST_ID_HEADER = "X-Request-ID"


def outgoing_headers(correlation_id: str | None = None) -> dict[str, str]:
    """Headers for a call from a page to a backend service, so it joins this interaction.

    ``traceparent`` for the current span (OpenTelemetry on), ``baggage`` with ``correlation_id``,
    and ``X-Request-ID: <correlation_id>`` for services without OpenTelemetry (what
    asgi-correlation-id and most proxies read). ``correlation_id`` defaults to the current one.
    """
    cid = correlation_id or current_correlation_id()
    headers: dict[str, str] = {}
    if _api.API:
        ctx = _api.context.get_current()
        if cid:
            ctx = _api.baggage.set_baggage("correlation_id", cid, ctx)
        _api.propagate.inject(headers, context=ctx)  # the global propagators: tracecontext, baggage
    if cid:
        headers.setdefault("baggage", f"correlation_id={cid}")
        headers[REQUEST_ID_HEADER] = cid
    return headers


__all__ = ["REQUEST_ID_HEADER", "outgoing_headers"]
