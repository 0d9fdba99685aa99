"""The demo app end to end through ``streamlit.testing.v1.AppTest``: pages, forms, the SQLite
file and the correlation log.

Each test gets its own database (``DEMO_DB_PATH``) and log file (``LOG_FILE``, flat format, no
console) under ``tmp_path``. AppTest runs the script in a thread and is not thread-safe, so these
tests run one after another (no xdist here).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from streamlit_extension import demo_store
from streamlit_extension.testing import capture_logs
from tests.helpers import current_key, open_url_path, read_json_lines

pytestmark = pytest.mark.streamlit  # the Streamlit-side set: CI runs it on the floor and 1.56 too

APP = Path(__file__).resolve().parents[2] / "streamlit_extension" / "app.py"
TIMEOUT = 30  # seconds per script run: generous for a loaded 2-core CI box
EMAIL = "ops@acme.example"
VALIDATION_ERROR = "streamlit_extension.demo_store.ValidationError"  # error.type is the qualified name


@pytest.fixture
def demo(demo_env: SimpleNamespace, file_pages: None) -> SimpleNamespace:
    return demo_env


@pytest.fixture
def demo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    db, log = tmp_path / "app.db", tmp_path / "logs" / "app.jsonl"
    monkeypatch.setenv("DEMO_DB_PATH", str(db))
    monkeypatch.setenv("LOG_FILE", str(log))
    monkeypatch.setenv("LOG_FORMAT", "flat")
    monkeypatch.setenv("LOG_CONSOLE", "0")
    monkeypatch.setenv("LOG_EXPLORER_USERS", "localhost")  # AppTest is local development
    monkeypatch.chdir(tmp_path)  # a default path (data/, logs/) would land here, not in the repo
    return SimpleNamespace(db=db, log=log)


# -- helpers ------------------------------------------------------------------------------------


def start(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    if page is not None:
        # 1.67: a path relative to app.py, matched against st.navigation's registered file pages.
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def fill(at: AppTest, **values: Any) -> None:
    """Set widgets by key (selectboxes get set_value, text inputs input)."""
    for key, value in values.items():
        key = current_key(at, key) if key.startswith("new_") else key
        if key in {w.key for w in at.selectbox}:
            at.selectbox(key=key).set_value(value)
        else:
            at.text_input(key=key).input(value)


def click(at: AppTest, label: str) -> AppTest:
    matches = [button for button in at.button if button.label == label]
    assert len(matches) == 1, f"expected one {label!r} button, found {[b.label for b in at.button]}"
    matches[0].click()
    at.run()
    assert not at.exception, at.exception
    return at


def texts(elements: Any) -> list[str]:
    return [element.value for element in elements]


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def table(at: AppTest) -> list[dict]:
    return at.dataframe[0].value.to_dict("records") if at.dataframe else []


def records(demo: SimpleNamespace) -> list[dict]:
    return read_json_lines(demo.log)


def one(found: list[dict], what: str) -> dict:
    assert len(found) == 1, f"expected one {what}, found {len(found)}: {found}"
    return found[0]


def op(recs: list[dict], operation: str, event: str) -> list[dict]:
    return [r for r in recs if r.get("operation") == operation and r.get("event") == event]


def create_client_via_ui(at: AppTest, key: str, name: str = "Acme Corp", email: str = EMAIL,
                         status: str = "active") -> AppTest:
    fill(at, new_client_key=key, new_client_name=name, new_client_email=email, new_client_status=status)
    return click(at, "Create client")


# -- every version: the runs themselves ---------------------------------------------------------


def test_every_apptest_run_is_one_interaction_on_every_version(demo_env: SimpleNamespace) -> None:
    """Whatever this Streamlit's AppTest renders, each of its runs gets an id, a start and an end."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.run()
    at.selectbox(key="sign_in_as").set_value("bob").run()  # the sidebar is the entrypoint's own
    assert not at.exception, at.exception
    runs = [r for r in records(demo_env) if r.get("operation") == "script_run"]
    by_run: dict[str, list[str]] = {}
    for r in runs:
        by_run.setdefault(r["correlation_id"], []).append(r["event"])
    assert len(by_run) == 3
    assert all(cid.startswith("req_") for cid in by_run)
    assert all(events == ["start", "complete"] for events in by_run.values()), by_run
    assert [r["user_id"] for r in runs if r["event"] == "start"] == ["anonymous", "anonymous", "bob"]
    assert len({r["session_id"] for r in runs}) == 1  # AppTest has one (hard-coded) session id


