"""An OTLP/HTTP receiver for tests: what a collector would get, parsed with opentelemetry-proto.

Runs on a free loopback port in a thread; the SDK's OTLP/HTTP exporters post protobuf to
``/v1/traces`` and ``/v1/logs`` when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is its ``url``. A collector in
trouble: ``status=503`` refuses every export (nothing is kept), ``delay=2`` answers each after 2 s.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


@dataclass
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    status_code: int
    events: list[str]
    links: list[tuple[str, str]]
    resource: dict[str, Any]
    start_ns: int = 0  # start_time_unix_nano
    end_ns: int = 0
    status_message: str = ""
    event_attributes: list[dict[str, Any]] = field(default_factory=list)  # per event, as ``events``


@dataclass
class ReceivedLog:
    body: str
    severity_number: int
    severity_text: str
    trace_id: str
    span_id: str
    attributes: dict[str, Any]


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def _attrs(items: Any) -> dict[str, Any]:
    return {item.key: _value(item.value) for item in items}


@dataclass
class OtlpReceiver:
    spans: list[ReceivedSpan] = field(default_factory=list)
    logs: list[ReceivedLog] = field(default_factory=list)
    requests: int = 0
    status: int = 200
    delay: float = 0.0

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                time.sleep(receiver.delay)
                if receiver.status == 200:
                    receiver.receive(self.path, body)
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def receive(self, path: str, body: bytes) -> None:
        with self._lock:
            self.requests += 1
            if path.endswith("/v1/traces"):
                request = ExportTraceServiceRequest.FromString(body)
                for resource_spans in request.resource_spans:
                    resource = _attrs(resource_spans.resource.attributes)
                    for scope in resource_spans.scope_spans:
                        for span in scope.spans:
                            self.spans.append(ReceivedSpan(
                                span.name, span.trace_id.hex(), span.span_id.hex(), span.parent_span_id.hex(),
                                _attrs(span.attributes), span.status.code, [event.name for event in span.events],
                                [(link.trace_id.hex(), link.span_id.hex()) for link in span.links], resource,
                                span.start_time_unix_nano, span.end_time_unix_nano, span.status.message,
                                [_attrs(event.attributes) for event in span.events]))
            elif path.endswith("/v1/logs"):
                request = ExportLogsServiceRequest.FromString(body)
                for resource_logs in request.resource_logs:
                    for scope in resource_logs.scope_logs:
                        for record in scope.log_records:
                            self.logs.append(ReceivedLog(
                                _value(record.body), record.severity_number, record.severity_text,
                                record.trace_id.hex(), record.span_id.hex(), _attrs(record.attributes)))

    def wait_for(self, condition: Callable[[OtlpReceiver], bool], timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if condition(self):
                    return True
            time.sleep(0.05)
        return False

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
