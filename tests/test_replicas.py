"""Beyond one machine, end to end: two demo replicas behind a real nginx with sticky sessions,
OpenTelemetry export to a receiver, and a backend service called from a page.

nginx comes from Debian's package (``.ci/run`` installs it, like chromium); without it this
skips with a message.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.sdk", reason="the 'otel' extra is not installed")

from .helpers import read_json_lines
from .support.otlp_receiver import OtlpReceiver
from .support.streamlit_server import StreamlitServer, StreamlitSession

pytestmark = pytest.mark.streamlit  # the Streamlit-side set: CI runs it on the floor and 1.56 too

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "streamlit_extension" / "app.py"
BACKEND = Path(__file__).parent / "apps" / "backend_service.py"
SESSIONS = 8


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


NGINX_CONF = """
{user}
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy; fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream replicas {{
        hash $cookie_route;  # sticky: a session's websocket stays on one replica (modulo, not a ring: port-independent)
        server 127.0.0.1:{a};
        server 127.0.0.1:{b};
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_read_timeout 300s;
        }}
    }}
}}
"""


def start_nginx(folder: Path, a: int, b: int) -> tuple[subprocess.Popen, int]:
    folder.mkdir(parents=True)
    port = free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(user=user, dir=folder, a=a, b=b, port=port))
    proc = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_port(port)
    return proc, port


def create_client(url: str, route: int, key: str) -> str:
    async def scenario() -> str:
        async with StreamlitSession(url, headers={"Cookie": f"route={route}"}, timeout=90) as session:
            page = session.last_result
            form = {label: next(w for w in page.widgets("text_input") if w.label == label).widget_id
                    for label in ("Client key", "Name", "E-mail")}
            for label, value in (("Client key", key), ("Name", f"Replica {route}"), ("E-mail", "ops@replica.example")):
                session.stage_widget_value(form[label], value)
            result = await session.click_button("Create client")
            assert result.ok, (result.texts, result.exceptions)
            assert result.contains(f"Client {key} created."), (result.texts, result.exceptions)
            await session.rerun()  # and one more interaction on the same replica
            return session.session_id

    return asyncio.run(scenario())


NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def test_replicas_behind_nginx_and_a_backend_make_one_story_per_click(tmp_path):
    if NGINX is None:
        pytest.skip("nginx is not installed (Debian package 'nginx'; .ci/run installs it)")
    backend_port = free_port()
    backend = subprocess.Popen([sys.executable, str(BACKEND), str(backend_port), str(tmp_path / "backend")],
                               stdout=subprocess.PIPE, text=True)
    servers, nginx = [], None
    try:
        assert backend.stdout.readline().strip() == "ready"
        with OtlpReceiver() as receiver:
            for name in ("a", "b"):
                env = {**os.environ, "LOG_FILE": str(tmp_path / name / "app.jsonl"), "LOG_FORMAT": "flat",
                       "LOG_CONSOLE": "0", "DEMO_DB_PATH": str(tmp_path / "shared.db"),
                       "XDG_STATE_HOME": str(tmp_path / "state"), "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
                       "OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_BLRP_SCHEDULE_DELAY": "100",
                       "DEMO_BACKEND_URL": f"http://127.0.0.1:{backend_port}"}
                servers.append(StreamlitServer(APP, env=env, cwd=str(tmp_path)).start())
            nginx, port = start_nginx(tmp_path / "nginx", servers[0].port, servers[1].port)
            url = f"ws://127.0.0.1:{port}/_stcore/stream"
            keys = [f"R{n}" for n in range(SESSIONS)]
            session_ids = [create_client(url, n, key) for n, key in enumerate(keys)]
            assert receiver.wait_for(lambda r: sum(s.name == "notify_backend" for s in r.spans) >= SESSIONS)
    finally:
        for server in servers:
            server.stop()
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)
        backend.terminate()
        backend.wait(timeout=10)

    # Sticky: each session's records are all on one replica, and both replicas served some.
    folders = {name: [r for path in (tmp_path / name).glob("*.jsonl") for r in read_json_lines(path)] for name in "ab"}
    where = defaultdict(set)
    for name, records in folders.items():
        for r in records:
            where[r["session_id"]].add(name)
    assert all(len(where[sid]) == 1 for sid in session_ids)
    assert {n for sid in session_ids for n in where[sid]} == {"a", "b"}

    backend_records = read_json_lines(tmp_path / "backend" / "backend.jsonl")
    for key in keys:
        (done,) = [r for records in folders.values() for r in records
                   if r["operation"] == "create_client" and r["event"] == "complete"
                   and r["metadata"] == {"client_key": key}]
        cid, trace_id = done["correlation_id"], done["trace_id"]
        received = [r for r in backend_records if r["message"] == f"backend received client {key}"]
        assert len(received) == 1
        assert received[0]["correlation_id"] == cid  # X-Request-ID
        assert received[0]["trace_id"] == trace_id  # the traceparent's trace is the click's
        assert received[0]["baggage"] == f"correlation_id={cid}"
        spans = {s.name for s in receiver.spans if s.trace_id == trace_id}
        assert {"create_client", "notify_backend", "render_clients_page"} <= spans
        # One command over both replicas' folders and the backend's shows the whole story.
        shown = subprocess.run([sys.executable, "-m", "streamlit_extension.logs", "trace", "--json", cid,
                                str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "backend")],
                               capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0, shown.stderr
        story = json.loads(shown.stdout)
        operations = {r.get("operation") for r in story["records"]}
        assert {"script_run", "create_client", "notify_backend", "backend_store_client"} <= operations, operations
