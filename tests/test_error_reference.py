"""The error reference: a failed run's page shows its correlation id with Streamlit's error.

A real ``streamlit run`` server (AppTest can't show the error page) in both
``client.showErrorDetails`` modes: Streamlit's default, and ``false`` as production apps run,
where Streamlit shows only a generic message. The page is read from the delta messages; the
reference on it must be the correlation id of that run's ``script_run failed`` record in the
log file, and sit right after Streamlit's error, in the same container.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path

import pytest
from streamlit import config

from .helpers import read_json_lines
from .support.streamlit_server import RenderedElement, RunResult, StreamlitServer, StreamlitSession

pytestmark = pytest.mark.streamlit  # the Streamlit-side set: CI runs it on the floor and 1.56 too

APP = Path(__file__).parent / "apps" / "error_reference_app.py"
REFERENCE = re.compile(r"^Reference: `(req_[0-9a-f]{12})` \(quote it when you report this error\)$")
# Streamlit's default: the error in full; production: a generic message. Newer releases also
# take "none" (not even the exception's type).
MODES = ("true", "false", *(("none",) if hasattr(config, "ShowErrorDetailsConfigOptions") else ()))


def _serve(tmp_path: Path, *extra_args: str, disabled: str = "") -> StreamlitServer:
    env = {**os.environ, "LOG_FILE": str(tmp_path / "app.jsonl"), "LOG_FORMAT": "flat", "LOG_PER_PROCESS": "0",
           "XDG_STATE_HOME": str(tmp_path / "state"), "STREAMLIT_EXTENSION_DISABLE": disabled}
    server = StreamlitServer(APP, env=env, cwd=str(tmp_path), extra_args=extra_args)
    server.log_file = tmp_path / "app.jsonl"
    return server


@pytest.fixture(scope="module", params=MODES)
def server(request, tmp_path_factory):
    logs = tmp_path_factory.mktemp(f"error-reference-{request.param}")
    with _serve(logs, "--client.showErrorDetails", request.param) as srv:
        srv.mode = request.param
        yield srv


def drive(server, scenario):
    async def run():
        async with StreamlitSession(server, timeout=60) as session:
            await session.rerun()  # page load
            return session.session_id, await scenario(session)

    return asyncio.run(run())


def references(result: RunResult) -> list[RenderedElement]:
    return [el for el in result.elements if el.text and el.text.startswith("Reference:")]


def shown_reference(result: RunResult) -> str:
    """The one reference on the page, checked to sit right after the one exception element,
    in the same container."""
    (error,) = [el for el in result.elements if el.kind == "exception"]
    (note,) = references(result)
    assert note.path == (*error.path[:-1], error.path[-1] + 1), (error.path, note.path)
    match = REFERENCE.match(note.text or "")
    assert match, note.text
    return match.group(1)


def failed_run(server, session_id: str, correlation_id: str) -> dict:
    """The ``script_run failed`` record of that run (its end may follow the page by a moment)."""
    deadline = time.monotonic() + 10
    while True:
        failed = [r for r in read_json_lines(server.log_file)
                  if r["session_id"] == session_id and r["operation"] == "script_run" and r["event"] == "failed"]
        mine = [r for r in failed if r["correlation_id"] == correlation_id]
        if mine or time.monotonic() > deadline:
            assert len(mine) == 1, (correlation_id, [r["correlation_id"] for r in failed])
            return mine[0]
        time.sleep(0.1)


def assert_redaction_kept(server, result: RunResult, secret: str) -> None:
    """With ``showErrorDetails=false`` Streamlit still hides the exception's message."""
    shown = "\n".join(result.exceptions)
    assert (secret in shown) == (server.mode == "true"), shown


def test_a_failed_click_shows_the_reference_of_its_failed_record(server):
    async def scenario(session):
        return await session.click_button("boom")

    sid, result = drive(server, scenario)
    cid = shown_reference(result)
    assert_redaction_kept(server, result, "page exploded")
    record = failed_run(server, sid, cid)
    assert record["error"]["type"] == "ValueError"
    assert record["metadata"]["page"] == "Home"


def test_a_failing_fragment_shows_the_reference_in_its_own_container(server):
    async def scenario(session):
        full = await session.click_button("fragment boom")  # the fragment fails within a full run
        await session.rerun()
        fragment_id = next(m.delta.fragment_id for m in session.last_result.messages
                           if m.WhichOneof("type") == "delta" and m.delta.new_element.button.label == "fragment boom")
        button = session.last_result.find_widget("fragment boom", kind="button")
        alone = await session.rerun(triggers=[button.widget_id], fragment_id=fragment_id)  # the fragment alone
        return full, alone

    sid, (full, alone) = drive(server, scenario)
    for result in (full, alone):
        cid = shown_reference(result)
        assert len(references(result)[0].path) > 2, "inside the fragment's container, not at the page's top level"
        assert_redaction_kept(server, result, "fragment exploded")
        assert failed_run(server, sid, cid)["error"]["type"] == "KeyError"
    assert shown_reference(full) != shown_reference(alone)


def test_a_failing_navigation_page_and_entrypoint_show_their_reference(server):
    async def scenario(session):
        page = await session.select_page("Broken")
        await session.select_page("Home")
        entry = await session.rerun(query_string="explode=entry")
        return page, entry

    sid, (page, entry) = drive(server, scenario)
    assert failed_run(server, sid, shown_reference(page))["error"]["type"] == "LookupError"
    assert failed_run(server, sid, shown_reference(entry))["error"]["type"] == "RuntimeError"


def test_runs_that_did_not_fail_show_no_reference(server):
    async def scenario(session):
        results = [session.last_result]
        results.append(await session.click_button("stop"))  # st.stop() and st.rerun() are not failures
        results.append(await session.rerun())
        results.append(await session.click_button("rerun"))
        return results

    _, results = drive(server, scenario)
    for result in results:
        assert not result.exceptions
        assert not references(result), result.texts
    assert results[0].contains("done")


def test_current_reference_is_the_runs_id_also_in_a_worker_thread(server):
    async def scenario(session):
        return await session.click_button("handled")

    sid, result = drive(server, scenario)
    (alert,) = [text for text in result.texts if text.startswith("Could not compute")]
    cid = alert.rsplit(" ", 1)[-1]
    assert result.contains(f"worker reference: {cid}")
    assert not references(result)  # the app caught it: no run failed
    (warning,) = [r for r in read_json_lines(server.log_file)
                  if r["session_id"] == sid and r["message"] == "could not compute the rate"]
    assert warning["correlation_id"] == cid


def test_without_the_capability_the_error_shows_as_before(tmp_path):
    """A Streamlit whose error display we can't find: Streamlit's error alone, the runs still failed."""
    async def scenario(session):
        boom = await session.click_button("boom")
        await session.rerun()
        fragment = await session.click_button("fragment boom")
        return boom, fragment, await session.rerun()

    with _serve(tmp_path, disabled="error_reference") as srv:
        sid, (boom, fragment, after) = drive(srv, scenario)
        for result in (boom, fragment):
            assert len(result.exceptions) == 1
            assert not references(result)
        assert after.contains("done")
        assert not after.exceptions
        failed = [r for r in read_json_lines(srv.log_file) if r["session_id"] == sid and r["event"] == "failed"]
        assert [r["error"]["type"] for r in failed] == ["ValueError", "KeyError"]
        assert "(error_reference: disabled by STREAMLIT_EXTENSION_DISABLE)" in srv.logs()
