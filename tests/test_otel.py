"""OpenTelemetry with the real SDK and the real OTLP/HTTP exporter, posting to a receiver that
parses the protobuf (``tests/support/otlp_receiver.py``).

The SDK's providers are process-global and can be set once, so every case runs the app in its
own process: a real ``streamlit run`` server, or a script driving AppTest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.sdk", reason="the 'otel' extra is not installed")

from .helpers import read_json_lines
from .support.otlp_receiver import OtlpReceiver
from .support.streamlit_server import StreamlitServer, StreamlitSession

pytestmark = pytest.mark.streamlit  # the Streamlit-side set: CI runs it on the floor and 1.56 too

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "streamlit_extension" / "app.py"


def otel_env(tmp_path: Path, receiver: OtlpReceiver, **extra: str) -> dict[str, str]:
    return {**os.environ, "LOG_FILE": str(tmp_path / "logs" / "app.jsonl"), "LOG_FORMAT": "flat",
            "LOG_PER_PROCESS": "0", "DEMO_DB_PATH": str(tmp_path / "app.db"), "XDG_STATE_HOME": str(tmp_path / "state"),
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_SERVICE_NAME": "demo-app",
            "OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_BLRP_SCHEDULE_DELAY": "100", **extra}


def check_click(receiver: OtlpReceiver, log_file: Path, client_key: str) -> dict:
    """The click that created ``client_key``: its span tree, ids on records, and OTLP logs."""
    assert receiver.wait_for(lambda r: any(s.name == "create_client" and s.attributes.get("correlation_id")
                                           for s in r.spans)), "no create_client span arrived"
    records = read_json_lines(log_file)
    (done,) = [r for r in records if r["operation"] == "create_client" and r["event"] == "complete"
               and r["metadata"] == {"client_key": client_key}]
    cid = done["correlation_id"]
    click = [r for r in records if r["correlation_id"] == cid]
    trace_ids = {r.get("trace_id") for r in click}
    assert len(trace_ids) == 1, trace_ids  # every record of the click
    assert None not in trace_ids, trace_ids
    (trace_id,) = trace_ids
    assert receiver.wait_for(lambda r: sum(s.trace_id == trace_id for s in r.spans) >= 3)
    spans = {s.name: s for s in receiver.spans if s.trace_id == trace_id}
    root = [s for s in spans.values() if s.name.startswith("script_run")]
    assert len(root) == 1
    assert root[0].parent_span_id == ""
    run, page, create = root[0], spans["render_clients_page"], spans["create_client"]
    assert run.name == "script_run Clients"
    assert page.parent_span_id == run.span_id
    assert create.parent_span_id == page.span_id
    assert run.attributes["correlation_id"] == cid
    assert run.attributes["page"] == "Clients"
    assert run.attributes["session.id"] == done["session_id"]
    assert run.attributes["enduser.pseudo.id"] == done["user_id"]
    assert "@" not in run.attributes["enduser.pseudo.id"]
    assert run.resource["service.name"] == "demo-app"
    assert run.resource["service.instance.id"]
    # Each record's span_id is the innermost operation's span at the time.
    assert {r["span_id"] for r in click if r["operation"] == "create_client"} == {create.span_id}
    assert receiver.wait_for(lambda r: sum(log.trace_id == trace_id for log in r.logs) >= len(click))
    logs = [log for log in receiver.logs if log.trace_id == trace_id]
    assert sorted(log.body for log in logs) == sorted(r["message"] for r in click)
    assert all(log.attributes["correlation_id"] == cid for log in logs)
    completed = next(log for log in logs if log.body == "create_client completed")
    assert completed.severity_text == "INFO"
    assert completed.severity_number == 9
    assert completed.span_id == create.span_id
    return {"trace_id": trace_id, "correlation_id": cid, "spans": spans}


@contextlib.contextmanager
def backend_service(seen: list[dict] | None = None, delay: float = 0.0) -> Iterator[str]:
    """A backend service on loopback (its URL): answers each GET or POST with 204 after ``delay``
    seconds, keeping the request's headers in ``seen``."""

    class Backend(BaseHTTPRequestHandler):
        def answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if seen is not None:
                seen.append(dict(self.headers))
            time.sleep(delay)
            self.send_response(204)
            self.end_headers()

        def do_GET(self) -> None:
            self.answer()

        def do_POST(self) -> None:
            self.answer()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def create_client_over_protocol(server: StreamlitServer, key: str, headers=None) -> str:
    async def scenario() -> str:
        async with StreamlitSession(server, headers=headers or {}, timeout=60) as session:
            page = session.last_result
            form = {label: next(w for w in page.widgets("text_input") if w.label == label).widget_id
                    for label in ("Client key", "Name", "E-mail")}
            for label, value in (("Client key", key), ("Name", "Otel Corp"), ("E-mail", "ops@otel.example")):
                session.stage_widget_value(form[label], value)
            result = await session.click_button("Create client")
            assert result.ok, result.exceptions
            return session.session_id

    return asyncio.run(scenario())


