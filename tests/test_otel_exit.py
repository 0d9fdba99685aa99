"""Exit with OpenTelemetry on is bounded, whatever the collector does.

Each case runs a real process: a script with ``setup_logging(otel="on")`` and 300 operations, or a
real ``streamlit run`` server stopped with SIGINT or SIGTERM, exporting with the real SDK to a
collector that refuses connections, accepts and never answers, answers 503, answers after 2 s,
or is healthy (``tests/support/otlp_receiver.py``). The time is measured from a line the script
prints right before ``handle.close()`` or the end of the script (or from the signal), so process
start-up is not in it. The bound (3 s) is the one a hang must stay under, not a speed goal: the
budget is 2 s, and before it was bounded exit took 14 to 30 s.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.sdk", reason="the 'otel' extra is not installed")

from .support.otlp_receiver import OtlpReceiver
from .support.streamlit_server import StreamlitServer, StreamlitSession

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "tests" / "apps" / "otel_exit_app.py"
BOUND = 3.0  # seconds from close() / the script's end / the signal to process exit
MARK = "EXITING"

SCRIPT = r'''
import sys
from loguru import logger
from streamlit_extension import correlation_logger, setup_logging

handle = setup_logging(otel="on")
for n in range(300):
    with correlation_logger.track_operation("op"):
        logger.info("record {}", n)
print("EXITING", flush=True)
if sys.argv[1] == "close":
    handle.close()
'''

APP_PROVIDER_SCRIPT = r'''
import sys
from loguru import logger
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from streamlit_extension import correlation_logger, setup_logging

class Mine(InMemorySpanExporter):
    def shutdown(self):
        print(f"app exporter shut down with {len(self.get_finished_spans())} spans", flush=True)
        super().shutdown()

provider = TracerProvider()  # the SDK's own exit hook shuts it down, as the app asked
provider.add_span_processor(SimpleSpanProcessor(Mine()))
trace.set_tracer_provider(provider)
setup_logging(otel="on")
for n in range(300):
    with correlation_logger.track_operation("op"):
        logger.info("record {}", n)
print("EXITING", flush=True)
'''

FORK_SCRIPT = r'''
import os, sys, time
from streamlit_extension import correlation_logger, setup_logging

setup_logging(otel="on")
for n in range(10):
    with correlation_logger.track_operation("parent"):
        pass
pid = os.fork()
if pid == 0:  # gunicorn-style: the child logs, then ends the normal way (its own atexit hooks)
    setup_logging(otel="on")
    for n in range(5):
        with correlation_logger.track_operation("child"):
            pass
    with open("child_ended_at", "w") as out:
        out.write(repr(time.monotonic()))
    sys.exit(0)
os.waitpid(pid, 0)
with open("child_exit_took", "w") as out:
    out.write(repr(time.monotonic() - float(open("child_ended_at").read())))
print("EXITING", flush=True)
'''


def refusing_endpoint() -> str:
    """A loopback port nobody listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextmanager
def silent_collector() -> Iterator[str]:
    """A collector that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        for conn in held:
            conn.close()


@contextmanager
def collector(kind: str) -> Iterator[str]:
    if kind == "refusing":
        yield refusing_endpoint()
    elif kind == "silent":
        with silent_collector() as url:
            yield url
    else:  # "503": answers every export with 503 Service Unavailable
        with OtlpReceiver(status=503) as receiver:
            yield receiver.url


def script_env(tmp_path: Path, endpoint: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return {**env, "LOG_FILE": str(tmp_path / "app.jsonl"), "LOG_FORMAT": "flat", "LOG_PER_PROCESS": "0",
            "LOG_CONSOLE": "0", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, **extra}


def run_until_exit(tmp_path: Path, env: dict[str, str], how: str = "exit",
                   script: str = SCRIPT) -> tuple[float, str, str]:
    """Run ``script``; return (seconds from its EXITING line to process exit, stdout, stderr)."""
    path = tmp_path / "script.py"
    path.write_text(script)
    proc = subprocess.Popen([sys.executable, str(path), how], env=env, cwd=str(tmp_path), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # blocks until the script is about to close() / end
        started = time.monotonic()
        assert first.strip() == MARK, (first, proc.stderr.read() if proc.stderr else "")
        out, err = proc.communicate(timeout=120)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    return took, first + out, err


def lost_line(stderr: str) -> re.Match[str]:
    """The one line that says what never reached the collector; anything else on stderr may only
    be the line said when export first failed."""
    lines = stderr.splitlines()
    lost = [re.fullmatch(r"streamlit_extension: OpenTelemetry: (?:(\d+) spans? and )?(\d+) log records? could not "
                         r"be delivered to (\S+)(?: \((.+)\))?", line) for line in lines]
    found = [match for match in lost if match]
    assert len(found) == 1, stderr
    others = [line for line, match in zip(lines, lost, strict=True) if not match]
    assert len(others) <= 1, stderr
    assert all(re.match(r"streamlit_extension: OpenTelemetry: cannot deliver to ", line) for line in others), stderr
    return found[0]


@pytest.mark.parametrize("how", ["close", "exit"])
@pytest.mark.parametrize("kind", ["refusing", "silent", "503"])
def test_exit_is_bounded_when_the_collector_fails(tmp_path, kind, how):
    """Before: 14 s (refusing), 20 s (silent) after close(); the SDK's retry lines on stderr."""
    with collector(kind) as endpoint:
        took, _, stderr = run_until_exit(tmp_path, script_env(tmp_path, endpoint), how)
    assert took <= BOUND, f"{took:.2f} s\n{stderr}"
    lost = lost_line(stderr)
    assert lost.group(1, 2, 3) == ("300", "900", endpoint)  # every op's span, start/record/complete
    assert lost.group(4) in {"refusing": {"connection refused"}, "503": {"HTTP 503 Service Unavailable"},
                             "silent": {"timed out", "no answer within 2 s"}}[kind]
    assert "Traceback" not in stderr


