"""A loguru sink that hands each record to OpenTelemetry's ``LoggerProvider`` (OTLP logs).

The record keeps its body, severity, time, trace context (the ids the patcher captured in the
caller's thread) and our fields as attributes. The SDK's batch processor queues it and exports
from its own thread, so no caller waits on the network. Records made by OpenTelemetry itself or
on its exporter threads are not sent back into it: that loop is how an OTel handler next to an
InterceptHandler deadlocks (loguru #1399).
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from ..schema import CORRELATION_FIELDS, OPERATION_FIELDS
from . import _api

if TYPE_CHECKING:
    from loguru import Record

# loguru level number -> OTel severity number (TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21)
_SEVERITIES = ((5, 1), (10, 5), (20, 9), (25, 10), (30, 13), (40, 17))
_OWN_LOGGERS = ("opentelemetry", "urllib3", "requests")
# Our fields, sent as log-record attributes (trace and span ids travel as the record's context).
ATTRIBUTE_FIELDS = (*CORRELATION_FIELDS, *OPERATION_FIELDS, "operation_id", "parent_operation_id", "page", "request_id")
SPAN_CONTEXT = "se_span_context"  # a top-level record key the patcher sets (never serialized)
_EXPORTER_THREADS = "OtelBatch"


def severity_number(level_no: int) -> int:
    for ceiling, number in _SEVERITIES:
        if level_no <= ceiling:
            return number
    return 21


_PLAIN = (str, bool, int, float)  # what an OTel attribute takes as it is


def _attribute(value: Any) -> Any:
    if isinstance(value, _PLAIN):  # subclasses too (StrEnum, IntEnum)
        return value
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


_severities: dict[int, Any] = {}  # level number -> SeverityNumber: an enum call per record cost ~0.4 µs


def _severity(level_no: int) -> Any:
    found = _severities.get(level_no)
    if found is None:
        found = _severities[level_no] = _api.SeverityNumber(severity_number(level_no))
    return found


class OtlpLogSink:
    """``logger.add(OtlpLogSink(provider), format=...)``: one OTel log record per record."""

    def __init__(self, logger_provider: Any) -> None:
        from .. import __version__

        self._logger = logger_provider.get_logger("streamlit_extension", __version__)

    def write(self, message: Any) -> None:
        record = message.record
        extra = record["extra"]
        name = extra.get("logger_name") or record["name"] or ""
        if record["thread"].name.startswith(_EXPORTER_THREADS) or name.startswith(_OWN_LOGGERS):
            return
        # Our fields (the trace ids travel as the context); each attribute costs the SDK ~1.5 µs,
        # so the app's own extras stay in the file.
        attributes = {}
        get = extra.get
        for key in ATTRIBUTE_FIELDS:
            value = get(key)
            if value is not None:
                attributes[key] = value if type(value) in _PLAIN else _attribute(value)  # exact types: no call
        attributes["logger.name"] = name
        self._logger.emit(
            timestamp=int(record["time"].timestamp() * 1e9),
            # In the caller's thread its own context is the record's; elsewhere (enqueue=True),
            # the span the patcher captured.
            context=None if record["thread"].id == threading.get_ident() else _context(record.get(SPAN_CONTEXT)),
            severity_number=_severity(record["level"].no),
            severity_text=record["level"].name,
            body=record["message"],
            attributes=attributes,
        )


def _context(span_context: Any) -> Any:
    """A context whose current span is the one the record was made in (or an empty one)."""
    if span_context is None:
        return _api.context.Context()
    return _api.trace.set_span_in_context(_api.NonRecordingSpan(span_context))


def format_message(record: Record) -> str:
    return "{message}"
