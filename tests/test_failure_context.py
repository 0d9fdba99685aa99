"""Failure context: records below the file's level, written only for an interaction that fails.

Real file sinks in both formats, through ``setup_logging``; the Streamlit side (a failed and a
successful click on a real server) is in ``test_streamlit_integration.py``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from pathlib import Path

import pytest
from loguru import logger

from streamlit_extension import correlation_logger, correlation_scope, setup_logging
from streamlit_extension.rows import from_line
from streamlit_extension.sinks import failure_context
from tests.helpers import read_json_lines
from tests.support.streamlit_server import StreamlitServer, StreamlitSession

FORMATS = ("flat", "loguru")


def _setup(tmp_path, json_format: str, **options):
    options.setdefault("failure_context", "DEBUG")
    return setup_logging(log_path=str(tmp_path / "app.jsonl"), json_format=json_format, console=False,
                         rotation=None, retention=None, compression=None, **options)


def _rows(handle) -> list[dict]:
    """Every line of the handle's file as a flat row, in file order (either format)."""
    handle.close()
    rows = [from_line(obj) for obj in read_json_lines(handle.file_path)]
    assert all(row is not None for row in rows)
    return rows  # type: ignore[return-value]


def _marked(row: dict) -> bool:
    return row.get("failure_context") is True


@pytest.mark.parametrize("json_format", FORMATS)
def test_a_failed_interaction_gets_its_debug_lines_marked_in_time_order_before_the_error(tmp_path, json_format):
    handle = _setup(tmp_path, json_format)
    with correlation_scope() as good:
        logger.debug("good detail")
        logger.info("good info")
    with correlation_scope() as bad:
        logger.debug("bad detail 1")
        logger.bind(rows=3).debug("bad detail 2")
        logger.info("bad info")
        try:
            raise ZeroDivisionError("x")
        except ZeroDivisionError:
            logger.exception("boom")
        logger.debug("bad detail after")
    logger.debug("outside any interaction")
    rows = _rows(handle)

    assert [r["message"] for r in rows if r["correlation_id"] == good] == ["good info"]
    mine = [r for r in rows if r["correlation_id"] == bad]
    assert [r["message"] for r in mine] == ["bad info", "bad detail 1", "bad detail 2", "boom", "bad detail after"]
    context = [r for r in mine if _marked(r)]
    assert [r["level"] for r in context] == ["DEBUG"] * 3
    assert context[1]["rows"] == 3  # the line in the file's own format, fields and all
    times = [r["timestamp"] for r in context[:2]]
    assert times == sorted(times)
    assert times[1] < next(r["timestamp"] for r in mine if r["message"] == "bad info")
    assert not any(_marked(r) for r in mine if r["level"] != "DEBUG")
    assert "outside any interaction" not in {r["message"] for r in rows}


@pytest.mark.parametrize("json_format", FORMATS)
def test_a_failed_operation_writes_its_context_and_a_refused_one_does_not(tmp_path, json_format):
    handle = _setup(tmp_path, json_format)

    class DuplicateError(Exception):
        pass

    def save() -> None:
        with correlation_logger.track_operation("save", expected=DuplicateError):
            logger.debug("checked the key")
            raise DuplicateError()

    def load() -> None:
        with correlation_logger.track_operation("load"):
            logger.debug("looked up the row")
            raise KeyError("row")

    with pytest.raises(DuplicateError):
        save()
    with pytest.raises(KeyError):
        load()
    rows = _rows(handle)

    assert [(r["operation"], r["event"]) for r in rows if not _marked(r)] == [
        ("save", "start"), ("save", "failed"), ("load", "start"), ("load", "failed")]
    context = [r for r in rows if _marked(r)]
    assert [r["message"] for r in context] == ["looked up the row"]
    # before the operation's failed record, in its own interaction
    assert rows.index(context[0]) == len(rows) - 2
    assert context[0]["correlation_id"] == rows[-1]["correlation_id"]


def test_stdlib_debug_records_and_worker_threads_of_the_interaction_belong_to_it(tmp_path):
    handle = _setup(tmp_path, "flat")
    with correlation_scope() as cid:
        logging.getLogger("app.db").debug("SELECT 1")
        worker = threading.Thread(target=lambda: logger.bind(correlation_id=cid).debug("from a worker"))
        worker.start()
        worker.join()
        logger.error("failed")
    rows = _rows(handle)
    assert [r["message"] for r in rows] == ["SELECT 1", "from a worker", "failed"]
    assert [_marked(r) for r in rows] == [True, True, False]
    assert rows[0]["logger"] == "app.db"