def test_a_real_server_click_is_one_trace_with_its_logs(tmp_path):
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with OtlpReceiver() as receiver:
        with StreamlitServer(APP, env=otel_env(tmp_path, receiver), cwd=str(tmp_path)) as server:
            create_client_over_protocol(server, "OTEL1", headers={"traceparent": traceparent})
            click = check_click(receiver, tmp_path / "logs" / "app.jsonl", "OTEL1")
            console = server.logs(max_chars=1_000_000)
    run = next(s for s in click["spans"].values() if s.name.startswith("script_run"))
    # The handshake's traceparent is per connection: a link, not the parent.
    assert run.links == [("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")]
    assert click["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736"
    assert "Overriding of current" not in console  # configured once, whatever the reruns
    assert "Traceback" not in console


APPTEST_SCRIPT = r'''
import sys
from streamlit.testing.v1 import AppTest
from opentelemetry import trace
from opentelemetry._logs import get_logger_provider

at = AppTest.from_file(sys.argv[1], default_timeout=60).run()
at.selectbox(key="sign_in_as").set_value("alice").run()
for key, value in (("new_client_key", "OTEL2"), ("new_client_name", "Otel Corp"),
                   ("new_client_email", "ops@otel.example")):
    at.text_input(key=key).input(value)
[button for button in at.button if button.label == "Create client"][0].click()
at.run()
assert not at.exception, at.exception
trace.get_tracer_provider().force_flush()
get_logger_provider().force_flush()
'''


def test_an_apptest_click_is_one_trace_with_its_logs(tmp_path):
    from .demo.conftest import apptest_runs_file_pages

    if not apptest_runs_file_pages():
        pytest.skip("this Streamlit's AppTest runs st.Page files as empty scripts (fixed in 1.44)")
    script = tmp_path / "drive.py"
    script.write_text(APPTEST_SCRIPT)
    with OtlpReceiver() as receiver:
        env = otel_env(tmp_path, receiver, LOG_CONSOLE="0")
        done = subprocess.run([sys.executable, str(script), str(APP)], env=env, cwd=str(tmp_path),
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr[-3000:]
        check_click(receiver, tmp_path / "logs" / "app.jsonl", "OTEL2")


SCRIPT_PRELUDE = r'''
import json, os, sys, time
from loguru import logger
from streamlit_extension import correlation_logger, correlation_scope, outgoing_headers, setup_logging
'''


def run_script(tmp_path: Path, body: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT_PRELUDE + body)
    return subprocess.run([sys.executable, str(script)], env=env, cwd=str(tmp_path), capture_output=True, text=True,
                          timeout=timeout)


def plain_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return {**env, "LOG_FILE": str(tmp_path / "app.jsonl"), "LOG_FORMAT": "flat", "LOG_PER_PROCESS": "0",
            "LOG_CONSOLE": "0", **extra}


def test_outgoing_headers_carry_the_trace_and_the_correlation_id(tmp_path):
    with OtlpReceiver() as receiver:
        done = run_script(tmp_path, r'''
setup_logging()
with correlation_scope("req_0123456789ab"):
    with correlation_logger.track_operation("call_backend"):
        print(json.dumps(outgoing_headers()))
        logger.info("calling")
''', plain_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url))
    assert done.returncode == 0, done.stderr
    headers = json.loads(done.stdout)
    (calling,) = [r for r in read_json_lines(tmp_path / "app.jsonl") if r["message"] == "calling"]
    _version, trace_id, span_id, _flags = headers["traceparent"].split("-")
    assert (trace_id, span_id) == (calling["trace_id"], calling["span_id"])
    assert headers["baggage"] == "correlation_id=req_0123456789ab"
    assert headers["X-Request-ID"] == "req_0123456789ab"


def test_without_opentelemetry_outgoing_headers_still_carry_the_correlation_id(tmp_path):
    done = run_script(tmp_path, r'''
setup_logging(otel="off")
with correlation_scope("req_0123456789ab"):
    print(json.dumps(outgoing_headers()))
''', plain_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"baggage": "correlation_id=req_0123456789ab", "X-Request-ID": "req_0123456789ab"}


def test_ids_are_captured_at_call_time_also_for_an_enqueued_sink(tmp_path):
    with OtlpReceiver() as receiver:
        done = run_script(tmp_path, r'''
from opentelemetry import trace
setup_logging()
seen = []
logger.add(lambda message: seen.append(message.record["extra"].get("span_id")), enqueue=True, format="{message}")
with trace.get_tracer("app").start_as_current_span("work") as span:
    logger.info("inside")
logger.complete()
print(json.dumps({"seen": seen, "span": format(span.get_span_context().span_id, "016x")}))
''', plain_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["seen"] == [result["span"]]  # the caller's span, not the queue thread's (none)


def test_otlp_log_records_carry_each_levels_severity_and_json_attributes(tmp_path):
    """Severity number and text per loguru level (OTel's TRACE 1, DEBUG 5, INFO 9, WARN 13,
    ERROR 17, FATAL 21 ranges), plain fields as they are, a dict field as its JSON text."""
    with OtlpReceiver() as receiver:
        done = run_script(tmp_path, r'''
setup_logging(level="TRACE")
for level in ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"):
    logger.log(level, f"at {level}")
logger.bind(event="start", duration_ms=1.5, success=True, metadata={"k": [1, "x"]}).info("fields")
''', plain_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url))
        assert done.returncode == 0, done.stderr
        assert receiver.wait_for(lambda r: len([log for log in r.logs if log.body.startswith("at ")]) == 7)
        assert receiver.wait_for(lambda r: any(log.body == "fields" for log in r.logs))
    levels = {log.body[3:]: (log.severity_number, log.severity_text) for log in receiver.logs
              if log.body.startswith("at ")}
    assert levels == {"TRACE": (1, "TRACE"), "DEBUG": (5, "DEBUG"), "INFO": (9, "INFO"), "SUCCESS": (10, "SUCCESS"),
                      "WARNING": (13, "WARNING"), "ERROR": (17, "ERROR"), "CRITICAL": (21, "CRITICAL")}
    (fields,) = [log for log in receiver.logs if log.body == "fields"]
    assert fields.attributes["event"] == "start"
    assert fields.attributes["duration_ms"] == 1.5
    assert fields.attributes["success"] is True
    assert json.loads(fields.attributes["metadata"]) == {"k": [1, "x"]}


def test_every_record_carries_the_span_it_was_logged_in(tmp_path):
    """Spans that change (nested, back to the parent, a sibling, another thread) change the
    ids on the very next record: the formatted ids are reused only for the same span. A span
    that ended but is still current gives no ids; an id the app bound itself stays outside
    any span, and inside one the span's id wins."""
    with OtlpReceiver() as receiver:
        done = run_script(tmp_path, r'''
import threading
from opentelemetry import trace
setup_logging()
tracer, expected = trace.get_tracer("app"), {}

def log(name):
    span = trace.get_current_span().get_span_context()
    expected[name] = (format(span.trace_id, "032x"), format(span.span_id, "016x"))
    logger.info(name)

def other_thread():
    with tracer.start_as_current_span("t"):
        log("t1")

with tracer.start_as_current_span("a"):
    log("a1")
    with tracer.start_as_current_span("b"):
        log("b1")
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        with tracer.start_as_current_span("c"):
            log("c1")
        log("b2")
    log("a2")
with tracer.start_as_current_span("d"):
    log("d1")
    logger.bind(trace_id="app-bound").info("bound-inside")
    ended = tracer.start_span("ended")
    with trace.use_span(ended, end_on_exit=False):
        logger.info("before-end")
        ended.end()
        logger.info("after-end")
logger.bind(trace_id="app-bound").info("bound-outside")
print(json.dumps(expected))
''', plain_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url))
    assert done.returncode == 0, done.stderr
    expected = json.loads(done.stdout)
    lines = {r["message"]: r for r in read_json_lines(tmp_path / "app.jsonl")}
    records = {name: (r["trace_id"], r["span_id"]) for name, r in lines.items() if name in expected}
    assert records == {name: tuple(ids) for name, ids in expected.items()}
    assert lines["bound-inside"]["trace_id"] == records["d1"][0]
    assert lines["bound-outside"]["trace_id"] == "app-bound"
    assert len(lines["before-end"]["span_id"]) == 16
    assert lines["before-end"]["trace_id"] == records["d1"][0]
    assert "span_id" not in lines["after-end"]
    assert "trace_id" not in lines["after-end"]
    assert len({span for _, span in records.values()}) == 5  # a, b, c, d, t
    assert records["a1"] == records["a2"]
    assert records["b1"] == records["b2"]
    assert records["d1"][0] != records["a1"][0]  # a new root span: a new trace


