"""A small backend service for the end-to-end test: what a team's own API would do.

It logs with this library into its own folder, joining the caller's interaction: the
``X-Request-ID`` header becomes its correlation id, and the ``traceparent``'s trace id is bound to
its records. Usage: ``python backend_service.py PORT LOG_DIR``.
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from loguru import logger

from streamlit_extension import correlation_logger, correlation_scope, setup_logging


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        traceparent = self.headers.get("traceparent") or ""
        trace_id = traceparent.split("-")[1] if traceparent.count("-") == 3 else None
        with correlation_scope(self.headers.get("X-Request-ID")):
            with correlation_logger.track_operation("backend_store_client", {"client_key": body.get("client_key")}):
                logger.bind(trace_id=trace_id, baggage=self.headers.get("baggage")).info(
                    "backend received client {}", body.get("client_key"))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    port, folder = int(sys.argv[1]), sys.argv[2]
    os.environ["LOG_OTEL"] = "off"  # a service without OpenTelemetry: it reads the headers itself
    setup_logging(log_path=os.path.join(folder, "backend.jsonl"), json_format="flat", console=False)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()
