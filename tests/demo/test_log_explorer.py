"""The Log Explorer page, as the demo adds it, through ``streamlit.testing.v1.AppTest``, on real log files.

The logs come from the app itself (clients created on the Clients page) or from
``setup_logging`` + ``track_operation`` written into the folder beforehand, including a rotated,
gzipped file and damaged lines. AppTest is not thread-safe: these tests run one after another.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import gzip
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
from loguru import logger
from streamlit.testing.v1 import AppTest

from streamlit_extension.logs import read_records
from streamlit_extension.utils.correlation_logging import correlation_logger, setup_logging
from tests.helpers import current_key, open_url_path

pytestmark = pytest.mark.streamlit  # the Streamlit-side set: CI runs it on the floor and 1.56 too

APP = Path(__file__).resolve().parents[2] / "streamlit_extension" / "app.py"
EXPLORER = "log_explorer"  # the page's URL path in the demo
TIMEOUT = 30
SECRETS = ("hunter2", "sk-live-123", "tok-secret")


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    # The Explorer is a callable page, which AppTest runs on every release; only the tests that
    # click through the demo's file pages (Clients) ask for ``file_pages`` (AppTest 1.44+).
    logs = tmp_path / "logs"
    monkeypatch.setenv("DEMO_DB_PATH", str(tmp_path / "app.db"))
    monkeypatch.setenv("LOG_FILE", str(logs / "app.jsonl"))
    monkeypatch.setenv("LOG_FORMAT", "flat")
    monkeypatch.setenv("LOG_CONSOLE", "0")
    monkeypatch.setenv("LOG_EXPLORER_USERS", "localhost")  # AppTest is local development
    monkeypatch.chdir(tmp_path)
    return SimpleNamespace(tmp=tmp_path, logs=logs)


# -- helpers ------------------------------------------------------------------------------------


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def start_app() -> AppTest:
    return run(AppTest.from_file(str(APP), default_timeout=TIMEOUT))


def open_explorer(at: AppTest) -> AppTest:
    run(open_url_path(at, EXPLORER))
    assert [t.value for t in at.title] == ["Log Explorer"]
    return at


def create_client(at: AppTest, key: str, name: str = "Acme Corp") -> None:
    at.text_input(key=current_key(at, "new_client_key")).input(key)
    at.text_input(key=current_key(at, "new_client_name")).input(name)
    at.text_input(key=current_key(at, "new_client_email")).input("ops@acme.example")
    [button] = [b for b in at.button if b.label == "Create client"]
    button.click()
    run(at)


def table(at: AppTest) -> list[dict]:
    """The records table (the first dataframe on the page)."""
    return at.dataframe[0].value.to_dict("records")


def charts(at: AppTest) -> list:
    """Every Vega-Lite chart on the page (the element is "arrow_vega_lite_chart" in older AppTests)."""
    return [c for kind in ("vega_lite_chart", "arrow_vega_lite_chart") for c in at.get(kind)]


def timeline(at: AppTest) -> list[dict]:
    """The rows drawn by the timeline chart (the chart with x/x2 bars)."""
    charts_ = [c for c in charts(at) if '"x2"' in c.proto.spec]
    assert len(charts_) == 1, f"expected one timeline chart, found {len(charts_)}"
    return pa.ipc.open_stream(charts_[0].proto.datasets[0].data.data).read_pandas().to_dict("records")


def all_text(at: AppTest) -> str:
    """Everything the page sends to the browser: every element's proto, dataframes decoded."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        for child in getattr(node, "children", {}).values():
            walk(child)
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))

    walk(at._tree)
    parts.extend(df.value.to_csv() for df in at.dataframe)
    return "\n".join(parts)


def texts(elements: Any) -> list[str]:
    return [e.value for e in elements]


def write_log(folder: Path, json_format: str, body: Callable[[], str]) -> tuple[str, Path]:
    """Run ``body`` with a real file sink in ``folder``; returns the file it wrote."""
    handle = setup_logging(log_path=str(folder / "app.jsonl"), json_format=json_format, console=False,
                           rotation=None, retention=None, compression=None)
    try:
        result = body()
    finally:
        handle.close()
    [path] = list(folder.glob("*.jsonl"))
    return result, path