def test_an_unreachable_collector_never_blocks_or_loops(tmp_path):
    from .test_replicas import free_port

    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    done = run_script(tmp_path, r'''
import logging
setup_logging()
slowest = 0.0
for n in range(200):
    t = time.perf_counter()
    with correlation_logger.track_operation("op"):
        logging.getLogger("legacy").warning("record %d", n)
    slowest = max(slowest, time.perf_counter() - t)
print(json.dumps({"slowest": slowest}))
''', plain_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=dead, OTEL_EXPORTER_OTLP_TIMEOUT="1",
               OTEL_BSP_SCHEDULE_DELAY="50", OTEL_BLRP_SCHEDULE_DELAY="50"), timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["slowest"] < 0.5  # no caller waits on the network
    assert time.monotonic() - started < 60
    records = read_json_lines(tmp_path / "app.jsonl")
    assert len([r for r in records if r["message"].startswith("record ")]) == 200
    # The exporter's own complaints go to stderr, never back through loguru into the exporter.
    assert not [r for r in records if str(r["logger"]).startswith("opentelemetry")]
    assert "deadlock" not in done.stderr
    assert "RecursionError" not in done.stderr
    # The exporter's complaint, said on stderr: a line when export fails (if it did before exit)
    # and one at exit with what was lost; none of the SDK's own retry lines.
    *failing, lost = done.stderr.splitlines()
    assert lost == (f"streamlit_extension: OpenTelemetry: 200 spans and 600 log records could not be delivered "
                    f"to {dead} (connection refused)")
    assert len(failing) <= 1
    assert all(line.startswith(f"streamlit_extension: OpenTelemetry: cannot deliver to {dead}") for line in failing)


