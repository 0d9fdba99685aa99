"""Spans for script runs and tracked operations, through ``opentelemetry-api``.

With only the API installed (or no SDK configured) the spans are no-ops, and records get no
``trace_id``/``span_id``. ``setup_logging`` decides whether tracing is on (see ``provider``) and
publishes one ``Tracing`` through ``active()``; the run and operation code asks for it and does
nothing more when there is none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import _report
from .._shared import shared
from . import _api

TRACER_NAME = "streamlit_extension"


class Tracing:
    """Start, make current and end spans; never raises into the app."""

    def __init__(self) -> None:
        from .. import __version__

        self.tracer = _api.trace.get_tracer(TRACER_NAME, __version__)

    def start(self, name: str, attributes: Mapping[str, Any], links: Sequence[Any] = (), *, root: bool = False,
              start_time: int | None = None) -> Any:
        """A span, child of whatever span is current in this context (``root``: of none);
        ``start_time`` (ns since the epoch) when it began before now."""
        try:
            parent = _api.context.Context() if root else None
            return self.tracer.start_span(name, context=parent, attributes=_attributes(attributes),
                                          links=list(links) or None, start_time=start_time)
        except Exception as exc:
            _report.notice_once("otel-start", f"could not start a span ({_report.describe(exc)})")
            return None

    def attach(self, span: Any, correlation_id: str | None = None) -> Any:
        """Make ``span`` current here, with ``correlation_id`` as baggage; a token for ``detach``."""
        try:
            ctx = _api.trace.set_span_in_context(span)
            if correlation_id:
                ctx = _api.baggage.set_baggage("correlation_id", correlation_id, ctx)
            return _api.context.attach(ctx)
        except Exception as exc:
            _report.notice_once("otel-attach", f"could not make a span current ({_report.describe(exc)})")
            return None

    @staticmethod
    def detach(token: Any) -> None:
        if token is not None:
            try:
                _api.context.detach(token)  # in another context it reports to OTel's own logger
            except Exception:
                pass

    @staticmethod
    def rename(span: Any, name: str, **attributes: Any) -> None:
        try:
            span.update_name(name)
            span.set_attributes(_attributes(attributes))
        except Exception:
            pass

    @staticmethod
    def end(span: Any, error: Mapping[str, Any] | None = None) -> None:
        """End ``span``; with ``error`` ({type, message, traceback}) as an ERROR with an exception event."""
        if span is None:
            return
        try:
            if error is not None:
                kind = error.get("type") or "Exception"
                span.set_status(_api.Status(_api.StatusCode.ERROR, f"{kind}: {error.get('message')}"))
                span.add_event("exception", _attributes({
                    "exception.type": kind, "exception.message": error.get("message"),
                    "exception.stacktrace": error.get("traceback"),
                }))
            span.end()
        except Exception as exc:
            _report.notice_once("otel-end", f"could not end a span ({_report.describe(exc)})")


def remote_link(trace_id: str, span_id: str, sampled: bool) -> Any:
    """A link to a span in another process (the handshake's ``traceparent``)."""
    flags = _api.TraceFlags(_api.TraceFlags.SAMPLED if sampled else 0)
    return _api.Link(_api.SpanContext(int(trace_id, 16), int(span_id, 16), is_remote=True, trace_flags=flags))


def _attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """OTel attributes take str, bool, int, float (or lists of one): drop None, stringify the rest."""
    out = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = value if isinstance(value, (str, bool, int, float)) else str(value)
    return out


@dataclass(eq=False)
class Active:
    tracing: Tracing | None = None  # what ``active()`` answers


_active: Active = shared(f"{__name__}.active", Active)


def active() -> Tracing | None:
    """The Tracing ``setup_logging`` turned on, or None."""
    return _active.tracing


def set_active(tracing: Tracing | None) -> None:
    _active.tracing = tracing