def gzip_into(source: Path, target: Path) -> None:
    """``source`` compressed as ``target``: a rotated .gz file, as the app's rotation leaves it."""
    with open(source, "rb") as plain, gzip.open(target, "wb") as packed:
        shutil.copyfileobj(plain, packed)


# -- tests --------------------------------------------------------------------------------------


def test_filter_by_correlation_id_shows_one_interaction_its_timeline_and_error(demo: SimpleNamespace,
                                                                               file_pages: None) -> None:
    at = start_app()
    at.selectbox(key="sign_in_as").set_value("alice")
    run(at)
    create_client(at, "ACME")
    create_client(at, "ACME", name="Impostor")  # refused: the key exists
    assert texts(at.error) == ["A client with key 'ACME' already exists."]

    failed = [r for r in read_records([demo.logs])
              if r.get("operation") == "create_client" and r.get("event") == "failed"]
    assert len(failed) == 1
    cid = failed[0]["correlation_id"]

    open_explorer(at)
    assert not at.warning, texts(at.warning)
    assert len({r["correlation_id"] for r in table(at)}) > 2  # several interactions before filtering
    at.text_input(key="lx_cid").input(cid)
    run(at)

    rows = table(at)
    assert rows
    assert {r["correlation_id"] for r in rows} == {cid}
    assert {(r["operation"], r["event"]) for r in rows} >= {
        ("script_run", "start"), ("render_clients_page", "start"), ("create_client", "start"),
        ("create_client", "failed"), ("render_clients_page", "complete"), ("script_run", "complete")}
    assert {r["user_id"] for r in rows} == {"alice"}
    # Read with the reader's needle prefilter (markdown escapes the id's "_").
    assert any("containing" in c and cid in c.replace("\\", "") for c in texts(at.caption))

    bars = timeline(at)
    # A duplicate key is a user's mistake the operation declares expected: "refused", not "failed".
    assert [(b["operation"], b["depth"], b["outcome"]) for b in bars] == [
        ("script_run", 0, "complete"), ("render_clients_page", 1, "complete"), ("create_client", 2, "refused")]
    assert all(b["end_ms"] > b["start_ms"] for b in bars)
    assert bars[2]["row"].endswith("└─ create_client")
    assert bars[2]["row"] != bars[1]["row"]
    assert any("**Outcome** complete, 1 refused" in m for m in texts(at.markdown))

    [expander] = [e for e in at.expander if "ValidationError" in e.label]
    assert "already exists" in expander.label
    assert "WARNING" in expander.label
    assert not [c for c in expander.code if c.value.startswith("Traceback")]
    assert any("Expected: the operation declares this a user's mistake" in c.value for c in expander.caption)

    # "Show this interaction" in the error list sets the same filter.
    at.text_input(key="lx_cid").input("")
    run(at)
    [show] = [b for e in at.expander if "ValidationError" in e.label for b in e.button]
    show.click()
    run(at)
    assert at.text_input(key="lx_cid").value == cid
    assert {r["correlation_id"] for r in table(at)} == {cid}

    # The duration histogram of the operation picked in the filter; the refusal counted apart.
    at.selectbox(key="lx_operation").set_value("create_client")
    run(at)
    assert len(charts(at)) == 2  # timeline + histogram
    durations = [d.value for d in at.dataframe if "refused (expected)" in d.value.columns]
    (row,) = durations[0][durations[0]["operation"] == "create_client"].to_dict("records")
    assert (row["failed"], row["refused (expected)"]) == (0, 1)