# -- navigation and sign-in ---------------------------------------------------------------------


def test_navigation_has_three_pages_and_clients_is_default(demo: SimpleNamespace) -> None:
    at = start()
    assert texts(at.title) == ["Clients"]

    open_url_path(at, "log_explorer").run()  # the Explorer is a callable page, at its URL
    assert texts(at.title) == ["Log Explorer"]
    assert at.text_input(key="lx_folder").label  # the explorer's folder picker
    at.switch_page("app_pages/projects.py").run()
    assert texts(at.title) == ["Projects"]
    # The entrypoint ran too (not a legacy pages/ run of the page file alone): the sidebar is there.
    assert at.sidebar.selectbox(key="sign_in_as").label == "Sign in as…"


def test_sign_in_sets_and_clears_user_id(demo: SimpleNamespace) -> None:
    at = start()
    assert "user_id" not in at.session_state
    at.selectbox(key="sign_in_as").set_value("bob").run()
    assert at.session_state["user_id"] == "bob"
    assert texts(at.sidebar.caption) == ["Signed in as bob"]
    create_client_via_ui(at, "ACME")
    assert {r["user_id"] for r in op(records(demo), "create_client", "complete")} == {"bob"}
    at.selectbox(key="sign_in_as").set_value("anonymous").run()
    assert "user_id" not in at.session_state


# -- clients ------------------------------------------------------------------------------------


def test_clients_create_edit_delete(demo: SimpleNamespace) -> None:
    at = start()
    assert "No clients yet" in at.info[0].value

    create_client_via_ui(at, " ACME ", name="Acme Corp")
    assert texts(at.success) == ["Client ACME created."]
    assert table(at) == [{"client_key": "ACME", "name": "Acme Corp", "email": EMAIL, "status": "active"}]
    assert rows(demo.db, "SELECT client_key, name, email, status FROM clients") == [
        ("ACME", "Acme Corp", EMAIL, "active")]
    assert at.text_input(key=current_key(at, "new_client_key")).value == ""  # the form is emptied for the next one

    assert at.selectbox(key="edit_client_key").value == "ACME"
    fill(at, edit_client_name_ACME="Acme Inc", edit_client_status_ACME="inactive")
    click(at, "Save changes")
    assert texts(at.success) == ["Client ACME updated."]
    assert rows(demo.db, "SELECT name, status FROM clients") == [("Acme Inc", "inactive")]
    assert table(at)[0]["name"] == "Acme Inc"

    click(at, "Delete client")
    assert texts(at.success) == ["Client ACME deleted."]
    assert rows(demo.db, "SELECT * FROM clients") == []
    assert not at.dataframe


def test_clients_invalid_input_is_refused(demo: SimpleNamespace) -> None:
    at = start()

    create_client_via_ui(at, "ACME", name="   ")
    assert texts(at.error) == ["Client name is required."]
    create_client_via_ui(at, "   ", name="Acme Corp")
    assert texts(at.error) == ["Client key is required."]
    create_client_via_ui(at, "ACME", email="not-an-address")
    hint = "E-mail is not a valid address: expected a name, an @ and a domain with a dot."
    assert texts(at.error) == [hint]
    # The log says what the page said: the hint holds nothing the e-mail redaction would hide.
    [refusal] = [r for r in records(demo) if r.get("operation") == "create_client" and r.get("event") == "failed"
                 and "E-mail" in r["error"]["message"]]
    assert refusal["error"]["message"] == hint
    assert rows(demo.db, "SELECT * FROM clients") == []

    create_client_via_ui(at, "ACME", name="Acme Corp")
    create_client_via_ui(at, "ACME", name="Impostor")
    assert texts(at.error) == ["A client with key 'ACME' already exists."]
    assert rows(demo.db, "SELECT name FROM clients") == [("Acme Corp",)]

    # The form kept what was typed, so the user can fix it.
    assert at.text_input(key=current_key(at, "new_client_name")).value == "Impostor"

    demo_store.insert_project("WEB", "Website", "ACME", "planned")
    at.run()
    click(at, "Delete client")
    assert texts(at.error) == ["Client 'ACME' still has 1 project(s); delete or move them first."]
    assert rows(demo.db, "SELECT client_key FROM clients") == [("ACME",)]

    failed = op(records(demo), "create_client", "failed")
    assert [r["error"]["type"] for r in failed] == [VALIDATION_ERROR] * 4
    assert [r["metadata"] for r in failed][-1] == {"client_key": "ACME"}
    delete_failure = one(op(records(demo), "delete_client", "failed"), "delete failure")
    assert delete_failure["error"]["message"].startswith("Client 'ACME' still has")


