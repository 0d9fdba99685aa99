"""The Streamlit integration against a real ``streamlit run`` server, over the websocket protocol."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path

import pytest

from .helpers import read_json_lines
from .support.streamlit_server import TRUSTED_USER_HEADERS, StreamlitServer, StreamlitSession, trusted_user_header_args

pytestmark = pytest.mark.streamlit  # the Streamlit-side set: CI runs it on the floor and 1.56 too

APP = Path(__file__).parent / "apps" / "integration_app.py"
TRUSTED = trusted_user_header_args({"X-Forwarded-Email": "email"})


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    logs = tmp_path_factory.mktemp("integration-logs")
    (logs / ".streamlit").mkdir()
    (logs / ".streamlit" / "secrets.toml").write_text('[db]\npassword = "s3cr3t-from-toml"\nport = 5432\n')
    env = {**os.environ, "LOG_FILE": str(logs / "app.jsonl"), "LOG_FORMAT": "flat", "LOG_LEVEL": "INFO",
           "XDG_STATE_HOME": str(logs / "state"), "LOG_PER_PROCESS": "0"}
    with StreamlitServer(APP, env=env, cwd=str(logs), extra_args=TRUSTED) as srv:
        srv.log_file = logs / "app.jsonl"
        yield srv


def records_of(server, session_id):
    return [r for r in read_json_lines(server.log_file) if r["session_id"] == session_id]


def runs(records):
    """correlation_id -> that run's records, in file order."""
    grouped = defaultdict(list)
    for r in records:
        grouped[r["correlation_id"]].append(r)
    return grouped


def drive(server, steps, headers=None):
    async def scenario():
        async with StreamlitSession(server, headers=headers or {}) as session:
            for step in steps:
                await step(session)
            return session.session_id

    return asyncio.run(scenario())