def test_off_by_default_and_below_the_file_level_only(tmp_path):
    handle = _setup(tmp_path, "flat", failure_context=None)
    assert handle.failure_context is None
    with correlation_scope():
        logger.debug("never")
        logger.error("failed")
    assert [r["message"] for r in _rows(handle)] == ["failed"]

    # A failure_context at or above the file's level has nothing to keep: off.
    handle = _setup(tmp_path, "flat", level="DEBUG", failure_context="INFO")
    assert handle.failure_context is None


def test_a_file_level_of_warning_keeps_info_and_debug(tmp_path):
    handle = _setup(tmp_path, "flat", level="WARNING")
    with correlation_scope():
        logger.debug("d")
        logger.info("i")
        logger.warning("w")
        logger.error("e")
    rows = _rows(handle)
    assert [(r["message"], _marked(r)) for r in rows] == [("w", False), ("d", True), ("i", True), ("e", False)]


@pytest.mark.parametrize("json_format", FORMATS)
def test_per_interaction_bound_keeps_the_newest_and_says_how_many_were_dropped(tmp_path, json_format):
    handle = _setup(tmp_path, json_format)
    extra = 30
    with correlation_scope():
        for index in range(failure_context.RECORDS + extra):
            logger.debug("detail {}", index)
        logger.error("failed")
    rows = _rows(handle)
    note, *kept = [r for r in rows if _marked(r)]
    assert note["event"] == "failure_context_dropped"
    assert note["dropped"] == extra
    assert note["level"] == "DEBUG"
    assert note["correlation_id"] == rows[-1]["correlation_id"]
    assert [r["message"] for r in kept] == [f"detail {i}" for i in range(extra, failure_context.RECORDS + extra)]
    assert note["timestamp"] <= kept[0]["timestamp"]


def test_per_interaction_byte_bound(tmp_path):
    handle = _setup(tmp_path, "flat")
    big = "x" * 60_000
    with correlation_scope():
        for index in range(10):
            logger.debug("{} {}", index, big)
        logger.error("failed")
    rows = _rows(handle)
    note, *kept = [r for r in rows if _marked(r)]
    assert 0 < len(kept) < 10
    assert note["dropped"] == 10 - len(kept)
    assert sum(len(r["message"]) for r in kept) <= failure_context.BYTES
    assert kept[-1]["message"].startswith("9 ")


def test_records_after_the_failure_count_against_the_bound_and_the_rest_is_one_note_at_the_end(tmp_path):
    handle = _setup(tmp_path, "flat")
    with correlation_scope():
        logger.debug("before")
        logger.error("failed")
        for index in range(failure_context.RECORDS + 5):
            logger.debug("after {}", index)
    rows = _rows(handle)
    context = [r for r in rows if _marked(r)]
    assert len(context) == failure_context.RECORDS + 1
    assert context[-1]["event"] == "failure_context_dropped"
    assert context[-1]["dropped"] == 6


def test_process_bound_drops_and_counts(tmp_path, monkeypatch):
    monkeypatch.setattr(failure_context, "PROCESS_BYTES", 20_000)
    handle = _setup(tmp_path, "flat")
    scopes = [correlation_scope(f"req_00000000000{n}") for n in range(3)]  # three at once
    for scope in scopes:
        scope.__enter__()
        for index in range(20):
            logger.debug("detail {} {}", index, "y" * 500)
    kept = handle.failure_context.pending()
    assert 0 < kept < 20_000 // 500
    logger.error("failed")  # the last interaction, whose records found the process's bound reached
    for scope in reversed(scopes):
        scope.__exit__(None, None, None)
    assert handle.failure_context.pending() == 0
    rows = _rows(handle)
    note = next(r for r in rows if r.get("event") == "failure_context_dropped")
    assert note["correlation_id"] == "req_000000000002"
    assert note["dropped"] == 20


@pytest.mark.parametrize("stale", [True, False])
def test_past_the_interaction_bound_old_buffers_go_first_else_new_records(tmp_path, monkeypatch, stale):
    monkeypatch.setattr(failure_context, "INTERACTIONS", 2)
    monkeypatch.setattr(failure_context, "STALE_SECONDS", 0.0 if stale else 3600.0)
    handle = _setup(tmp_path, "flat")
    scopes = [correlation_scope(f"req_00000000000{n}") for n in range(3)]
    for n, scope in enumerate(scopes):
        scope.__enter__()
        logger.debug("detail {}", n)
    logger.error("failed")  # in the third interaction
    for scope in reversed(scopes):
        scope.__exit__(None, None, None)
    context = [r["message"] for r in _rows(handle) if _marked(r)]
    assert context == (["detail 2"] if stale else [])
    assert handle.failure_context.dropped_unowned == (0 if stale else 1)


def test_a_successful_interaction_leaves_nothing_behind(tmp_path):
    handle = _setup(tmp_path, "flat")
    for _ in range(50):
        with correlation_scope():
            logger.debug("detail")
        with correlation_logger.track_operation("job"):  # a top-level operation is its own interaction
            logger.debug("detail")
    assert handle.failure_context.pending() == 0
    assert all(not _marked(r) for r in _rows(handle))