def test_client_emails_never_reach_the_log(demo: SimpleNamespace) -> None:
    at = start()
    create_client_via_ui(at, "ACME", email=EMAIL)
    fill(at, edit_client_email_ACME="billing@acme.example")
    click(at, "Save changes")
    create_client_via_ui(at, "BAD", email="bad address@acme")
    text = demo.log.read_text(encoding="utf-8")
    assert "acme.example" not in text
    assert "bad address" not in text


# -- projects -----------------------------------------------------------------------------------


def test_projects_create_edit_delete(demo: SimpleNamespace) -> None:
    demo_store.insert_client("ACME", "Acme Corp", EMAIL, "active")
    demo_store.insert_client("GLOBEX", "Globex", "it@globex.example", "active")
    at = start("app_pages/projects.py")
    assert texts(at.title) == ["Projects"]
    assert at.selectbox(key=current_key(at, "new_project_client")).options == ["ACME — Acme Corp", "GLOBEX — Globex"]

    fill(at, new_project_key="WEB", new_project_name="Website", new_project_client="ACME", new_project_status="planned")
    click(at, "Create project")
    assert texts(at.success) == ["Project WEB created."]
    assert rows(demo.db, "SELECT * FROM projects") == [("WEB", "Website", "ACME", "planned")]
    assert table(at) == [{"project_key": "WEB", "name": "Website", "client_key": "ACME", "status": "planned"}]

    fill(at, edit_project_name_WEB="New website", edit_project_client_WEB="GLOBEX", edit_project_status_WEB="active")
    click(at, "Save changes")
    assert texts(at.success) == ["Project WEB updated."]
    assert rows(demo.db, "SELECT * FROM projects") == [("WEB", "New website", "GLOBEX", "active")]

    click(at, "Delete project")
    assert texts(at.success) == ["Project WEB deleted."]
    assert rows(demo.db, "SELECT * FROM projects") == []
    assert texts(at.title) == ["Projects"]  # reruns stay on the page


def test_projects_invalid_input_is_refused(demo: SimpleNamespace) -> None:
    at = start("app_pages/projects.py")
    assert "no clients yet" in at.warning[0].value
    fill(at, new_project_key="WEB", new_project_name="Website")
    click(at, "Create project")
    assert texts(at.error) == ["Choose a client for the project (create one on the Clients page first)."]

    demo_store.insert_client("ACME", "Acme Corp", EMAIL, "active")
    at.run()
    fill(at, new_project_client="ACME", new_project_name=" ")
    click(at, "Create project")
    assert texts(at.error) == ["Project name is required."]
    assert rows(demo.db, "SELECT * FROM projects") == []

    fill(at, new_project_name="Website")
    click(at, "Create project")
    fill(at, new_project_key="WEB", new_project_name="Other", new_project_client="ACME")
    click(at, "Create project")
    assert texts(at.error) == ["A project with key 'WEB' already exists."]
    assert rows(demo.db, "SELECT name FROM projects") == [("Website",)]

    # Another user deletes the chosen client before this form is sent: Streamlit drops the stale
    # choice (it is no longer an option), so the create is refused, not moved to another client.
    demo_store.insert_client("GONE", "Gone Ltd", "x@gone.example", "active")
    at.run()
    fill(at, new_project_key="APP", new_project_name="App", new_project_client="GONE")
    with sqlite3.connect(demo.db) as conn:
        conn.execute("DELETE FROM clients WHERE client_key = 'GONE'")
    click(at, "Create project")
    assert texts(at.error) == ["Choose a client for the project (create one on the Clients page first)."]
    assert rows(demo.db, "SELECT project_key FROM projects") == [("WEB",)]
    assert [r["error"]["type"] for r in op(records(demo), "create_project", "failed")] == [VALIDATION_ERROR] * 4