def test_an_app_configured_tracer_provider_is_used_not_replaced(tmp_path):
    with OtlpReceiver() as receiver:
        done = run_script(tmp_path, r'''
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
mine = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(mine))
trace.set_tracer_provider(provider)
for _ in range(3):  # a rerun calls it again
    setup_logging()
with correlation_logger.track_operation("checkout"):
    pass
print(json.dumps({"same": trace.get_tracer_provider() is provider,
                  "spans": [s.name for s in mine.get_finished_spans()]}))
''', plain_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"same": True, "spans": ["checkout"]}
    assert "Overriding" not in done.stderr


def test_log_console_json_writes_flat_lines_to_stdout_without_a_file(tmp_path):
    done = run_script(tmp_path, r'''
setup_logging()
with correlation_scope("req_0123456789ab"):
    logger.info("to the collector")
''', plain_env(tmp_path, LOG_CONSOLE="json", LOG_FILE=""))
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    record = json.loads(line)
    assert record["message"] == "to the collector"
    assert record["correlation_id"] == "req_0123456789ab"
    assert not (tmp_path / "logs").exists()
    assert not (tmp_path / "app.jsonl").exists()


def test_bad_otel_settings_are_named():
    from streamlit_extension import setup_logging
    from streamlit_extension.otel import _api

    with pytest.raises(ValueError, match="otel: expected one of auto, on, off, got 'sometimes'"):
        setup_logging(log_path=None, console=False, otel="sometimes")
    sdk = _api.SDK
    try:
        _api.SDK = False  # as without the extra
        with pytest.raises(ValueError, match=r"otel: 'on' needs .*pip install opentelemetry-api opentelemetry-sdk "
                                             r"opentelemetry-exporter-otlp-proto-http .*pip install -e '\.\[otel\]'"):
            setup_logging(log_path=None, console=False, otel="on")
    finally:
        _api.SDK = sdk


