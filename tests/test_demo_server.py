"""The demo app under a real ``streamlit run`` server: many sessions at once, and real browsers.

AppTest can't prove that sessions are told apart (every instance reports the same session id,
and it isn't thread-safe), so these tests start the server on loopback and drive it like
browsers do. The Log Explorer is also tested here in an app of its own, added the public way.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import pytest

from .helpers import read_json_lines
from .support.streamlit_server import (
    TRUSTED_USER_HEADERS,
    StreamlitServer,
    run_sessions,
    step_rerun,
    trusted_user_header_args,
)

pytestmark = pytest.mark.streamlit  # the Streamlit-side set: CI runs it on the floor and 1.56 too

APP = Path(__file__).resolve().parents[1] / "streamlit_extension" / "app.py"
TRUSTED = trusted_user_header_args({"X-Forwarded-Email": "email"})
SESSIONS = 8
RERUNS = 3


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    env = {
        **os.environ,
        "LOG_FILE": str(root / "logs" / "app.jsonl"),
        "LOG_FORMAT": "flat",
        "DEMO_DB_PATH": str(root / "data" / "app.db"),
        "XDG_STATE_HOME": str(root / "state"),
        "LOG_PER_PROCESS": "0",  # one server process: read its file by name
        "LOG_EXPLORER_USERS": "localhost",  # the sessions here connect over loopback
    }
    with StreamlitServer(APP, env=env, cwd=str(root), extra_args=TRUSTED) as server:
        server.log_file = root / "logs" / "app.jsonl"
        yield server


def test_concurrent_sessions_are_told_apart(demo):
    transcripts = run_sessions(
        demo, SESSIONS, [step_rerun()] * RERUNS,
        headers_fn=lambda i: {"X-Forwarded-Email": f"person{i}@example.com"},
    )
    session_ids = [t.session_id for t in transcripts]
    assert len(set(session_ids)) == SESSIONS
    problems = [(t.index, r.status, r.exceptions) for t in transcripts for r in t.results if not r.ok]
    assert problems == []

    records = read_json_lines(demo.log_file)
    by_session = defaultdict(list)
    sessions_of_cid = defaultdict(set)
    for r in records:
        by_session[r["session_id"]].append(r)
        if r["correlation_id"] is not None:
            sessions_of_cid[r["correlation_id"]].add(r["session_id"])

    users = set()
    for sid in session_ids:
        mine = by_session[sid]
        (user,) = {r["user_id"] for r in mine}  # one user per session
        assert user.startswith("user_") if TRUSTED_USER_HEADERS else user == "anonymous"
        users.add(user)
        starts = [r for r in mine if r["operation"] == "script_run" and r["event"] == "start"]
        ends = [r for r in mine if r["operation"] == "script_run" and r["event"] in ("complete", "failed")]
        assert len(starts) == len(ends) == 1 + RERUNS  # page load + reruns, each begun and ended
        assert len({r["correlation_id"] for r in starts}) == 1 + RERUNS  # every run its own id
        assert {r["correlation_id"] for r in ends} == {r["correlation_id"] for r in starts}
        pages = [r for r in mine if r["operation"] == "render_clients_page" and r["event"] == "complete"]
        assert len(pages) == 1 + RERUNS
        for page in pages:  # the page operation nests under its run
            run = next(s for s in starts if s["correlation_id"] == page["correlation_id"])
            assert page["parent_operation_id"] == run["operation_id"]
    assert len(users) == (SESSIONS if TRUSTED_USER_HEADERS else 1)  # distinct people, distinct ids

    crossing = {cid: sids for cid, sids in sessions_of_cid.items() if len(sids) != 1}
    assert crossing == {}  # no correlation id appears in two sessions
    assert "@example.com" not in demo.log_file.read_text()  # no raw e-mail address anywhere


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


async def _sign_in_and_fill(page, url: str, user: str, client_key: str) -> None:
    await page.goto(url)
    await page.get_by_role("button", name="Create client").wait_for(timeout=60_000)
    await page.get_by_label("Sign in as…").click()  # st.selectbox is a combobox
    await page.get_by_role("option", name=user, exact=True).click()
    await page.get_by_text(f"Signed in as {user}").wait_for(timeout=30_000)
    form = page.get_by_test_id("stForm").first
    await form.get_by_label("Client key").fill(client_key)
    await form.get_by_label("Name", exact=True).fill(f"{user.title()} Corp")
    await form.get_by_label("E-mail").fill(f"{user}@example.com")


def test_two_browsers_create_clients_at_the_same_time(demo):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (Debian package 'chromium'; .ci/run installs it)")
    playwright = pytest.importorskip("playwright.async_api", reason="the 'playwright' package is not installed")
    import asyncio

    async def scenario():
        async with playwright.async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                pages = [await (await browser.new_context()).new_page() for _ in range(2)]
                people = [("alice", "ALICE1"), ("bob", "BOB1")]
                await asyncio.gather(*(
                    _sign_in_and_fill(page, demo.url, user, key)
                    for page, (user, key) in zip(pages, people, strict=True)
                ))
                # Both submits go out together: two sessions' runs overlap on the server.
                await asyncio.gather(*(page.get_by_role("button", name="Create client").click() for page in pages))
                for page, (_, key) in zip(pages, people, strict=True):
                    await page.get_by_text(f"Client {key} created").wait_for(timeout=30_000)
                    # The form is empty again: a second click can't create a duplicate by accident.
                    form = page.get_by_test_id("stForm").first
                    assert [await form.get_by_label(label, exact=True).input_value()
                            for label in ("Client key", "Name", "E-mail")] == ["", "", ""]
            finally:
                await browser.close()

    asyncio.run(scenario())
    records = read_json_lines(demo.log_file)
    completions = [r for r in records if r["operation"] == "create_client" and r["event"] == "complete"]
    by_key = {r["metadata"]["client_key"]: r for r in completions}
    alice, bob = by_key["ALICE1"], by_key["BOB1"]
    assert (alice["user_id"], bob["user_id"]) == ("alice", "bob")
    assert alice["session_id"] != bob["session_id"]
    assert alice["correlation_id"] != bob["correlation_id"]
    for done in (alice, bob):
        run = [r for r in records if r["correlation_id"] == done["correlation_id"]]
        assert {r["session_id"] for r in run} == {done["session_id"]}
        assert any(r["logger"] == "streamlit_extension.demo_store" for r in run)  # legacy line, same id


HAMMER_SESSIONS = 20
HAMMER_INTERACTIONS = 10


def test_hammer_twenty_sessions_ten_interactions_each(demo):
    before = {r["correlation_id"] for r in read_json_lines(demo.log_file)} if demo.log_file.exists() else set()
    transcripts = run_sessions(
        demo, HAMMER_SESSIONS, [step_rerun()] * HAMMER_INTERACTIONS,
        headers_fn=lambda i: {"X-Forwarded-Email": f"hammer{i}@example.com"}, total_timeout=300,
    )
    assert all(result.ok for t in transcripts for result in t.results)
    records = [r for r in read_json_lines(demo.log_file) if r["correlation_id"] not in before]
    by_session = defaultdict(list)
    for r in records:
        by_session[r["session_id"]].append(r)
    users = set()
    for t in transcripts:
        mine = by_session[t.session_id]
        runs = defaultdict(list)
        for r in mine:
            runs[r["correlation_id"]].append(r)
        assert len(runs) == 1 + HAMMER_INTERACTIONS
        for cid, group in runs.items():  # every run has both its start and its end record
            events = [r["event"] for r in group if r["operation"] == "script_run" and r["event"]]
            assert events == ["start", "complete"], (cid, events)
        (user,) = {r["user_id"] for r in mine}
        users.add(user)
    assert len(users) == (HAMMER_SESSIONS if TRUSTED_USER_HEADERS else 1)
    owners = defaultdict(set)
    for r in records:
        owners[r["correlation_id"]].add(r["session_id"])
    assert all(len(sids) == 1 for sids in owners.values())  # zero cross-talk


def test_the_demo_pages_work_on_this_streamlit(demo):
    """Create a client, repeat it (refused), open the Log Explorer: over the real protocol, so it
    runs on every Streamlit in the matrix (AppTest before 1.44 can't run the demo's pages)."""
    import asyncio

    from .support.streamlit_server import StreamlitSession

    async def scenario():
        async with StreamlitSession(demo, timeout=60) as session:
            page = session.last_result
            assert page.contains("New client"), page.texts
            # The "New client" form comes first; an edit form below it has a "Name" too.
            form = {label: next(w for w in page.widgets("text_input") if w.label == label).widget_id
                    for label in ("Client key", "Name", "E-mail")}
            for label, value in (("Client key", "PAGE1"), ("Name", "Page Corp"), ("E-mail", "page@example.com")):
                session.stage_widget_value(form[label], value)
            created = await session.click_button("Create client")
            assert created.ok, created.texts
            assert created.contains("Client PAGE1 created."), created.texts
            # The form comes back empty, under new widget ids (a browser would keep the old ones' values).
            again = {label: next(w for w in created.widgets("text_input") if w.label == label)
                     for label in ("Client key", "Name", "E-mail")}
            assert all(w.widget_id != form[label] and not w.body.value for label, w in again.items())
            for label, value in (("Client key", "PAGE1"), ("Name", "Page Corp"), ("E-mail", "page@example.com")):
                session.stage_widget_value(again[label].widget_id, value)
            submit = next(w for w in session.last_result.widgets("button") if w.label == "Create client")
            refused = await session.rerun(triggers=[submit.widget_id])
            assert refused.ok, refused.texts
            assert refused.contains("A client with key 'PAGE1' already exists."), refused.texts
            explorer = await session.select_page("Log Explorer")
            assert explorer.ok, explorer.exceptions
            assert explorer.contains("Log Explorer"), explorer.exceptions
            return session.session_id

    sid = asyncio.run(scenario())
    mine = [r for r in read_json_lines(demo.log_file) if r["session_id"] == sid]
    outcomes = [(r["operation"], r["event"]) for r in mine
                if r["operation"] == "create_client" and r["event"] in ("complete", "failed")]
    assert outcomes == [("create_client", "complete"), ("create_client", "failed")]
    runs = defaultdict(list)
    for r in mine:
        if r["operation"] == "script_run" and r["event"]:
            runs[r["correlation_id"]].append(r["event"])
    assert runs
    assert all(events == ["start", "complete"] for events in runs.values()), runs
    pages = {r["page"] for r in mine if r["operation"] == "script_run"}
    assert {"Clients", "Log Explorer"} <= pages


def _explorer_server(tmp_path, viewers: str, address: str = "0.0.0.0") -> StreamlitServer:
    tmp_path.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LOG_FILE": str(tmp_path / "logs" / "app.jsonl"), "LOG_FORMAT": "flat",
           "DEMO_DB_PATH": str(tmp_path / "app.db"), "XDG_STATE_HOME": str(tmp_path / "state"),
           "LOG_PER_PROCESS": "0", "LOG_EXPLORER_USERS": viewers}
    return StreamlitServer(APP, env=env, cwd=str(tmp_path), extra_args=[*TRUSTED, "--server.address", address])


def _explorer_view(url, headers=None, page_name=None):
    """(the pages the session is offered, what opening the Log Explorer's URL shows)."""
    import asyncio

    from .support.streamlit_server import StreamlitSession

    async def scenario():
        async with StreamlitSession(url, headers=headers or {}, timeout=60) as session:
            titles = [p.title for p in session.pages]
        async with StreamlitSession(url, headers=headers or {}, page_name="log_explorer", timeout=60) as direct:
            return titles, direct.last_result
    return asyncio.run(scenario())


OPENED = "The app's own JSON logs, read back"  # the Log Explorer's caption, shown only to viewers


def test_the_log_explorer_is_only_for_configured_people(tmp_path):
    from .test_streamlit_integration import _host_address

    with _explorer_server(tmp_path / "off", "") as srv:  # nobody configured: off for everyone
        pages, direct = _explorer_view(srv)
        assert pages == ["Clients", "Projects"]
        assert not direct.contains(OPENED)
        assert direct.contains("Log Explorer hidden. The Log Explorer is off. Set LOG_EXPLORER_USERS")
    with _explorer_server(tmp_path / "local", "localhost") as srv:  # local development
        pages, direct = _explorer_view(srv)
        assert pages == ["Clients", "Projects", "Log Explorer"]
        assert direct.contains(OPENED)
        host = _host_address()
        if host is not None:  # the same server, reached from another address: refused
            pages, direct = _explorer_view(f"ws://{host}:{srv.port}/_stcore/stream")
            assert pages == ["Clients", "Projects"]
            assert not direct.contains(OPENED)
    if TRUSTED_USER_HEADERS:  # people signed in through a trusted proxy header
        with _explorer_server(tmp_path / "people", "Ann@Example.com") as srv:
            pages, direct = _explorer_view(srv, headers={"X-Forwarded-Email": "ann@example.com"})
            assert "Log Explorer" in pages
            assert direct.contains(OPENED)
            assert not direct.exceptions
            pages, direct = _explorer_view(srv, headers={"X-Forwarded-Email": "bob@example.com"})
            assert pages == ["Clients", "Projects"]
            assert not direct.contains(OPENED)
            log = (tmp_path / "people" / "logs" / "app.jsonl").read_text()
            assert "ann@example.com" not in log.lower()
            assert "bob@example.com" not in log


OWN_APP = """\
import streamlit as st

from streamlit_extension import init_streamlit_logging
from streamlit_extension.explorer import explorer_page

init_streamlit_logging()


def home() -> None:
    st.title("Home")


pages = [st.Page(home, title="Home", default=True)]
if (explorer := explorer_page()) is not None:
    pages.append(explorer)
st.navigation(pages).run()
"""


def test_an_app_of_its_own_adds_the_log_explorer_through_the_public_function(tmp_path):
    """Not the demo: a one-page app adds the Explorer with ``explorer_page()``, as the README shows."""
    (tmp_path / "my_app.py").write_text(OWN_APP)
    for viewers, shown in (("localhost", True), (None, False)):  # None: LOG_EXPLORER_USERS unset
        root = tmp_path / ("local" if shown else "unset")
        root.mkdir()
        env = {"LOG_FILE": str(root / "logs" / "app.jsonl"), "LOG_FORMAT": "flat", "LOG_PER_PROCESS": "0",
               "XDG_STATE_HOME": str(root / "state"), **({"LOG_EXPLORER_USERS": viewers} if viewers else {})}
        assert "LOG_EXPLORER_USERS" not in os.environ  # conftest clears it: unset means unset here
        with StreamlitServer(tmp_path / "my_app.py", env=env, cwd=str(root)) as srv:
            pages, direct = _explorer_view(srv)  # over loopback: a local visitor
        assert pages == (["Home", "Log Explorer"] if shown else ["Home"])
        assert direct.contains(OPENED) == shown  # /log_explorer: the Explorer, or (hidden) the home page
        assert not direct.exceptions
        explorer_runs = [r for r in read_json_lines(root / "logs" / "app.jsonl")
                         if r.get("operation") == "render_log_explorer_page"]
        assert bool(explorer_runs) == shown
        if not shown:
            assert direct.contains("Home")


def _ipv6_loopback() -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_every_loopback_form_is_local_and_a_refusal_names_its_cause(tmp_path):
    """A dual-stack server (``::``) sees a browser at http://127.0.0.1 as ``::ffff:127.0.0.1``:
    still this machine. From elsewhere, the refusal says it is about where the browser is."""
    import streamlit
    from packaging.version import Version

    from .test_streamlit_integration import _host_address

    # Streamlit 1.57+ serves through uvicorn, which listens on both stacks at "::" (an IPv4 client
    # then shows as ::ffff:127.0.0.1); Tornado's "::" socket is IPv6 only, so there it is IPv4.
    dual_stack = Version(streamlit.__version__) >= Version("1.57") and _ipv6_loopback()
    hosts = ("127.0.0.1", "127.0.0.2", "[::1]", "localhost") if dual_stack else ("127.0.0.1", "127.0.0.2", "localhost")
    with _explorer_server(tmp_path / "dual", "localhost", address="::" if dual_stack else "0.0.0.0") as srv:
        for host in hosts:
            pages, direct = _explorer_view(f"ws://{host}:{srv.port}/_stcore/stream")
            assert "Log Explorer" in pages, host
            assert direct.contains(OPENED), host
        host = _host_address()
        if host is not None:
            pages, direct = _explorer_view(f"ws://{host}:{srv.port}/_stcore/stream")
            assert "Log Explorer" not in pages
            assert direct.contains("your browser is not on the server's machine")
            assert not direct.contains("not signed in")
