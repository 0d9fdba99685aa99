"""Every name this package takes from OpenTelemetry, imported in one place.

The API (``opentelemetry-api``) may be installed without the SDK, or not at all: ``API`` and
``SDK`` say which. The logs modules are still underscore-private upstream
(``opentelemetry._logs``, ``opentelemetry.sdk._logs``) and move between releases, so nothing
else in the package imports them.
"""

from __future__ import annotations

from typing import Any

try:
    from opentelemetry import baggage, context, propagate, trace
    from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ImportError:  # the optional "otel" extra is not installed
    API = False
    baggage = context = propagate = trace = None  # type: ignore[assignment]
    Link = NonRecordingSpan = SpanContext = SpanKind = Status = StatusCode = TraceFlags = None  # type: ignore
    TraceContextTextMapPropagator = None  # type: ignore[assignment,misc]
else:
    API = True

try:
    from opentelemetry._logs import SeverityNumber, get_logger_provider, set_logger_provider
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExportResult
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
except ImportError:
    SDK = False
    SeverityNumber = get_logger_provider = set_logger_provider = None  # type: ignore[assignment, misc]
    LoggerProvider = BatchLogRecordProcessor = Resource = TracerProvider = BatchSpanProcessor = None  # type: ignore
    LogRecordExportResult = SpanExportResult = None  # type: ignore[assignment, misc]
else:
    SDK = True


def otlp_span_exporter(timeout: float | None = None, session: Any = None) -> Any:
    """The OTLP/HTTP span exporter, configured from the standard ``OTEL_*`` variables;
    ``timeout`` (seconds, retries included) overrides ``OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT``,
    ``session`` (a ``requests.Session``) the one it would make."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(timeout=timeout, session=session)


def otlp_log_exporter(timeout: float | None = None, session: Any = None) -> Any:
    """The OTLP/HTTP log exporter, as ``otlp_span_exporter``."""
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    return OTLPLogExporter(timeout=timeout, session=session)


def otlp_exporter_loggers() -> tuple[str, ...]:
    """The stdlib loggers the OTLP/HTTP exporters report failed and retried exports on."""
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return (OTLPSpanExporter.__module__, OTLPLogExporter.__module__)


def sdk_tracer_provider_installed() -> bool:
    """Has anyone (the app, or us) set an SDK TracerProvider as the global one?"""
    return API and SDK and isinstance(trace.get_tracer_provider(), TracerProvider)


def sdk_logger_provider_installed() -> bool:
    return SDK and isinstance(get_logger_provider(), LoggerProvider)


def app_resource() -> Any:
    """The resource of an SDK provider the app set itself (tracer's first, then logger's), or None."""
    if sdk_tracer_provider_installed():
        return getattr(trace.get_tracer_provider(), "resource", None)
    if sdk_logger_provider_installed():
        return getattr(get_logger_provider(), "resource", None)
    return None


def sdk_random_instance_id() -> str | None:
    """The random ``service.instance.id`` the SDK's ``Resource.create`` puts first (1.39 and
    later; then the same one all process long), or None for an SDK without that detector."""
    try:
        from opentelemetry.sdk.resources import ServiceInstanceIdResourceDetector
    except ImportError:
        return None
    value = ServiceInstanceIdResourceDetector().detect().attributes.get("service.instance.id")
    return value if isinstance(value, str) else None


def update_resource(provider: Any, attributes: dict[str, Any]) -> None:
    """Merge ``attributes`` into an SDK provider's resource, for what it makes from now on (how
    the SDK itself renews ``service.instance.id`` after a fork; no-op where it can't)."""
    update = getattr(provider, "_update_resource", None)
    if update is not None:
        update(Resource(attributes))