def test_rotated_gzip_and_loguru_files_damage_and_redaction(demo: SimpleNamespace) -> None:
    demo.logs.mkdir()

    def old_interaction() -> str:
        with correlation_logger.track_operation("nightly_import", {"api_key": "sk-live-123", "batch": 7}) as cid:
            with correlation_logger.track_operation("fetch_rows"):
                logger.bind(password="hunter2").info("fetched rows from the rotated file")
        return cid

    def new_interaction() -> str:
        with (
            pytest.raises(RuntimeError, match="upstream refused the push"),
            correlation_logger.track_operation("sync_job"),
            correlation_logger.track_operation("push_rows", {"token": "tok-secret"}),
        ):
            raise RuntimeError("upstream refused the push")
        return next(r for r in read_records([demo.tmp / "new"]) if r.get("operation") == "sync_job")["correlation_id"]

    # A rotated, compressed file in loguru's own serialize=True format ...
    old_cid, old_file = write_log(demo.tmp / "old", "loguru", old_interaction)
    gzip_into(old_file, demo.logs / "app.host-1.2026-01-01_00-00-00_000000.jsonl.gz")
    # ... and a plain flat file with a damaged line (a crash mid-write) after its records.
    new_cid, new_file = write_log(demo.tmp / "new", "flat", new_interaction)
    damaged = demo.logs / "app.host-2.jsonl"
    damaged.write_bytes(new_file.read_bytes() + b'{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","mess\n')

    at = open_explorer(start_app())
    messages = [r["message"] for r in table(at)]
    assert "fetched rows from the rotated file" in messages  # from the .gz
    assert "push_rows failed: RuntimeError" in messages  # from the plain file
    [warning] = texts(at.warning)
    assert "Skipped 1 damaged line" in warning
    assert "corrupt line" in warning
    assert "app" in warning

    at.text_input(key="lx_cid").input(old_cid)
    run(at)
    rows = table(at)
    assert {r["correlation_id"] for r in rows} == {old_cid}
    assert [(b["operation"], b["depth"], b["outcome"]) for b in timeline(at)] == [
        ("nightly_import", 0, "complete"), ("fetch_rows", 1, "complete")]
    start = next(r for r in rows if r["operation"] == "nightly_import" and r["event"] == "start")
    assert json.loads(start["metadata"]) == {"api_key": "[REDACTED]", "batch": 7}
    page = all_text(at)
    assert "[REDACTED]" in page
    assert not any(secret in page for secret in SECRETS)

    at.text_input(key="lx_cid").input(new_cid)
    run(at)
    assert [(b["operation"], b["depth"], b["outcome"]) for b in timeline(at)] == [
        ("sync_job", 0, "failed"), ("push_rows", 1, "failed")]
    expanders = [e for e in at.expander if "RuntimeError" in e.label]
    assert expanders
    assert all("upstream refused the push" in e.label for e in expanders)
    tracebacks = [c.value for e in expanders for c in e.code if c.value.startswith("Traceback")]
    assert tracebacks
    assert all('raise RuntimeError("upstream refused the push")' in t for t in tracebacks)
    assert any('"token": "[REDACTED]"' in c.value for e in expanders for c in e.code)
    page = all_text(at)
    assert "[REDACTED]" in page
    assert not any(secret in page for secret in SECRETS)


def test_new_files_show_up_on_the_next_run(demo: SimpleNamespace) -> None:
    at = open_explorer(start_app())
    assert "nightly_import" not in {r["operation"] for r in table(at)}

    def interaction() -> str:
        with correlation_logger.track_operation("nightly_import") as cid:
            logger.info("a record in a file that appeared later")
        return cid

    _cid, path = write_log(demo.tmp / "later", "flat", interaction)
    gzip_into(path, demo.logs / "app.host-9.2026-01-02_00-00-00_000000.jsonl.gz")
    [refresh] = [b for b in at.button if b.label == "Refresh"]
    refresh.click()
    run(at)
    assert "a record in a file that appeared later" in [r["message"] for r in table(at)]
    at.selectbox(key="lx_range").set_value("Custom range")  # the last hour by default
    run(at)
    assert "a record in a file that appeared later" in [r["message"] for r in table(at)]
    tomorrow = datetime.datetime.now() + datetime.timedelta(days=1)  # "From" after "To"
    if at.get("date_time_input"):
        at.get("date_time_input")[0].set_value(tomorrow)
    else:  # before st.datetime_input (1.56): a date and a time input each
        at.date_input(key="lx_from_date").set_value(tomorrow.date())
    run(at)
    assert any("ends before it starts" in i for i in texts(at.info))
    assert not at.dataframe
    at.selectbox(key="lx_range").set_value("Last 15 minutes")
    at.text_input(key="lx_user").input("nobody-has-this-id")
    run(at)
    assert not at.dataframe
    assert any("No records match" in i for i in texts(at.info))