def test_a_project_for_an_unknown_client_is_refused(demo: SimpleNamespace) -> None:
    # The page's decorated function, as the form calls it, with a client that is not (any more) there.
    from streamlit_extension.app_pages.projects import create_project

    demo_store.list_clients()  # creates the tables
    with capture_logs() as recs, pytest.raises(demo_store.NotFoundError, match="Client 'NOPE' does not exist"):
        create_project({"project_key": "APP", "name": "App", "client_key": "NOPE", "status": "planned"})
    assert rows(demo.db, "SELECT * FROM projects") == []
    failed = one(op(recs, "create_project", "failed"), "create_project failed")
    assert failed["metadata"] == {"project_key": "APP"}
    assert failed["error"]["type"] == "streamlit_extension.demo_store.NotFoundError"


# -- the log ------------------------------------------------------------------------------------


def test_one_interaction_shares_one_correlation_id(demo: SimpleNamespace) -> None:
    at = start()
    at.selectbox(key="sign_in_as").set_value("alice").run()
    create_client_via_ui(at, "ACME")
    recs = records(demo)

    complete = one(op(recs, "create_client", "complete"), "create_client complete")
    cid = complete["correlation_id"]
    assert cid.startswith("req_")
    assert complete["metadata"] == {"client_key": "ACME"}
    same = [r for r in recs if r["correlation_id"] == cid]
    events = {(r.get("operation"), r.get("event")) for r in same}
    assert {("script_run", "start"), ("render_clients_page", "start"), ("create_client", "start"),
            ("create_client", "complete"), ("render_clients_page", "complete")} <= events
    # The save ends with st.rerun(): the page and the run complete with that outcome.
    page_done = one([r for r in same if r.get("operation") == "render_clients_page" and r.get("event") == "complete"],
                    "page complete")
    assert page_done["metadata"] == {"outcome": "rerun"}
    assert {r["user_id"] for r in same} == {"alice"}
    assert len({r["session_id"] for r in same}) == 1
    assert None not in {r["session_id"] for r in same}
    # Other runs (the first render, the rerun after the save) are other interactions.
    assert len({r["correlation_id"] for r in op(recs, "render_clients_page", "start")}) == 4

    legacy = one([r for r in recs if r["logger"] == "streamlit_extension.demo_store"], "demo_store line")
    assert legacy["message"] == "inserted client ACME"
    assert legacy["table"] == "clients"
    assert legacy["correlation_id"] == cid
    assert legacy["operation"] == "create_client"  # it happened inside the operation


def test_a_refused_create_is_logged_as_failed_in_its_interaction(demo: SimpleNamespace) -> None:
    at = start()
    create_client_via_ui(at, "ACME", name="")
    recs = records(demo)
    failed = one(op(recs, "create_client", "failed"), "create_client failed")
    # A user's mistake the operation declared expected: failed, at WARNING, without a traceback.
    assert failed["level"] == "WARNING"
    assert failed["message"] == "create_client refused: ValidationError"
    assert failed["error"] == {"type": VALIDATION_ERROR, "message": "Client name is required.", "traceback": None,
                               "expected": True}
    page = [r for r in op(recs, "render_clients_page", "complete") if r["correlation_id"] == failed["correlation_id"]]
    assert one(page, "page complete")["metadata"] is None  # the page handled it and went on
    run_done = [r for r in op(recs, "script_run", "complete") if r["correlation_id"] == failed["correlation_id"]]
    assert one(run_done, "run complete")["success"] is True


def test_a_bad_setting_is_one_clear_error_on_the_page_not_a_traceback(demo_env: SimpleNamespace, monkeypatch,
                                                                       capfd) -> None:
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception  # the page still works
    (error,) = [e.value for e in at.error]
    assert "LOG_LEVEL='LOUD': expected one of TRACE, DEBUG, INFO" in error
    assert "Fix the setting" in error
    assert "LOG_LEVEL='LOUD'" in capfd.readouterr().err  # and said on stderr
    runs = [r for r in records(demo_env) if r.get("operation") == "script_run"]
    assert [r["event"] for r in runs] == ["start", "complete"]  # logging runs on, at the default level
    assert {r["level"] for r in records(demo_env)} <= {"INFO", "WARNING", "ERROR"}
