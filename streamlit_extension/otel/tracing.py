"""Spans for script runs and tracked operations, through ``opentelemetry-api``.

With only the API installed (or no SDK configured) the spans are no-ops, and records get no
``trace_id``/``span_id``. ``setup_logging`` decides whether tracing is on (see ``provider``) and
publishes one ``Tracing`` through ``active()``, with the sanitizer its file uses; the run and
operation code asks for it and does nothing more when there is none.

What a span says comes from the record's own values, passed through that same sanitizer (secret
keys and shapes masked exactly as in the file) with tighter bounds: an operation's metadata
becomes ``metadata.<key>`` attributes, an error the ``exception`` event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import _report
from .._shared import shared
from . import _api

if TYPE_CHECKING:
    from ..patcher.sanitize import Sanitizer

TRACER_NAME = "streamlit_extension"
METADATA_PREFIX = "metadata"
DROPPED_METADATA = "operation.metadata_dropped"  # how many metadata values were left off the span
MAX_METADATA_ATTRIBUTES = 32  # per span; the file keeps them all
MAX_METADATA_DEPTH = 3  # levels flattened (metadata.a.b.c); a mapping deeper down as JSON text
MAX_ATTRIBUTE_CHARS = 1024  # one attribute's text (the file: 64 KiB a field)
MAX_SPAN_CHARS = 16 * 1024  # one span's metadata in all
MAX_STACKTRACE_CHARS = 16 * 1024  # an exception event's traceback, its message and type
_INT64 = (-(2**63), 2**63 - 1)  # OTLP's int attribute; a larger int is sent as text
_PLAIN = (str, bool, int, float)


class Tracing:
    """Start, make current and end spans; never raises into the app."""

    def __init__(self) -> None:
        from .. import __version__

        self.tracer = _api.trace.get_tracer(TRACER_NAME, __version__)

    def start(self, name: str, attributes: Mapping[str, Any], links: Sequence[Any] = (), *, root: bool = False,
              start_time: int | None = None, metadata: Any = None) -> Any:
        """A span, child of whatever span is current in this context (``root``: of none);
        ``start_time`` (ns since the epoch) when it began before now; ``metadata`` (an
        operation's) as sanitized, bounded ``metadata.<key>`` attributes."""
        try:
            parent = _api.context.Context() if root else None
            values = _attributes(attributes)
            if metadata is not None:
                values.update(metadata_attributes(metadata))
            return self.tracer.start_span(name, context=parent, attributes=values,
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
    def end(span: Any, error: Mapping[str, Any] | None = None, *, refused: bool = False, outcome: str | None = None,
            end_time: int | None = None) -> None:
        """End ``span`` (at ``end_time``, ns since the epoch, when given).

        ``error`` ({type, message, traceback}, sanitized here as in the file) adds ``error.type``
        and an ``exception`` event; status ERROR, unless ``refused`` (an ``expected=`` failure:
        the operation turned a user's mistake away, status left UNSET, as OpenTelemetry's HTTP
        conventions do for a server's 4xx). ``outcome`` becomes ``operation.outcome``."""
        if span is None:
            return
        try:
            if outcome is not None:
                span.set_attribute("operation.outcome", outcome)
            if error is not None:
                _describe_error(span, _error(error), refused)
        except Exception as exc:  # the span still ends, saying less
            _report.notice_once("otel-describe", f"could not describe a span's end ({_report.describe(exc)})")
        try:
            span.end(end_time=end_time)
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


def _describe_error(span: Any, error: Mapping[str, Any], refused: bool) -> None:
    kind = error.get("type") or "Exception"
    span.set_attribute("error.type", kind)
    if not refused:
        message = error.get("message")
        span.set_status(_api.Status(_api.StatusCode.ERROR, f"{kind}: {message}" if message else kind))
    span.add_event("exception", _attributes({
        "exception.type": kind, "exception.message": error.get("message"),
        "exception.stacktrace": error.get("traceback"),
    }))


def metadata_attributes(metadata: Any) -> dict[str, Any]:
    """An operation's metadata as span attributes: sanitized as the file's, nested mappings
    flattened (``metadata.filters.region``), lists and deeper values as JSON text, at most
    ``MAX_METADATA_ATTRIBUTES`` of them (``operation.metadata_dropped`` counts the rest)."""
    sanitizers = _active_sanitizers()
    if sanitizers is None:  # nothing to redact with: say nothing rather than leak
        return {}
    fields = sanitizers[0]
    out: dict[str, Any] = {}
    try:
        clean = fields.value(metadata, [fields.max_record])
        if type(clean) is not dict:  # a Mapping that isn't a dict: the file writes its text too
            return {} if clean is None else {METADATA_PREFIX: _attribute(clean)}
        dropped = _flatten(METADATA_PREFIX, clean, out, MAX_METADATA_DEPTH)
    except Exception as exc:  # the span starts without its metadata (the file has it)
        _report.notice_once("otel-metadata", f"an operation's metadata could not go on its span "
                                             f"({_report.describe(exc)})")
        return {}
    if dropped:
        out[DROPPED_METADATA] = dropped
    return out


def _flatten(prefix: str, values: dict[str, Any], out: dict[str, Any], depth: int) -> int:
    """Put sanitized ``values`` into ``out`` as ``prefix.key``; the count of values left off."""
    dropped = 0
    for key, value in values.items():
        name = f"{prefix}.{key}"
        if type(value) is dict and depth > 1:
            dropped += _flatten(name, value, out, depth - 1)
        elif value is None:
            continue
        elif len(out) >= MAX_METADATA_ATTRIBUTES:
            dropped += 1
        else:
            out[name] = _attribute(value)
    return dropped


def _attribute(value: Any) -> Any:
    """A sanitized value as an OTLP attribute: plain values as they are, the rest as JSON text."""
    if type(value) is int and not _INT64[0] <= value <= _INT64[1]:
        value = str(value)
    if type(value) in _PLAIN:
        return value
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if len(text) > MAX_ATTRIBUTE_CHARS:
        text = f"{text[:MAX_ATTRIBUTE_CHARS]}…[truncated {len(text) - MAX_ATTRIBUTE_CHARS} chars]"
    return text


def _error(error: Mapping[str, Any]) -> Mapping[str, Any]:
    """``error`` with its text masked and bounded as the file's would be."""
    sanitizers = _active_sanitizers()
    if sanitizers is None:
        return {"type": error.get("type")}  # no message or traceback that could hold a secret
    errors = sanitizers[1]
    clean = errors.value(dict(error), [errors.max_record])
    return clean if isinstance(clean, dict) else {"type": error.get("type")}


@dataclass(eq=False)
class Active:
    tracing: Tracing | None = None  # what ``active()`` answers
    sanitizers: tuple[Sanitizer, Sanitizer] | None = None  # for metadata, for errors: see ``set_active``


_active: Active = shared(f"{__name__}.active", Active)


def active() -> Tracing | None:
    """The Tracing ``setup_logging`` turned on, or None."""
    return _active.tracing


def _active_sanitizers() -> tuple[Sanitizer, Sanitizer] | None:
    return getattr(_active, "sanitizers", None)  # an Active made by older code has none


def set_active(tracing: Tracing | None, sanitizer: Sanitizer | None = None) -> None:
    """Publish ``tracing``; spans redact with ``sanitizer``'s keys and values (the file's), within
    the span bounds above."""
    _active.tracing = tracing
    _active.sanitizers = None
    if tracing is not None and sanitizer is not None:
        from ..patcher.sanitize import Sanitizer

        keys, values = sanitizer.keys, sanitizer.values
        _active.sanitizers = (Sanitizer(keys, values, max_field=MAX_ATTRIBUTE_CHARS, max_record=MAX_SPAN_CHARS),
                              Sanitizer(keys, values, max_field=MAX_STACKTRACE_CHARS,
                                        max_record=3 * MAX_STACKTRACE_CHARS))
