"""Turning OpenTelemetry on: ``setup_logging(otel=...)`` / ``LOG_OTEL``.

* ``off``: no spans, no ids, no OTLP.
* ``auto`` (the default): spans through the API whenever it is installed (no-ops until some SDK is
  configured); the SDK is configured here, once per process, when an OTLP endpoint variable is
  set and the ``otel`` extra is installed.
* ``on``: the SDK is configured here even without an endpoint variable (the exporters then post to
  ``http://localhost:4318``); a missing extra is a ``ValueError``.

A ``TracerProvider`` or ``LoggerProvider`` the app set itself is never replaced. The standard
``OTEL_*`` variables apply (service name, resource attributes, headers, endpoints;
``OTEL_LOGS_EXPORTER=none`` or ``OTEL_TRACES_EXPORTER=none`` turns one signal off);
``service.instance.id`` defaults to ``<host>-<pid>`` (see ``_resource``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import _report
from .._shared import shared
from ..sinks.naming import process_tag
from . import _api, delivery, shutdown
from .tracing import Tracing

MODES = ("auto", "on", "off")
ENDPOINT_VARS = (
    "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
)
EXTRA = ("pip install opentelemetry-api opentelemetry-sdk opentelemetry-exporter-otlp-proto-http "
         "(in a clone of the repository: pip install -e '.[otel]')")


@dataclass(eq=False)
class Sdk:
    configured_in: int | None = None  # the pid that configured the SDK: see ``configure_sdk``


_sdk: Sdk = shared(f"{__name__}.sdk", Sdk)


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"expected one of {', '.join(MODES)}, got {mode!r}")
    if mode == "on" and not (_api.API and _api.SDK):
        raise ValueError(f"'on' needs OpenTelemetry's API, SDK and OTLP exporter: {EXTRA}")
    return mode


def tracing_for(mode: str) -> Tracing | None:
    """The Tracing this mode gives (configuring the SDK first when asked), or None."""
    if mode == "off" or not _api.API:
        return None
    wanted = mode == "on" or any(os.environ.get(name) for name in ENDPOINT_VARS)
    if wanted and os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() != "true":
        if _api.SDK:
            configure_sdk()
        else:
            _report.notice_once("otel-sdk",
                                f"an OTLP endpoint is set but OpenTelemetry's SDK is not installed: {EXTRA}")
    return Tracing()


def configure_sdk() -> None:
    """Global tracer and logger providers with OTLP/HTTP batch exporters, once per process.

    At interpreter exit they get a bounded time to deliver what they hold (``shutdown``)."""
    if _sdk.configured_in == os.getpid():
        return
    _sdk.configured_in = os.getpid()  # also after a fork: the inherited providers stay
    try:
        resource, instance = _resource()
        traces = _exporter_wanted("OTEL_TRACES_EXPORTER") and not _api.sdk_tracer_provider_installed()
        logs = _exporter_wanted("OTEL_LOGS_EXPORTER") and not _api.sdk_logger_provider_installed()
        collector = delivery.Collector(delivery.where([name for name, ours in (("traces", traces), ("logs", logs))
                                                       if ours]))
        ending = shutdown.Exit(collector)
        delivery.quiet_exporter_reports()
        if traces:
            tally = delivery.Tally("span", "spans")
            exporter = delivery.BoundedExporter(_api.otlp_span_exporter, _api.SpanExportResult, tally, collector)
            tracer_provider = _api.TracerProvider(resource=resource, shutdown_on_exit=False)  # ours is bounded
            tracer_provider.add_span_processor(delivery.CountingSpanProcessor(exporter, tally))
            _api.trace.set_tracer_provider(tracer_provider)
            ending.add("traces", tracer_provider, exporter, tally)
        if logs:
            tally = delivery.Tally("log record", "log records")
            exporter = delivery.BoundedExporter(_api.otlp_log_exporter, _api.LogRecordExportResult, tally, collector)
            logger_provider = _api.LoggerProvider(resource=resource, shutdown_on_exit=False)
            logger_provider.add_log_record_processor(delivery.CountingLogRecordProcessor(exporter, tally))
            _api.set_logger_provider(logger_provider)
            ending.add("logs", logger_provider, exporter, tally)
        ours = [provider for provider, built in ((_api.trace.get_tracer_provider(), traces),
                                                  (_api.get_logger_provider(), logs)) if built]
        if instance is not None and ours:
            _keep_instance_after_fork(ours, instance)
    except Exception as exc:  # a bad OTEL_* value: logging goes on without export
        _report.notice_once("otel-configure", f"OpenTelemetry could not be configured ({_report.describe(exc)}); "
                                              "records are still written, not exported")


def _exporter_wanted(variable: str) -> bool:
    """``OTEL_TRACES_EXPORTER`` / ``OTEL_LOGS_EXPORTER``: ``none`` turns that signal off (say,
    logs read from the files or stdout by the collector instead); anything else means OTLP."""
    return os.environ.get(variable, "otlp").strip().lower() != "none"


def _resource() -> tuple[Any, Callable[[], str] | None]:
    """The resource for our providers, and what gives its ``service.instance.id`` in a forked child.

    An SDK provider the app set lends its own (so its spans and our logs, or the reverse, name
    one service instance; the SDK renews both alike after a fork). Else the detected resource,
    with ``service.instance.id`` the user's (``OTEL_RESOURCE_ATTRIBUTES``, a resource detector)
    or ``<host>-<pid>``, never the SDK's random UUID."""
    app = _api.app_resource()
    if app is not None:
        return app, None
    detected = _api.Resource.create({})
    instance = detected.attributes.get("service.instance.id")
    if isinstance(instance, str) and instance != _api.sdk_random_instance_id():
        return detected, lambda: instance
    return detected.merge(_api.Resource({"service.instance.id": process_tag()})), process_tag


def _keep_instance_after_fork(providers: list[Any], instance: Callable[[], str]) -> None:
    """After a fork the SDK gives each provider a new random ``service.instance.id``; ours get
    ``instance()`` back (the child's own ``<host>-<pid>``, or the user's). Our hook runs after
    the SDK's: hooks run in the order they were registered."""
    if not hasattr(os, "register_at_fork"):
        return

    def renew() -> None:
        for provider in providers:
            try:
                _api.update_resource(provider, {"service.instance.id": instance()})
            except Exception:  # the child keeps the SDK's id
                pass

    os.register_at_fork(after_in_child=renew)