@pytest.mark.parametrize("how", ["close", "exit"])
def test_a_healthy_collector_gets_every_span_and_log_record_at_exit(tmp_path, how):
    """The bound never costs a healthy collector anything: what is queued at exit is delivered
    (a guard: this passed before too)."""
    with OtlpReceiver() as receiver:
        took, _, stderr = run_until_exit(tmp_path, script_env(tmp_path, receiver.url), how)
        spans, logs = list(receiver.spans), list(receiver.logs)
    assert stderr == ""
    assert took <= BOUND
    assert sorted(span.name for span in spans) == ["op"] * 300
    bodies = sorted(log.body for log in logs)
    assert bodies == sorted([f"record {n}" for n in range(300)] + ["op started"] * 300 + ["op completed"] * 300)


def test_a_slow_collector_bounds_exit_and_counts_what_did_not_arrive(tmp_path):
    """A collector that answers each export after 2 s: exit still ends in time, and every span
    and log record either arrived or is counted in the line."""
    with OtlpReceiver(delay=2.0) as receiver:
        took, _, stderr = run_until_exit(tmp_path, script_env(tmp_path, receiver.url))
        arrived_spans, arrived_logs = len(receiver.spans), len(receiver.logs)
    assert took <= BOUND, f"{took:.2f} s\n{stderr}"
    if arrived_spans == 300 and arrived_logs == 900:
        assert stderr == ""
    else:
        lost = lost_line(stderr)
        assert arrived_spans + int(lost.group(1)) >= 300
        assert arrived_logs + int(lost.group(2)) >= 900


@pytest.mark.parametrize(("timeout", "low", "high"), [("1", 0.0, 1.8), ("4", 3.5, 4.8)])
def test_the_users_otlp_timeout_is_the_exit_budget(tmp_path, timeout, low, high):
    """``OTEL_EXPORTER_OTLP_TIMEOUT`` set by the user replaces the 2 s budget, shorter or longer."""
    with silent_collector() as endpoint:
        took, _, stderr = run_until_exit(tmp_path, script_env(tmp_path, endpoint, OTEL_EXPORTER_OTLP_TIMEOUT=timeout))
    assert low <= took <= high, f"{took:.2f} s\n{stderr}"
    assert lost_line(stderr).group(1, 2) == ("300", "900")


def test_an_apps_own_tracer_provider_keeps_its_own_exit(tmp_path):
    """With the app's TracerProvider we configure only the logs, bound only their exit, and count
    only them; the app's provider is still shut down at exit by the SDK, with all its spans."""
    endpoint = refusing_endpoint()
    took, stdout, stderr = run_until_exit(tmp_path, script_env(tmp_path, endpoint), script=APP_PROVIDER_SCRIPT)
    assert took <= BOUND, f"{took:.2f} s\n{stderr}"
    assert "app exporter shut down with 300 spans" in stdout
    lost = lost_line(stderr)
    assert lost.group(1) is None  # no spans of ours to count
    assert lost.group(2, 3) == ("900", endpoint)


def test_a_forked_child_bounds_and_counts_its_own_exit(tmp_path):
    """A child forked after setup exits within the bound too, and its line counts its own spans
    and log records (5 operations), not the parent's (10)."""
    endpoint = refusing_endpoint()
    took, _, stderr = run_until_exit(tmp_path, script_env(tmp_path, endpoint), script=FORK_SCRIPT)
    child_took = float((tmp_path / "child_exit_took").read_text())
    assert child_took <= BOUND, f"{child_took:.2f} s\n{stderr}"
    assert took <= BOUND, f"{took:.2f} s\n{stderr}"
    counts = re.findall(r"OpenTelemetry: (\d+) spans and (\d+) log records could not be delivered", stderr)
    assert counts == [("5", "10"), ("10", "20")], stderr  # the child's line, then the parent's
    assert "Traceback" not in stderr


def stop_with(server: StreamlitServer, signum: int) -> float:
    """Send ``signum`` to the server; the seconds until its process has exited."""
    assert server.pid is not None
    started = time.monotonic()
    os.kill(server.pid, signum)
    deadline = started + 60
    while server.is_running and time.monotonic() < deadline:
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.mark.streamlit
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("kind", ["refusing", "silent"])
def test_streamlit_run_stops_in_time_with_a_failing_collector(tmp_path, kind, signum):
    """Ctrl-C (SIGINT) or Kubernetes' SIGTERM on ``streamlit run`` after two runs of 300
    operations. Before: 25 to 30 s, past Kubernetes' 30 s grace period for the silent one."""
    with collector(kind) as endpoint:
        env = script_env(tmp_path, endpoint)
        with StreamlitServer(APP, env=env, cwd=str(tmp_path)) as server:
            async def two_runs() -> None:
                async with StreamlitSession(server, timeout=60) as session:
                    assert session.last_result is not None
                    assert session.last_result.ok
                    assert (await session.rerun()).ok

            asyncio.run(two_runs())
            time.sleep(0.5)  # the exporter's first attempts are under way, as on a real server
            took = stop_with(server, signum)
            stderr = server.stderr_path.read_text()
    assert took <= BOUND, f"{took:.2f} s\n{stderr[-3000:]}"
    lost = lost_line("\n".join(line for line in stderr.splitlines() if "OpenTelemetry" in line))
    # Two runs: their two script_run spans and 600 operation spans; every record in the file.
    assert lost.group(1, 2, 3) == ("602", str(len((tmp_path / "app.jsonl").read_text().splitlines())), endpoint)
    assert "Transient error" not in stderr