def test_a_missing_folder_is_an_info_message(demo: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    # Allowed folders that don't exist yet, or hold no logs yet: said as it is.
    monkeypatch.setenv("LOG_EXPLORER_FOLDERS", f"{demo.tmp / 'no-such-folder'},{demo.tmp / 'empty'}")
    at = open_explorer(start_app())
    assert at.text_input(key="lx_folder").value == str(demo.logs)  # the folder of $LOG_FILE
    at.text_input(key="lx_folder").input(str(demo.tmp / "no-such-folder"))
    run(at)
    assert any("no log folder" in i for i in texts(at.info)), texts(at.info)
    assert not at.dataframe
    assert not charts(at)

    (demo.tmp / "empty").mkdir()
    at.text_input(key="lx_folder").input(str(demo.tmp / "empty"))
    run(at)
    assert any("No log files" in i for i in texts(at.info)), texts(at.info)


def test_duration_stats_match_the_library() -> None:
    """The page's per-operation tallies of the records it read equal ``operation_stats``'s."""
    from streamlit_extension.explorer.data import records_frame, tallies_from
    from streamlit_extension.logs import operation_stats

    expected = {"type": "ValidationError", "message": "typo", "traceback": None, "expected": True}
    records = [{"timestamp": f"2026-01-01T00:00:0{n}.000000Z", "level": "INFO", "operation": op, "event": ev,
                "duration_ms": d, "error": e}
               for n, (op, ev, d, e) in enumerate([
                   ("a", "complete", 1.0, None), ("a", "failed", 9.5, {"type": "OSError"}),
                   ("a", "complete", None, None), ("b", "complete", 3.0, None), ("b", "complete", 2.0, None),
                   ("b", "failed", 4.0, expected),
                   ("c", "failed", None, {"type": "KeyError"})])]
    tallies, _ = tallies_from(records_frame(records))
    got = [(name, t.count, t.errors, t.percentile(50), t.percentile(95), t.percentile(99), t.expected)
           for name, t in sorted(tallies.items())]
    assert got == [(s.operation, s.count, s.errors, s.p50, s.p95, s.p99, s.expected) for s in operation_stats(records)]
    assert [(s.operation, s.errors, s.expected) for s in operation_stats(records)] == [
        ("a", 1, 0), ("b", 0, 1), ("c", 1, 0)]
    assert not any(t.approximate for t in tallies.values())  # read: exact


def test_the_page_itself_refuses_whom_log_explorer_users_leaves_out(tmp_path, monkeypatch):
    """An app that lists the page for everyone still shows it only to the configured people."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOG_CONSOLE", "0")
    monkeypatch.setenv("LOG_FILE", str(tmp_path / "logs" / "app.jsonl"))
    (tmp_path / "entry.py").write_text(
        "import streamlit as st\n"
        "from streamlit_extension import init_streamlit_logging\n"
        "init_streamlit_logging()\n"
        "from streamlit_extension.explorer.page import render_log_explorer_page\n"
        "st.navigation([st.Page(render_log_explorer_page, title='Logs', default=True)]).run()\n"
    )
    for viewers, opened in (("", False), ("someone@example.com", False), ("localhost", True)):
        monkeypatch.setenv("LOG_EXPLORER_USERS", viewers)
        at = run(AppTest.from_file(str(tmp_path / "entry.py"), default_timeout=TIMEOUT))
        assert bool(at.text_input) == opened  # the folder box and filters: only when opened
        assert bool(at.error) == (not opened)
        if not opened:
            assert "LOG_EXPLORER_USERS" in at.error[0].value


def test_several_replicas_folders_are_read_as_one(demo: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    def replica(n: int) -> Callable[[], str]:
        def interaction() -> str:
            with correlation_logger.track_operation("replica_work") as cid:
                logger.info(f"work on replica {n}")
            return cid
        return interaction

    cids = [write_log(demo.tmp / f"replica-{n}" / "logs", "flat", replica(n))[0] for n in (1, 2)]
    monkeypatch.setenv("LOG_EXPLORER_FOLDERS", " replica-1/logs , replica-2/logs")  # relative: to the app's cwd
    at = open_explorer(start_app())
    at.text_input(key="lx_folder").input(f"{demo.tmp / 'replica-1' / 'logs'}, {demo.tmp / 'replica-2' / 'logs'}")
    run(at)
    messages = [r["message"] for r in table(at)]
    assert "work on replica 1" in messages
    assert "work on replica 2" in messages
    assert {r["correlation_id"] for r in table(at) if r["message"].startswith("work on")} == set(cids)


def test_web_server_lines_are_hidden_unless_asked(demo: SimpleNamespace) -> None:
    lines = [
        {"timestamp": "2026-01-01T10:00:00.000Z", "level": "INFO",
         "message": '[IP]:1 - "GET /static/js/a.js HTTP/1.1" 200',
         "correlation_id": None, "session_id": None, "user_id": None, "logger": "uvicorn.access"},
        {"timestamp": "2026-01-01T10:00:00.100Z", "level": "INFO", "message": "created client ACME",
         "correlation_id": "req_000000000001", "session_id": "s1", "user_id": "alice", "logger": "app"},
    ]
    (demo.logs).mkdir(parents=True, exist_ok=True)
    (demo.logs / "old.host-1.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    at = open_explorer(start_app())
    at.selectbox(key="lx_range").set_value("All time")
    run(at)
    messages = [r["message"] for r in table(at)]
    assert "created client ACME" in messages
    assert not any("GET /static" in m for m in messages)
    at.checkbox(key="lx_server").check()
    run(at)
    assert any("GET /static" in r["message"] for r in table(at))


def test_polish_one_sample_histogram_table_widths_and_the_apps_interaction_first(demo: SimpleNamespace,
                                                                                 file_pages: None) -> None:
    at = start_app()
    at.selectbox(key="sign_in_as").set_value("alice")
    run(at)
    create_client(at, "SOLO")  # one create_client: a one-sample histogram
    # A script logging into the same folder afterwards (no session, no page), as examples/basic.py does.
    write_log(demo.logs / "script", "flat", lambda: correlation_logger.info("nightly", "a cron job's line"))
    shutil.move(str(next((demo.logs / "script").glob("*.jsonl"))), demo.logs / "app.cron-1.jsonl")
    open_explorer(at)
    # The default interaction is the app's newest, not the script's.
    label = at.selectbox(key="lx_interaction").value
    app_cids = {r["correlation_id"] for r in read_records([demo.logs]) if r.get("session_id")}
    assert label in app_cids
    at.selectbox(key="lx_operation").set_value("create_client")
    run(at)
    (histogram,) = [c for c in charts(at) if '"x2"' not in c.proto.spec]
    spec = json.loads(histogram.proto.spec)
    assert "extent" in json.dumps(spec["encoding"]["x"]["bin"])  # a bar around the value, not the axis
    assert [at.text_input(key=k).placeholder for k in ("lx_user", "lx_session", "lx_cid")] == [
        "any user", "any session", "any interaction (req_…)"]  # not values that look filled in
    records_table = at.dataframe[0]  # the Records table comes first
    columns = json.loads(records_table.proto.columns)
    assert columns["message"]["width"] == "large"
    assert "timestamp" in columns


def test_a_grown_live_file_is_read_from_where_it_was_and_equals_a_fresh_read(tmp_path: Path) -> None:
    """The page's LiveFile, as a rerun uses it: the frame and the damage report equal a fresh read's."""
    import pandas as pd

    from streamlit_extension.explorer.data import LiveFile, records_frame
    from streamlit_extension.explorer.reports import read_report
    from streamlit_extension.logs import ReadStats

    def interaction(n: int) -> Callable[[], str]:
        def body() -> str:
            with correlation_logger.track_operation("import_batch", {"batch": n}) as cid:
                logger.bind(user_id=f"user_{n}").info(f"imported batch {n}")
            return cid
        return body

    batches = [write_log(tmp_path / f"batch-{n}", "flat", interaction(n))[1].read_bytes() for n in range(3)]
    data = batches[0] + b'{"timestamp": "2026-01-01T00:00:00Z", "lev\n' + batches[1] + batches[2]
    live = tmp_path / "app.jsonl"
    live.write_bytes(b"")
    entry = LiveFile(str(live), None)
    written = 0
    for cut in (len(batches[0]) // 2, len(batches[0]) + 10, len(batches[0]) + 50, len(data) - 5, len(data)):
        with open(live, "ab") as handle:  # a partial last line at most cuts: a line being written
            handle.write(data[written:cut])
        written = cut
        frame, report = entry.load()
        stats = ReadStats()
        pd.testing.assert_frame_equal(frame, records_frame(read_records([live], stats=stats)))
        assert report == read_report(stats)
    assert entry.source.reads_from_start == 1  # each load after the first read only what was new
    assert report["skipped"] == {"corrupt line": 1}
    assert {f"imported batch {n}" for n in range(3)} <= set(frame["message"])


def test_records_appended_to_the_live_file_between_two_runs_show_up(demo: SimpleNamespace,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit_extension.logs.follow import GrowingFile, Increment

    reads: list[tuple[str, bool, list[str]]] = []  # every read of a plain file: (name, fresh, messages)
    update = GrowingFile.update

    def recorded(self: GrowingFile, *args: Any, **kwargs: Any) -> Increment:
        increment = update(self, *args, **kwargs)
        reads.append((self.path.name, increment.fresh, [r.get("message") for r in increment.records]))
        return increment

    monkeypatch.setattr(GrowingFile, "update", recorded)
    at = open_explorer(start_app())
    [live] = list(demo.logs.glob("*.jsonl"))  # the app's own file: this process writes it
    assert [fresh for name, fresh, _ in reads if name == live.name] == [True]
    assert "a nightly job's record" not in {r["message"] for r in table(at)}

    with correlation_logger.track_operation("nightly_job"):
        logger.info("a nightly job's record")
    run(at)
    assert "a nightly job's record" in {r["message"] for r in table(at)}
    name, fresh, messages = reads[-1]
    # Read on from where the last run stopped: only what was appended since, the new record in it.
    assert (name, fresh) == (live.name, False)
    assert "a nightly job's record" in messages
    assert "render_clients_page started" not in messages  # logged by the first run, read by the first read


def test_an_id_filter_skips_archives_whose_index_rules_the_id_out(tmp_path: Path) -> None:
    """With an id filter the page opens only the archives that can hold the id (their sidecar
    index says so), and shows exactly the rows a read of every file finds."""
    from streamlit_extension import correlation_scope
    from streamlit_extension.explorer.data import explorer_view, list_files
    from streamlit_extension.explorer.filters import Filters
    from streamlit_extension.explorer.reports import FolderSummary

    folder = tmp_path / "logs"
    handle = setup_logging(log_path=str(folder / "app.jsonl"), console=False, intercept_stdlib=False,
                           rotation="20 KB", compression="gz")
    for i in range(300):
        with correlation_scope(f"req_{i:08d}"):
            logger.bind(session_id=f"sess_{i // 50}").info("record {}", i)
    handle.close()
    archives = sorted(folder.glob("*.jsonl.gz"))
    assert len(archives) >= 4
    assert all(Path(f"{archive}.idx").exists() for archive in archives)

    for value in ("req_00000007", "sess_3", "req_00000299", "req_99999999"):
        column = "correlation_id" if value.startswith("req_") else "session_id"
        filters = Filters(since=None, until=None, min_level=0, user_id="", session_id="", correlation_id="",
                          text="", hide_own=True, server=False)
        filters = dataclasses.replace(filters, **{column: value})
        view = explorer_view(list_files([folder], FolderSummary()), filters, table_rows=2000, interactions=50,
                             error_rows=25)
        summary = view.summary
        expected = [r for r in read_records([folder]) if r[column] == value]
        assert list(view.records["message"]) == [r["message"] for r in expected], value
        holding = sum(1 for a in archives if any(value in (r["correlation_id"], r["session_id"])
                                                 for r in read_records([a])))
        # Every archive without the id is skipped, but for a Bloom false positive (0.1 % each).
        assert len(archives) - holding - 1 <= summary.ruled_out <= len(archives) - holding, value
        assert summary.files + summary.ruled_out == len(archives) + 1  # + the live file, never ruled out


def test_the_folder_box_reads_only_the_allowed_folders(demo: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A parent path, ``..``, a symlink out, a single file, an absolute path elsewhere, another app's
    folder: one and the same refusal, whether the path exists or not, and nothing of it is read."""
    (demo.tmp / "private.json").write_text(json.dumps({"timestamp": "2026-01-01T00:00:00.000Z", "level": "INFO",
                                                       "message": "a private record"}) + "\n")
    other = demo.tmp / "other-app" / "logs"
    write_log(other, "flat", lambda: logger.info("another app's record"))
    (demo.tmp / "link-out").symlink_to(other)
    replica = demo.tmp / "replica" / "logs"
    write_log(replica, "flat", lambda: logger.info("a replica's record"))
    monkeypatch.setenv("LOG_EXPLORER_FOLDERS", str(replica))
    at = open_explorer(start_app())
    refusals = set()
    for typed in ("..", str(demo.tmp), "logs/..", "../private.json", str(demo.tmp / "private.json"), str(other),
                  "link-out", "/etc/passwd", "/etc", "/root", "/nonexistent", f"{demo.logs}, {other}",
                  str(demo.logs / "app.jsonl")):
        at.text_input(key="lx_folder").input(typed)
        run(at)
        assert not at.dataframe, typed
        assert not at.warning, (typed, texts(at.warning))  # no "damaged lines" from whatever is there
        assert not at.info, (typed, texts(at.info))  # no "no log folder" / "no log files" oracle
        assert [e.value for e in at.error], typed
        refusals.add(tuple(e.value for e in at.error))
    assert len(refusals) == 1  # the same words for every path
    (refusal,) = refusals
    assert "LOG\\_EXPLORER\\_FOLDERS" in refusal[0] or "LOG_EXPLORER_FOLDERS" in refusal[0]
    # The allowed ones, typed any way that resolves to them, are read.
    for typed in (str(replica), f"{demo.tmp}/replica/../replica/logs/", f"logs, {replica}"):
        at.text_input(key="lx_folder").input(typed)
        run(at)
        assert not at.error, typed
        assert "a replica's record" in {r["message"] for r in table(at)}, typed


def test_a_symlink_in_the_log_folder_leading_out_is_left_out(demo: SimpleNamespace) -> None:
    outside = demo.tmp / "outside"
    write_log(outside, "flat", lambda: logger.info("a record from outside"))
    write_log(demo.logs, "flat", lambda: logger.info("a record of the app"))
    (demo.logs / "evil.jsonl").symlink_to(outside / "app.jsonl")
    os.mkfifo(demo.logs / "fifo.jsonl")
    at = open_explorer(start_app())
    messages = {r["message"] for r in table(at)}
    assert "a record of the app" in messages
    assert "a record from outside" not in messages
    (warning,) = [w for w in texts(at.warning) if "not regular files" in w]
    assert "evil" in warning
    assert "fifo" in warning


def _only_archives(folder: Path, interactions: int, **options: Any) -> None:
    """Real archives (their manifests, indexes) and no live file: what a restored backup holds."""
    from streamlit_extension import correlation_scope

    handle = setup_logging(log_path=str(folder / "app.jsonl"), console=False, json_format="flat",
                           rotation="16 KB", compression="gz", retention=None, **options)
    for i in range(interactions):
        with correlation_scope(f"req_{i:08d}"), correlation_logger.track_operation("restored_work"):
            logger.bind(session_id=f"sess_{i % 3}", user_id=f"user_{i % 4}").info(f"restored record {i}")
    handle.close()
    (folder / "app.jsonl").unlink()


def test_a_restored_archive_with_an_old_date_answers_for_its_records_time(demo: SimpleNamespace,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    restored = demo.tmp / "restored"
    _only_archives(restored, 200)
    for archive in restored.iterdir():
        os.utime(archive, (0, 0))  # copied from a backup that kept no dates: 1970
    monkeypatch.setenv("LOG_EXPLORER_FOLDERS", str(restored))
    at = open_explorer(start_app())
    at.text_input(key="lx_folder").input(str(restored))
    at.selectbox(key="lx_range").set_value("Last hour")
    run(at)
    kept = list(read_records([restored]))
    assert kept[-1]["message"] in {r["message"] for r in table(at)}  # the newest record is there
    durations = [d.value for d in at.dataframe if "refused (expected)" in d.value.columns]
    (row,) = durations[0][durations[0]["operation"] == "restored_work"].to_dict("records")
    # From the manifests of archives written minutes ago, whatever their dates.
    assert row["count"] == sum(1 for r in kept if r.get("event") == "complete")
    assert any("answered from their manifest" in c for c in texts(at.caption))


def test_the_explorer_holds_a_bounded_number_of_records_whatever_the_folder_size(tmp_path: Path) -> None:
    """Records held in the page's cache (its memory) with default filters: the same for a folder ten
    times larger, and never past the cache's bound; yet every archive is counted."""
    from streamlit_extension.explorer.data import FileCache, explorer_view, list_files
    from streamlit_extension.explorer.filters import Filters
    from streamlit_extension.explorer.reports import FolderSummary

    defaults = Filters(since=None, until=None, min_level=0, user_id="", session_id="", correlation_id="", text="",
                       hide_own=True, server=False)
    held = {}
    for scale in (1, 10):
        folder = tmp_path / f"x{scale}"
        _only_archives(folder, 300 * scale)
        in_archives = sum(1 for r in read_records([folder]) if r.get("event") == "complete")
        write_log(folder, "flat", lambda: [logger.info("live record {}", n) for n in range(600)])
        cache = FileCache(max_rows=5_000)
        view = explorer_view(list_files([folder], FolderSummary()), defaults, table_rows=500, interactions=50,
                             error_rows=25, cache=cache)
        held[scale] = cache.rows
        assert len(view.records) == 500
        assert view.records["message"].iloc[-1] == "live record 599"
        assert view.operations["restored_work"].count == in_archives  # every archive counted ...
        assert view.summary.from_manifests == len(list(folder.glob("*.jsonl.gz")))  # ... from its manifest
        assert cache.rows <= 5_000
    assert held[10] == held[1] == 600, held  # only the live file's records are held


def test_the_errors_panel_counts_refusals_apart_as_the_durations_table_does(demo: SimpleNamespace) -> None:
    """A refusal (an expected failure, at WARNING) is not an error: the Errors panel says "1 error
    and 3 refusals" where the durations table says failed 1, refused 3, from archives' manifests
    and from the live file alike."""
    from streamlit_extension import correlation_scope

    handle = setup_logging(log_path=str(demo.logs / "app.jsonl"), console=False, json_format="flat",
                           rotation="16 KB", compression="gz", retention=None)
    for i in range(150):
        signup = correlation_logger.track_operation("signup", expected=(ValueError,))
        with correlation_scope(f"req_{i:012x}"), contextlib.suppress(ValueError), signup:
            logger.info("checking the form {}", i)
            if i % 70 == 0:
                raise ValueError("not an e-mail address")
    with contextlib.suppress(OSError), correlation_logger.track_operation("save"):
        raise OSError("disk full")
    handle.close()
    assert len(list(demo.logs.glob("*.jsonl.gz"))) > 3

    at = open_explorer(start_app())
    durations = next(d.value for d in at.dataframe if "refused (expected)" in d.value.columns)
    counts = {row["operation"]: (row["failed"], row["refused (expected)"]) for row in durations.to_dict("records")}
    assert (counts["signup"], counts["save"]) == ((0, 3), (1, 0))
    assert sum(failed for failed, _ in counts.values()) == 1  # the demo's own first run failed nothing
    assert "1 error and 3 refusals (expected failures, not errors) among the matching records." in texts(at.caption)
    refused = [e for e in at.expander if "ValueError" in e.label]
    assert len(refused) == 3
    assert all("refused" in e.label for e in refused)
    [fault] = [e for e in at.expander if "OSError" in e.label]
    assert "refused" not in fault.label


def test_the_records_table_shows_who_and_which_interaction_first_and_counts_in_words(
        demo: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 1400 px the user and correlation columns were off-screen, after the wide message; and a
    single record read "1 matching records"."""
    single = demo.tmp / "single"
    write_log(single, "flat", lambda: logger.bind(user_id="alice").info("the only record"))
    monkeypatch.setenv("LOG_EXPLORER_FOLDERS", str(single))
    at = open_explorer(start_app())
    at.text_input(key="lx_folder").input(str(single))
    run(at)
    records = at.dataframe[0]
    assert list(records.value.columns)[:5] == ["timestamp", "level", "user_id", "correlation_id", "message"]
    widths = {name: config.get("width") for name, config in json.loads(records.proto.columns).items()}
    assert widths["user_id"] == "small"
    assert widths["correlation_id"] == "medium"
    assert [r["message"] for r in table(at)] == ["the only record"]
    assert "1 matching record, newest first." in texts(at.caption)
    assert any(c.startswith("Read 1 file, ") for c in texts(at.caption)), texts(at.caption)