def test_instrumented_requests_carry_the_interaction_without_outgoing_headers(tmp_path):
    """With opentelemetry-instrumentation-requests, a plain requests call from an operation
    carries its trace and (as baggage) its correlation id."""
    pytest.importorskip("opentelemetry.instrumentation.requests",
                        reason="opentelemetry-instrumentation-requests missing")
    seen: list[dict] = []
    with backend_service(seen) as backend, OtlpReceiver() as receiver:
        done = run_script(tmp_path, rf'''
import requests
from opentelemetry.instrumentation.requests import RequestsInstrumentor
RequestsInstrumentor().instrument()
setup_logging()
with correlation_scope("req_0123456789ab"):
    with correlation_logger.track_operation("fetch_prices"):
        logger.info("calling")
        requests.get("{backend}/prices", timeout=5)
''', plain_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url))
    assert done.returncode == 0, done.stderr
    (calling,) = [r for r in read_json_lines(tmp_path / "app.jsonl") if r["message"] == "calling"]
    (headers,) = seen
    assert headers["traceparent"].split("-")[1] == calling["trace_id"]
    assert "correlation_id=req_0123456789ab" in headers["baggage"]


def test_reruns_and_a_module_reload_configure_the_sdk_once(tmp_path):
    with OtlpReceiver() as receiver:
        done = run_script(tmp_path, r'''
import importlib
from opentelemetry import trace
from opentelemetry._logs import get_logger_provider
setup_logging()
providers = (trace.get_tracer_provider(), get_logger_provider())
for _ in range(3):  # reruns
    setup_logging()
del sys.modules["streamlit_extension.configure"]  # what Streamlit's watcher does to a changed module
importlib.import_module("streamlit_extension.configure").setup_logging()
print(json.dumps({"same": (trace.get_tracer_provider(), get_logger_provider()) == providers}))
''', plain_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"same": True}
    assert "Overriding" not in done.stderr


def test_otel_logs_exporter_none_keeps_spans_and_ids_and_exports_no_logs(tmp_path):
    with OtlpReceiver() as receiver:
        done = run_script(tmp_path, r'''
from opentelemetry import trace
setup_logging()
with correlation_logger.track_operation("op"):
    logger.info("inside")
trace.get_tracer_provider().force_flush()
''', plain_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_LOGS_EXPORTER="none"))
        assert done.returncode == 0, done.stderr
        assert receiver.wait_for(lambda r: any(s.name == "op" for s in r.spans))
        (inside,) = [r for r in read_json_lines(tmp_path / "app.jsonl") if r["message"] == "inside"]
        assert inside["trace_id"] == next(s for s in receiver.spans if s.name == "op").trace_id
        assert receiver.logs == []


# Spans that say what the records say: one duration, a refusal, the metadata, the instance.

def same_duration(span, record: dict) -> bool:
    """The span lasts the record's ``duration_ms`` (one pair of clock readings; ms rounded to 3 places)."""
    return abs((span.end_ns - span.start_ns) / 1e6 - record["duration_ms"]) <= 0.0005 + 1e-9


def ended_with_spans(receiver: OtlpReceiver, log_file: Path, timeout: float = 30) -> list[dict]:
    """The file's end records of operations (refused ones among them), once each one's span arrived."""
    deadline = time.monotonic() + timeout
    while True:
        ends = [r for r in read_json_lines(log_file) if r.get("event") in ("complete", "failed") and r.get("span_id")]
        arrived = {s.span_id for s in list(receiver.spans)}
        if any(r["event"] == "failed" for r in ends) and {r["span_id"] for r in ends} <= arrived:
            return ends
        assert time.monotonic() < deadline, "the spans of the records never all arrived"
        time.sleep(0.1)