def test_environment_variable_and_bad_values(tmp_path, monkeypatch):
    monkeypatch.setenv("LOG_FAILURE_CONTEXT", "debug")
    handle = setup_logging(log_path=str(tmp_path / "a.jsonl"), console=False)
    assert handle.config.failure_context == "DEBUG"
    assert handle.failure_context is not None
    for off in ("", "off", "none", "0"):
        monkeypatch.setenv("LOG_FAILURE_CONTEXT", off)
        assert setup_logging(log_path=str(tmp_path / "a.jsonl"), console=False).failure_context is None
    monkeypatch.setenv("LOG_FAILURE_CONTEXT", "CHATTY")
    with pytest.raises(ValueError, match=r"^LOG_FAILURE_CONTEXT='CHATTY': expected one of TRACE, DEBUG"):
        setup_logging(log_path=None)
    monkeypatch.delenv("LOG_FAILURE_CONTEXT")
    with pytest.raises(ValueError, match=r"^failure_context: expected a level name"):
        setup_logging(log_path=None, failure_context=2.5)  # type: ignore[arg-type]


@pytest.mark.streamlit
def test_real_server_a_failed_click_has_its_context_and_a_successful_one_none(tmp_path):
    app = Path(__file__).parent / "apps" / "failure_context_app.py"
    env = {**os.environ, "LOG_FILE": str(tmp_path / "app.jsonl"), "LOG_FORMAT": "flat", "LOG_LEVEL": "INFO",
           "LOG_FAILURE_CONTEXT": "DEBUG", "LOG_PER_PROCESS": "0", "LOG_CONSOLE": "0",
           "XDG_STATE_HOME": str(tmp_path / "state")}

    async def scenario(server: StreamlitServer) -> tuple[str, object, object]:
        async with StreamlitSession(server) as session:
            saved = await session.click_button("save")
            failed = await session.click_button("fail")
            return session.session_id, saved, failed

    with StreamlitServer(app, env=env, cwd=str(tmp_path)) as server:
        sid, saved, failed = asyncio.run(scenario(server))
        assert saved.contains("saved")
        assert "the save failed" in failed.exceptions[0]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the run's end record is written after the page
            rows = [r for r in read_json_lines(tmp_path / "app.jsonl") if r["session_id"] == sid]
            if sum(r["event"] in ("complete", "failed") and r["operation"] == "script_run" for r in rows) == 3:
                break
            time.sleep(0.1)

    def run_of(message: str) -> list[dict]:
        cid = next(r["correlation_id"] for r in rows if r["message"] == message)
        return [r for r in rows if r["correlation_id"] == cid]

    good = run_of("saving for save")
    assert [r["level"] for r in good if r["level"] == "DEBUG"] == []
    assert not any(_marked(r) for r in good)
    assert good[-1]["event"] == "complete"

    bad = run_of("saving for fail")
    context = [r for r in bad if _marked(r)]
    assert [r["message"] for r in context] == ["page debug", "validating the form for fail",
                                               "worker looked up the client for fail", "UPDATE clients for fail"]
    assert {r["level"] for r in context} == {"DEBUG"}
    assert [r["timestamp"] for r in context] == sorted(r["timestamp"] for r in context)
    end = next(i for i, r in enumerate(bad) if r["operation"] == "script_run" and r["event"] == "failed")
    assert bad[end]["level"] == "ERROR"
    assert end == len(bad) - 1
    assert all(bad.index(r) < end for r in context)
    assert context[1]["operation"] == "script_run"
    assert context[3]["logger"] == "app.db"


@pytest.mark.streamlit
def test_a_failure_context_above_info_still_drops_each_finished_runs_buffer(tmp_path, monkeypatch):
    """At level ERROR with failure_context WARNING the filter never sees the runs' INFO end
    records; the runs must still end their buffers, or they fill the process bound."""
    from streamlit.testing.v1 import AppTest

    for name, value in {"LOG_FILE": str(tmp_path / "app.jsonl"), "LOG_LEVEL": "ERROR", "LOG_FAILURE_CONTEXT": "WARNING",
                        "LOG_PER_PROCESS": "0", "LOG_CONSOLE": "0", "LOG_ROTATION": "none"}.items():
        monkeypatch.setenv(name, value)
    handle = setup_logging()

    def page() -> None:
        from loguru import logger

        from streamlit_extension import init_streamlit_logging

        init_streamlit_logging()
        logger.warning("a warning worth keeping only if the click fails")

    at = AppTest.from_function(page)
    for _ in range(3):
        at.run()
        assert not at.exception
    assert handle.failure_context is not None
    assert handle.failure_context.pending() == 0
