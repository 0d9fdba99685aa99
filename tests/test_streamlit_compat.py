"""Each Streamlit internal we use can go missing: every run still gets its id, start and end.

``STREAMLIT_EXTENSION_DISABLE`` takes a capability away exactly as a Streamlit without it would
(see ``integration/compat.py``); each test starts a real ``streamlit run`` server without one
capability, drives a session over the websocket protocol, and reads the log file back.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

from streamlit_extension.integration.compat import CAPABILITIES

from .helpers import read_json_lines
from .support.streamlit_server import StreamlitServer, StreamlitSession

pytestmark = pytest.mark.streamlit  # the Streamlit-side set: CI runs it on the floor and 1.56 too

APP = Path(__file__).parent / "apps" / "integration_app.py"


def _serve(tmp_path: Path, disabled: str) -> StreamlitServer:
    env = {**os.environ, "LOG_FILE": str(tmp_path / "app.jsonl"), "LOG_FORMAT": "flat", "LOG_PER_PROCESS": "0",
           "XDG_STATE_HOME": str(tmp_path / "state"), "STREAMLIT_EXTENSION_DISABLE": disabled}
    server = StreamlitServer(APP, env=env, cwd=str(tmp_path))
    server.log_file = tmp_path / "app.jsonl"
    return server


def _drive(server: StreamlitServer) -> str:
    async def scenario() -> str:
        async with StreamlitSession(server, timeout=60) as session:  # page load
            await session.rerun()
            await session.click_button("rerun")  # st.rerun(): two runs in one script thread
            await session.rerun()
            boom = await session.click_button("boom")
            assert boom.exceptions, "Streamlit still shows the page's exception"
            await session.rerun()
            return session.session_id

    return asyncio.run(scenario())


def _runs(server: StreamlitServer, session_id: str, expected: int) -> dict[str, list[dict]]:
    """The session's script_run records by correlation id, once every run has ended (the
    thread-exit fallback writes an end up to ~20 ms after the run)."""
    deadline = time.monotonic() + 10
    while True:
        runs: dict[str, list[dict]] = defaultdict(list)
        for r in read_json_lines(server.log_file):
            if r["session_id"] == session_id and r["operation"] == "script_run" and r["event"]:
                runs[r["correlation_id"]].append(r)
        ended = all(len(events) == 2 for events in runs.values())
        if (len(runs) >= expected and ended) or time.monotonic() > deadline:
            return runs
        time.sleep(0.1)


# Runs the scenario makes: load, rerun, the click and its st.rerun(), rerun, boom, rerun.
RUNS = 7


@pytest.mark.parametrize("capability", sorted(CAPABILITIES))
def test_without_each_capability_every_run_still_has_id_start_and_end(tmp_path, capability):
    with _serve(tmp_path, capability) as server:
        sid = _drive(server)
        runs = _runs(server, sid, RUNS)
        console = server.logs(max_chars=1_000_000)
    # Without the run boundary and the runner's events, st.rerun()'s two runs can't be told apart.
    assert len(runs) == RUNS
    for cid, records in runs.items():
        assert cid.startswith("req_")
        assert next(r["event"] for r in records) == "start"
        assert [r["event"] for r in records][1] in ("complete", "failed")
        assert {r["session_id"] for r in records} == {sid}
    failed = [records[1] for records in runs.values() if records[1]["event"] == "failed"]
    assert len(failed) == 1, "the run that raised is the one failed run"
    if capability != "uncaught_errors":
        assert failed[0]["error"]["type"] == "ValueError"
        assert failed[0]["error"]["message"] == "page exploded"
    # Said once, naming the capability and what is lost; never a blanket failure.
    notices = [line for line in console.splitlines() if f"({capability}:" in line]
    assert len(notices) == 1, console[-3000:]
    assert "lost:" in notices[0], console[-3000:]
    assert "integration failed" not in console


def test_with_every_capability_gone_runs_still_start_and_end(tmp_path):
    with _serve(tmp_path, "all") as server:
        sid = _drive(server)
        runs = _runs(server, sid, RUNS - 1)
        console = server.logs(max_chars=1_000_000)
    # What is lost is said: st.rerun()'s two runs in one thread read as one, and with neither
    # an error hook nor the error flag the failed run reads as complete.
    assert len(runs) == RUNS - 1
    for records in runs.values():
        assert [r["event"] for r in records] == ["start", "complete"]
        assert {r["session_id"] for r in records} == {sid}
    for name in CAPABILITIES:
        assert f"({name}: disabled by STREAMLIT_EXTENSION_DISABLE)" in console