def test_a_real_server_click_has_spans_as_long_as_their_records_and_a_refusal_says_so(tmp_path):
    """A click that creates a client and calls the backend, then one the store refuses: every
    operation's span lasts its record's ``duration_ms``; the refused ``create_client`` is no
    success in a trace viewer (UNSET status, ``operation.outcome``, ``error.type``, an
    ``exception`` event); the metadata is on the spans; ``service.instance.id`` is
    ``<host>-<pid>``."""
    from streamlit_extension.sinks.naming import host_tag

    log_file = tmp_path / "logs" / "app.jsonl"
    # A backend call that takes a moment, as the notify_backend did.
    with backend_service(delay=0.005) as backend, OtlpReceiver() as receiver:
        env = otel_env(tmp_path, receiver, DEMO_BACKEND_URL=backend)
        with StreamlitServer(APP, env=env, cwd=str(tmp_path)) as server:
            create_client_over_protocol(server, "SPAN1")
            create_client_over_protocol(server, "bad key!")  # refused: not a valid key
            pid = server.pid
            ends = ended_with_spans(receiver, log_file)
    spans = {s.span_id: s for s in receiver.spans}
    operations = {r["operation"] for r in ends}
    assert {"script_run", "create_client", "notify_backend", "render_clients_page"} <= operations
    for record in ends:
        span = spans[record["span_id"]]
        assert same_duration(span, record), (record["operation"], span.end_ns - span.start_ns, record["duration_ms"])
        if record["operation"] == "script_run":
            assert span.name.startswith("script_run")
        else:
            assert span.name == record["operation"]
            assert span.attributes["operation.id"] == record["operation_id"]
        assert span.resource["service.instance.id"] == f"{host_tag()}-{pid}"
    (notified,) = [r for r in ends if r["operation"] == "notify_backend"]
    assert notified["duration_ms"] >= 5
    assert spans[notified["span_id"]].attributes["metadata.client_key"] == "SPAN1"
    assert spans[notified["span_id"]].attributes["operation.outcome"] == "complete"
    (refused,) = [r for r in ends if r["operation"] == "create_client" and r["event"] == "failed"]
    assert refused["level"] == "WARNING"
    assert refused["error"]["expected"] is True
    span = spans[refused["span_id"]]
    assert span.status_code == 0  # UNSET: a user's mistake turned away, not a fault
    assert span.attributes["operation.outcome"] == "refused"
    kind = refused["error"]["type"]
    assert kind.endswith("ValidationError")
    assert span.attributes["error.type"] == kind  # the record's, as the conventions ask
    assert span.attributes["metadata.client_key"] == "bad key!"
    assert span.events == ["exception"]
    assert span.event_attributes == [{"exception.type": kind, "exception.message": refused["error"]["message"]}]


SPAN_SCRIPT = r'''
from opentelemetry import trace
setup_logging()

class Refused(Exception):
    pass

metadata = {"client_key": "K1", "password": "hunter2", "filters": {"region": "eu", "api_token": "t0k3n-value"},
            "note": "write to bob@example.com", "rows": 2**70, "tags": ["a", "b"], "long": "x" * 5000}
with correlation_logger.track_operation("described", metadata):
    pass
with correlation_logger.track_operation("many", {f"k{n:03d}": n for n in range(100)}):
    pass
try:
    with correlation_logger.track_operation("refused", {"client_key": "K2"}, expected=(Refused,)):
        raise Refused("no such client for ann@example.com")
except Refused:
    pass
try:
    with correlation_logger.track_operation("broken"):
        raise ValueError("upstream said api_key=abcdef1234567890")
except ValueError:
    pass
trace.get_tracer_provider().force_flush()
'''


def test_spans_carry_the_metadata_redacted_as_in_the_file_and_bounded(tmp_path):
    with OtlpReceiver() as receiver:
        done = run_script(tmp_path, SPAN_SCRIPT, plain_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
                                                           OTEL_LOGS_EXPORTER="none"))
        assert done.returncode == 0, done.stderr
        assert receiver.wait_for(lambda r: len(r.spans) >= 4)
    spans = {s.name: s for s in receiver.spans}
    records = read_json_lines(tmp_path / "app.jsonl")
    (start,) = [r for r in records if r["operation"] == "described" and r["event"] == "start"]
    in_file = start["metadata"]
    attributes = spans["described"].attributes
    # The same masks as the file, key by key.
    assert in_file["password"] == attributes["metadata.password"] == "[REDACTED]"
    assert in_file["filters"]["api_token"] == attributes["metadata.filters.api_token"] == "[REDACTED]"
    assert in_file["note"] == attributes["metadata.note"] == "write to [REDACTED]"
    assert attributes["metadata.client_key"] == "K1"
    assert attributes["metadata.filters.region"] == "eu"
    assert "hunter2" not in json.dumps(attributes)
    # Bounded and OTLP-safe: a long text cut, an int beyond int64 as text, a list as JSON.
    assert attributes["metadata.long"].startswith("x" * 1024 + "…[truncated")
    assert len(in_file["long"]) == 5000
    assert attributes["metadata.rows"] == str(2**70)
    assert json.loads(attributes["metadata.tags"]) == ["a", "b"]
    many = spans["many"].attributes
    assert len([key for key in many if key.startswith("metadata.")]) == 32
    assert many["operation.metadata_dropped"] == 68
    # Failed: ERROR with the exception, masked as in the file.
    broken = spans["broken"]
    (failed,) = [r for r in records if r["operation"] == "broken" and r["event"] == "failed"]
    assert broken.status_code == 2
    assert broken.status_message == "ValueError: upstream said api_key=[REDACTED]"
    assert broken.attributes["operation.outcome"] == "failed"
    assert broken.attributes["error.type"] == "ValueError"
    (event,) = broken.event_attributes
    assert event["exception.message"] == failed["error"]["message"] == "upstream said api_key=[REDACTED]"
    assert "abcdef1234567890" not in event["exception.stacktrace"]
    # Refused: UNSET, and saying so; its message masked, no stack trace (as in the file).
    refused = spans["refused"]
    assert refused.status_code == 0
    assert refused.attributes["operation.outcome"] == "refused"
    assert refused.attributes["error.type"] == "Refused"
    assert refused.event_attributes == [{"exception.type": "Refused",
                                         "exception.message": "no such client for [REDACTED]"}]
    assert spans["described"].attributes["operation.outcome"] == "complete"
    assert "error.type" not in spans["described"].attributes
    assert spans["described"].status_code == 0
    # One duration per operation, span and record.
    for record in records:
        if record.get("event") in ("complete", "failed"):
            assert same_duration(spans[record["operation"]], record), record["operation"]


