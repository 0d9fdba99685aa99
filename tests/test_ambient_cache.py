"""A run's ambient fields are built once and kept between its records: whatever changes in the
middle of a run must still be on the very next record.

The app's ``user_id`` (a sign-in form) and ``session_id`` in session state, the page
``st.navigation`` picks, an id set with ``CorrelationIDManager.set_correlation_id``; a worker
thread keeps the fields it was started with; a new run starts from nothing of the last one;
and on a real server, sessions signing in and out at the same time never see each other's.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from .helpers import read_json_lines
from .support.streamlit_server import StreamlitServer, StreamlitSession

pytestmark = pytest.mark.streamlit  # the Streamlit-side set: CI runs it on the floor and 1.56 too

APPS = Path(__file__).parent / "apps"
APP = APPS / "ambient_app.py"
PAGES_APP = APPS / "ambient_pages_app.py"
TIMEOUT = 30


@pytest.fixture
def log(tmp_path, monkeypatch):
    path = tmp_path / "logs" / "app.jsonl"
    monkeypatch.setenv("LOG_FILE", str(path))
    monkeypatch.setenv("LOG_FORMAT", "flat")
    monkeypatch.setenv("LOG_CONSOLE", "0")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    return path


def start(app: Path = APP) -> AppTest:
    at = AppTest.from_file(str(app), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, label: str, name: str | None = None) -> None:
    if name is not None:
        at.text_input[0].input(name)
    [button] = [b for b in at.button if b.label == label]
    button.click().run()
    assert not at.exception, at.exception


def last_run(path: Path) -> list[dict]:
    """The records of the last script run (by correlation id of its ``start``), in order."""
    records = read_json_lines(path)
    start_ = [r for r in records if r["operation"] == "script_run" and r["event"] == "start"][-1]
    return records[records.index(start_):]


def by_message(records: list[dict]) -> dict[str, dict]:
    return {r["message"]: r for r in records}


def test_a_sign_in_in_the_middle_of_a_run_is_on_the_next_record(log):
    at = start()
    click(at, "sign in", "alice")
    run = by_message(last_run(log))
    assert run["run begins"]["user_id"] == "anonymous"  # built and kept before the sign-in
    assert run["signed in"]["user_id"] == "alice"
    assert run["run ends"]["user_id"] == "alice"
    assert run["script_run completed"]["user_id"] == "alice"
    click(at, "sign out")
    run = by_message(last_run(log))
    assert run["run begins"]["user_id"] == "alice"
    assert run["signed out"]["user_id"] == "anonymous"
    assert run["run ends"]["user_id"] == "anonymous"


def test_an_e_mail_signed_in_mid_run_is_pseudonymised_on_the_next_record(log):
    at = start()
    click(at, "sign in", "alice@example.com")
    run = by_message(last_run(log))
    assert run["run begins"]["user_id"] == "anonymous"
    pseudonym = run["signed in"]["user_id"]
    assert pseudonym.startswith("user_")
    assert run["run ends"]["user_id"] == pseudonym
    assert "alice@example.com" not in log.read_text()


def test_the_apps_own_session_id_set_mid_run_is_on_the_next_record(log):
    at = start()
    click(at, "own session id", "s1")
    run = by_message(last_run(log))
    streamlits = run["run begins"]["session_id"]
    assert streamlits
    assert streamlits != "app-s1"
    assert run["session id set"]["session_id"] == "app-s1"
    assert run["run ends"]["session_id"] == "app-s1"


def test_a_correlation_id_set_mid_run_lasts_for_that_run_only(log):
    at = start()
    click(at, "new correlation id", "c1")
    records = last_run(log)
    run = by_message(records)
    assert run["run begins"]["correlation_id"] != "req_app_c1"
    assert run["correlation id set"]["correlation_id"] == "req_app_c1"
    assert run["run ends"]["correlation_id"] == "req_app_c1"
    assert run["script_run completed"]["correlation_id"] == "req_app_c1"
    at.run()
    following = last_run(log)
    ids = {r["correlation_id"] for r in following}
    assert len(ids) == 1
    assert ids != {"req_app_c1"}
    assert ids != {run["run begins"]["correlation_id"]}


def test_a_worker_keeps_the_fields_it_was_started_with(log):
    at = start()
    click(at, "sign in", "alice")
    click(at, "worker")
    run = by_message(last_run(log))
    assert run["main after submit"]["user_id"] == "after-submit"
    assert run["worker line"]["user_id"] == "alice"  # frozen at submit, logged after the change
    assert run["worker line"]["correlation_id"] == run["run begins"]["correlation_id"]
    assert run["run ends"]["user_id"] == "after-submit"


def test_every_run_starts_from_nothing_of_the_last_one(log):
    at = start()
    click(at, "sign in", "alice")
    click(at, "sign out")
    at.run()
    records = read_json_lines(log)
    runs = defaultdict(list)
    for r in records:
        runs[r["correlation_id"]].append(r)
    assert len(runs) == 4
    assert all(group[0]["event"] == "start" for group in runs.values())
    users = [[r["user_id"] for r in group if r["message"] in ("run begins", "run ends")] for group in runs.values()]
    assert users == [["anonymous", "anonymous"], ["anonymous", "alice"], ["alice", "anonymous"],
                     ["anonymous", "anonymous"]]


def test_the_page_st_navigation_picks_mid_run_is_on_the_next_record(log):
    at = start(PAGES_APP)
    run = by_message(last_run(log))
    assert run["before navigation"]["page"] == "ambient_pages_app"  # no page yet: the script's name
    assert [run[m]["page"] for m in ("after navigation", "in alpha", "after page")] == ["Alpha"] * 3
    click(at, "to beta")  # st.switch_page: this run ends, the Beta page's run follows
    run = last_run(log)
    assert {r["page"] for r in run} == {"Beta"}
    assert "in beta" in by_message(run)


# -- a real server: many sessions signing in and out at once ----------------------------------


SESSIONS = 6


def test_sessions_signing_in_and_out_at_once_never_see_each_others_fields(tmp_path):
    env = {**os.environ, "LOG_FILE": str(tmp_path / "app.jsonl"), "LOG_FORMAT": "flat", "LOG_PER_PROCESS": "0",
           "XDG_STATE_HOME": str(tmp_path / "state")}

    async def session(server: StreamlitServer, name: str) -> str:
        async with StreamlitSession(server, timeout=60) as s:
            for _ in range(2):
                await s.set_text_input("name", name)
                await s.click_button("sign in")
                await s.rerun()
                await s.click_button("sign out")
            return s.session_id

    async def all_sessions(server: StreamlitServer) -> list[str]:
        return await asyncio.gather(*(session(server, f"user{i}") for i in range(SESSIONS)))

    with StreamlitServer(APP, env=env, cwd=str(tmp_path)) as server:
        session_ids = asyncio.run(all_sessions(server))
    records = read_json_lines(tmp_path / "app.jsonl")
    assert len(set(session_ids)) == SESSIONS
    for index, sid in enumerate(session_ids):
        mine = [r for r in records if r["session_id"] == sid]
        name = f"user{index}"
        assert {r["user_id"] for r in mine} == {"anonymous", name}, (name, {r["user_id"] for r in mine})
        signed_in = [r for r in mine if r["message"] == "signed in"]
        signed_out = [r for r in mine if r["message"] == "signed out"]
        assert len(signed_in) == len(signed_out) == 2
        assert all(r["user_id"] == name for r in signed_in)
        assert all(r["user_id"] == "anonymous" for r in signed_out)
        runs = defaultdict(list)
        for r in mine:
            runs[r["correlation_id"]].append(r)
        # load, name, sign in, rerun, sign out; twice, less the first load.
        assert len(runs) == 9
        for group in runs.values():
            messages = [r["message"] for r in group]
            begins, ends = group[messages.index("run begins")], group[messages.index("run ends")]
            if "signed in" in messages:
                assert (begins["user_id"], ends["user_id"]) == ("anonymous", name)
            elif "signed out" in messages:
                assert (begins["user_id"], ends["user_id"]) == (name, "anonymous")
            else:
                assert begins["user_id"] == ends["user_id"]
    # Other sessions' records (loaded, never signed in) don't exist: every record is one of these.
    assert {r["session_id"] for r in records if r["session_id"]} <= set(session_ids)