def test_each_run_is_one_interaction_with_start_and_end(server):
    sid = drive(server, [lambda s: s.rerun(), lambda s: s.rerun()],
                headers={"X-Forwarded-Email": "ann@example.com", "X-Request-ID": "proxy-req-1",
                         "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
    records = records_of(server, sid)
    grouped = runs(records)
    assert len(grouped) == 3  # page load + two reruns
    for cid, group in grouped.items():
        assert cid.startswith("req_")
        lifecycle = [r for r in group if r["operation"] == "script_run" and r["event"]]
        assert [r["event"] for r in lifecycle] == ["start", "complete"]
        assert lifecycle[-1]["duration_ms"] > 0
        assert lifecycle[-1]["metadata"] == {"page": "integration_app"}
        assert {r["operation_id"] for r in group if r["operation"] == "script_run"} == {lifecycle[0]["operation_id"]}
        messages = [r["message"] for r in group]
        assert "page start" in messages
        assert "legacy page line" in messages
    (user_id,) = {r["user_id"] for r in records}
    # A trusted proxy header names the person where Streamlit has them; otherwise nobody does.
    assert user_id.startswith("user_") if TRUSTED_USER_HEADERS else user_id == "anonymous"
    assert {r["request_id"] for r in records} == {"proxy-req-1"}
    assert {r["trace_id"] for r in records} == {"4bf92f3577b34da6a3ce929d0e0e4736"}
    assert "ann@example.com" not in server.log_file.read_text()


def test_rerun_stop_and_failure_outcomes(server):
    async def scenario():
        async with StreamlitSession(server) as session:
            await session.click_button("rerun")
            await session.click_button("stop")
            await session.rerun()  # st.stop() ended the page before the next buttons
            result = await session.click_button("boom")
            return session.session_id, result

    sid, boom = asyncio.run(scenario())
    assert boom.exceptions
    assert "page exploded" in boom.exceptions[0]
    ends = [r for r in records_of(server, sid)
            if r["operation"] == "script_run" and r["event"] in ("complete", "failed")]
    outcomes = [(r["event"], (r["metadata"] or {}).get("outcome")) for r in ends]
    assert outcomes == [("complete", None), ("complete", "rerun"), ("complete", None), ("complete", "stop"),
                        ("complete", None), ("failed", None)]
    failed = ends[-1]
    assert failed["level"] == "ERROR"
    assert failed["success"] is False
    assert failed["error"]["type"] == "ValueError"
    assert failed["error"]["message"] == "page exploded"
    assert 'raise ValueError("page exploded")' in failed["error"]["traceback"]
    # The rerun's two runs share a thread but not an id.
    assert len({r["correlation_id"] for r in ends}) == 6


def test_session_state_user_id_wins(server):
    sid = drive(server, [lambda s: s.set_text_input("user_id", "carol"), lambda s: s.rerun()],
                headers={"X-Forwarded-Email": "carol@example.com"})
    records = records_of(server, sid)
    first_run = records[0]["correlation_id"]
    assert {r["user_id"] for r in records if r["correlation_id"] == first_run} == {records[0]["user_id"]}
    assert records[0]["user_id"].startswith("user_") if TRUSTED_USER_HEADERS else records[0]["user_id"] == "anonymous"
    assert records[-1]["user_id"] == "carol"


def test_worker_threads_keep_the_pages_correlation(server):
    sid = drive(server, [lambda s: s.click_button("work")])
    records = records_of(server, sid)
    spawn = next(r for r in records if r["operation"] == "spawn" and r["event"] == "start")
    workers = [r for r in records if r["message"] in ("worker thread", "pool task 0", "pool task 1", "pool task 2")]
    assert len(workers) == 4
    for r in workers:
        assert r["correlation_id"] == spawn["correlation_id"]
        assert r["session_id"] == sid
        assert (r["operation"], r["operation_id"]) == ("spawn", spawn["operation_id"])
    # A plain thread has no context: it is logged, honestly, without the page's ids.
    bare = [r for r in read_json_lines(server.log_file) if r["message"] == "bare thread"]
    assert bare
    assert bare[-1]["correlation_id"] is None
    assert bare[-1]["session_id"] is None
    # Nothing of ours asked Streamlit for a context that thread doesn't have.
    assert "missing ScriptRunContext" not in server.logs(max_chars=10_000_000) + server.log_file.read_text()


def test_fragment_rerun_gets_its_own_correlation_id(server):
    sid = drive(server, [lambda s: s.click_button("fragment")])
    records = records_of(server, sid)
    click = [r for r in records if r["message"] == "fragment click"]
    assert len(click) == 1
    page_load = records[0]["correlation_id"]
    assert click[0]["correlation_id"] != page_load
    assert click[0]["operation"] == "script_run"


def test_streamlits_own_loggers_are_routed_exactly_once(server):
    sid = drive(server, [lambda s: s.rerun()])
    probes = [r for r in records_of(server, sid) if r["message"] == "streamlit probe line"]
    assert len(probes) == 2  # one per run, never duplicated
    assert probes[0]["logger"] == "streamlit.probe"
    assert probes[0]["level"] == "WARNING"
    assert probes[0]["correlation_id"] != probes[1]["correlation_id"]
    # Streamlit's own console handler no longer prints it in its own format.
    assert "WARNING streamlit.probe: streamlit probe line" not in server.logs()


def test_bare_mode_and_foreign_threads_never_warn(tmp_path):
    script = tmp_path / "bare.py"
    script.write_text(
        "import logging, threading\n"
        "import streamlit\n"
        "from loguru import logger\n"
        "from streamlit_extension import init_streamlit_logging, correlation_logger, run_in_thread\n"
        "init_streamlit_logging(log_path='bare.jsonl', json_format='flat')\n"
        "logger.info('bare main')\n"
        "logging.getLogger('legacy').warning('bare legacy')\n"
        "correlation_logger.info('op', 'bare structured')\n"
        "t = threading.Thread(target=lambda: logger.info('bare thread')); t.start(); t.join()\n"
        "run_in_thread(lambda: logger.info('bare worker')).result()\n"
    )
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ScriptRunContext" not in done.stderr + done.stdout
    records = read_json_lines(tmp_path / "bare.jsonl")
    assert [r["message"] for r in records] == ["bare main", "bare legacy", "bare structured", "bare thread",
                                               "bare worker"]
    assert all(r["session_id"] is None and r["user_id"] == "anonymous" for r in records)


def test_hostile_ids_are_rejected_and_never_echoed(server):
    hostile = "evil\r\nINFO forged line \x1b[31m" + "A" * 10_000
    sid = drive(server, [lambda s: s.set_text_input("session_id", hostile), lambda s: s.rerun()],
                headers={"X-Request-ID": "bad id\twith tab", "traceparent": "00-" + "0" * 32 + "-" + "0" * 16 + "-01"})
    records = records_of(server, sid)
    assert records
    assert all(r["session_id"] == sid for r in records)
    assert all(r.get("request_id") is None and r.get("trace_id") is None for r in records)
    text = server.log_file.read_text()
    assert "forged" not in text
    assert "bad id" not in text
    console = server.logs(max_chars=50_000_000)
    assert "forged" not in console
    assert "bad id" not in console
    assert "ignored an invalid x-request-id header" in console.lower()
    assert "ignored an invalid session_id in session state" in console


def test_st_secrets_values_are_never_written(server):
    sid = drive(server, [lambda s: s.click_button("leak secret")])
    (line,) = [r for r in records_of(server, sid) if r["message"].startswith("connecting with password")]
    assert line["message"] == "connecting with password [REDACTED]"
    assert "s3cr3t-from-toml" not in server.log_file.read_text()


def _host_address() -> str | None:
    """This machine's first non-loopback IPv4 address, if it has one."""
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("198.51.100.1", 9))  # UDP: no packet is sent, this only picks a route
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_client_ip_is_the_clients_network_on_every_version(tmp_path):
    """LOG_IP=1: the client's address (st.context.ip_address, or the handshake's before 1.45),
    truncated to its /24; none from localhost, as st.context has it."""
    host = _host_address()
    if host is None:
        pytest.skip("this machine has no non-loopback IPv4 address to connect from")
    env = {**os.environ, "LOG_FILE": str(tmp_path / "app.jsonl"), "LOG_FORMAT": "flat", "LOG_PER_PROCESS": "0",
           "LOG_IP": "1", "XDG_STATE_HOME": str(tmp_path / "state")}

    async def session_id(url):
        async with StreamlitSession(url) as session:
            return session.session_id

    with StreamlitServer(APP, env=env, cwd=str(tmp_path), extra_args=["--server.address", "0.0.0.0"]) as srv:
        remote = asyncio.run(session_id(f"ws://{host}:{srv.port}/_stcore/stream"))
        local = asyncio.run(session_id(srv.ws_url))
    records = read_json_lines(tmp_path / "app.jsonl")
    network = ".".join(host.split(".")[:3]) + ".0/24"
    assert {r.get("client_ip") for r in records if r["session_id"] == remote} == {network}
    assert {r.get("client_ip") for r in records if r["session_id"] == local} == {None}
    assert host not in (tmp_path / "app.jsonl").read_text()  # only the network is kept


def test_web_server_access_lines_reach_the_log_once_with_addresses_masked(tmp_path):
    """Streamlit 1.57+ serves through uvicorn, whose own handler printed every access line raw
    (client address included) besides our record. Static files and health checks are DEBUG lines;
    requests for the app stay at INFO. Tornado releases log no access lines."""
    import urllib.request

    host = _host_address()
    if host is None:
        pytest.skip("this machine has no non-loopback IPv4 address to connect from")
    env = {**os.environ, "LOG_FILE": str(tmp_path / "app.jsonl"), "LOG_FORMAT": "flat", "LOG_PER_PROCESS": "0",
           "XDG_STATE_HOME": str(tmp_path / "state")}
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    requests = 3
    with StreamlitServer(APP, env=env, cwd=str(tmp_path), extra_args=["--server.address", "0.0.0.0"]) as srv:
        drive(srv, [lambda s: s.rerun()])  # the first run sets the routing up
        for _ in range(requests):
            opener.open(f"http://{host}:{srv.port}/", timeout=5).read()
            opener.open(f"http://{host}:{srv.port}/_stcore/health", timeout=5).read()
        time.sleep(0.5)
        console = srv.logs(max_chars=10_000_000)
    records = read_json_lines(tmp_path / "app.jsonl")
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    pages = [r for r in access if '"GET / HTTP' in r["message"]]
    printed = [line for line in console.splitlines() if '"GET / HTTP' in line]
    requests_printed = [line for line in console.splitlines() if '"GET ' in line]  # not Streamlit's "Network URL"
    assert host not in (tmp_path / "app.jsonl").read_text()
    assert not any(host in line for line in requests_printed)
    assert "INFO:     " not in console  # uvicorn's own format, printed beside ours
    assert not [r for r in access if "/_stcore/health" in r["message"]]  # a health check is not news
    if access:  # uvicorn (1.57+): each page request once in the file and once on the console, masked
        assert len(pages) == requests
        assert len(printed) == requests
        assert all(r["message"].startswith("[IP]:") for r in pages)
    else:
        assert printed == []


# A console line from the web server: its origin is uvicorn's, the websockets library's or Tornado's code.
WEB_SERVER_LINE = re.compile(r" \| (?:uvicorn|websockets|tornado)[\w.]*:[\w<>]+:\d+ - ")
# What a browser asks for besides the page: none of it is news at INFO.
ROUTINE = ("_stcore/health", "_stcore/host-config", "/static/", "favicon", "WebSocket", "connection open")


def browser_page_load(server, page, headers=None):
    """What a browser asks for when it opens ``/<page>``: the page, Streamlit's files, the probes
    under the page's prefix (404) and then at the root, then the websocket and its run. Returns
    the session id and the new console lines."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def get(path):
        try:
            return opener.open(server.url + path, timeout=10).read().decode(errors="replace")
        except urllib.error.HTTPError:  # a probe under the page's prefix: 404, as the browser gets
            return ""

    start = server.stderr_path.stat().st_size
    html = get(f"/{page}") or get("/")
    files = re.findall(r'(?:src|href)="\.?/?(static/[^"]+)"', html)[:3]
    assert files, html[:500]
    for path in (*(f"/{name}" for name in files), f"/{page}/_stcore/health", f"/{page}/_stcore/host-config",
                 "/_stcore/health", "/_stcore/host-config", "/favicon.png"):
        get(path)
    sid = drive(server, [lambda s: s.rerun()], headers)
    time.sleep(0.5)  # the server logs a request after answering it
    with open(server.stderr_path, "rb") as err:
        err.seek(start)
        return sid, err.read().decode(errors="replace").splitlines()


def test_a_page_load_is_one_info_line_and_every_line_says_who(server):
    """One line per page load at INFO (the request for the page); the browser's own requests
    (Streamlit's files, the health and host-config probes under the page's prefix and at the root)
    and the websocket's accept and open are DEBUG, so neither on the console nor in the file at
    LOG_LEVEL=INFO. Every console line of a session carries a short user and session."""
    drive(server, [lambda s: s.rerun()])  # the first run sets the routing up
    before = len(read_json_lines(server.log_file))
    sid, console = browser_page_load(server, "some_page", {"X-Forwarded-Email": "dan@example.com"})
    served = [line for line in console if WEB_SERVER_LINE.search(line)]
    assert len(served) <= 1, served
    assert all(not any(word in line for word in ROUTINE) for line in console), console
    if served:  # uvicorn (1.57+); Tornado logs no access line for a page
        assert '"GET /some_page HTTP/1.1" 200' in served[0]
        assert " | -                   | - | " in served[0]  # outside any session
    new = read_json_lines(server.log_file)[before:]
    assert not [r for r in new if any(word in r["message"] for word in ROUTINE)]

    records = records_of(server, sid)
    (user_id,) = {r["user_id"] for r in records}
    assert user_id.startswith("user_") if TRUSTED_USER_HEADERS else user_id == "anonymous"
    who = f"{user_id[:9] + '…' if len(user_id) > 12 else user_id: <10} {sid[:8]}"
    cids = {r["correlation_id"] for r in records}
    mine = [line for line in console if any(cid in line for cid in cids)]
    assert len(mine) == len(records)
    assert all(f" | {who} | " in line for line in mine), mine


def test_with_log_level_debug_the_file_keeps_the_browsers_requests_at_debug(tmp_path):
    """The same page load at LOG_LEVEL=DEBUG: every request is in the file, the routine ones at
    DEBUG (Tornado releases log no access lines at all)."""
    env = {**os.environ, "LOG_FILE": str(tmp_path / "app.jsonl"), "LOG_FORMAT": "flat", "LOG_PER_PROCESS": "0",
           "LOG_LEVEL": "DEBUG", "XDG_STATE_HOME": str(tmp_path / "state")}
    with StreamlitServer(APP, env=env, cwd=str(tmp_path)) as srv:
        drive(srv, [lambda s: s.rerun()])  # the first run sets the routing up
        browser_page_load(srv, "some_page")
    records = read_json_lines(tmp_path / "app.jsonl")
    served = [r for r in records if r["logger"].startswith(("uvicorn", "websockets", "tornado"))]
    routine = [r for r in served if any(word in r["message"] for word in ROUTINE)]
    assert {r["level"] for r in routine} <= {"DEBUG"}
    pages = [r for r in served if '"GET /some_page HTTP/1.1"' in r["message"]]
    if pages:  # uvicorn
        assert [r["level"] for r in pages] == ["INFO"]
        messages = " ".join(r["message"] for r in routine)
        for path in ("/some_page/_stcore/health", "/some_page/_stcore/host-config", "/_stcore/health",
                     "/_stcore/host-config", "/static/", "[accepted]"):
            assert path in messages
        assert "connection open" in messages


def test_a_run_found_by_its_first_record_is_started_after_that_record_not_inside_it(tmp_path, monkeypatch):
    """The patcher only reads: an app that set logging up once (not at the top of every run)
    gets each later run's start record just after the record that found it, timed at that
    moment, and never from inside that logging call."""
    from streamlit.testing.v1 import AppTest

    log = tmp_path / "app.jsonl"
    monkeypatch.setenv("LOG_FILE", str(log))
    monkeypatch.setenv("LOG_FORMAT", "flat")
    monkeypatch.setenv("LOG_CONSOLE", "0")
    app = Path(__file__).parent / "apps" / "lazy_start_app.py"
    at = AppTest.from_file(str(app), default_timeout=30).run()
    for _ in range(2):
        at.run()  # runs the setup does not start
        assert not at.exception, at.exception
        shown = json.loads(at.text[0].value)
        script_thread = shown["during"][-1][1]
        mine = [message for message, thread in shown["during"] if thread == script_thread]
        assert mine == ["first record of the run"]  # nothing else written from inside that call
        starts = [thread for message, thread in shown["after"] if message == "script_run started"]
        assert starts == ["streamlit_extension:run-start"]  # written by the announcer
    records = read_json_lines(log)
    by_run: dict[str, list[dict]] = {}
    for record in records:
        if record["correlation_id"] is not None:  # (Streamlit's own lines outside a run)
            by_run.setdefault(record["correlation_id"], []).append(record)
    assert len(by_run) == 3, by_run.keys()
    for group in by_run.values():
        events = [r["event"] for r in group if r["operation"] == "script_run" and r["event"]]
        assert sorted(events) == ["complete", "start"], group
        start = next(r for r in group if r["event"] == "start")
        # Timed when the run was found: within a record of the run's earliest.
        assert abs(_seconds(start["timestamp"]) - min(_seconds(r["timestamp"]) for r in group)) < 0.05
        assert start["timestamp"] < next(r for r in group if r["event"] == "complete")["timestamp"]


def _seconds(timestamp: str) -> float:
    import datetime

    return datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