INSTANCE_SCRIPT = r'''
from opentelemetry import trace
from opentelemetry._logs import get_logger_provider
if os.environ.get("APP_PROVIDER"):
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    trace.set_tracer_provider(TracerProvider(resource=Resource.create({"service.instance.id": "app-set"})))
setup_logging()
from streamlit_extension.sinks.naming import host_tag
print(json.dumps({"traces": trace.get_tracer_provider().resource.attributes.get("service.instance.id"),
                  "logs": get_logger_provider().resource.attributes.get("service.instance.id"),
                  "expected": f"{host_tag()}-{os.getpid()}"}))
'''


@pytest.mark.parametrize("setting", ["default", "OTEL_RESOURCE_ATTRIBUTES", "app provider"])
def test_service_instance_id_is_host_and_pid_unless_the_user_set_one(tmp_path, setting):
    extra = {"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test,service.instance.id=replica-7"} \
        if setting == "OTEL_RESOURCE_ATTRIBUTES" else {"APP_PROVIDER": "1"} if setting == "app provider" else {}
    with OtlpReceiver() as receiver:
        done = run_script(tmp_path, INSTANCE_SCRIPT, plain_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
                                                               **extra))
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    wanted = {"default": seen["expected"], "OTEL_RESOURCE_ATTRIBUTES": "replica-7", "app provider": "app-set"}[setting]
    assert (seen["traces"], seen["logs"]) == (wanted, wanted)


FORK_SCRIPT = r'''
from opentelemetry import trace
setup_logging()
with correlation_logger.track_operation("before_fork"):
    pass
child = os.fork()
if child == 0:
    with correlation_logger.track_operation("in_child"):
        pass
    trace.get_tracer_provider().force_flush()
    os._exit(0)
os.waitpid(child, 0)
trace.get_tracer_provider().force_flush()
from streamlit_extension.sinks.naming import host_tag
print(json.dumps({"parent": f"{host_tag()}-{os.getpid()}", "child": f"{host_tag()}-{child}"}))
'''


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")
@pytest.mark.parametrize("user_set", [False, True])
def test_a_forked_child_names_its_own_instance_not_a_random_one(tmp_path, user_set):
    """After a fork the SDK gives the child's providers a random ``service.instance.id``; the
    child is its own ``<host>-<pid>``, or keeps the id the user set."""
    extra = {"OTEL_RESOURCE_ATTRIBUTES": "service.instance.id=replica-7"} if user_set else {}
    with OtlpReceiver() as receiver:
        done = run_script(tmp_path, FORK_SCRIPT, plain_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
                                                           OTEL_LOGS_EXPORTER="none", **extra))
        assert done.returncode == 0, done.stderr
        assert receiver.wait_for(lambda r: {"before_fork", "in_child"} <= {s.name for s in r.spans})
    instances = {s.name: s.resource["service.instance.id"] for s in receiver.spans}
    tags = json.loads(done.stdout)
    wanted = ("replica-7", "replica-7") if user_set else (tags["parent"], tags["child"])
    assert (instances["before_fork"], instances["in_child"]) == wanted
