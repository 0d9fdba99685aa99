"""The ``st-logs`` CLI, run as a real subprocess on log files written by the real library."""

from __future__ import annotations

import collections
import gzip
import io
import json
import os
import queue
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from loguru import logger

from streamlit_extension import correlation_logger, setup_logging
from streamlit_extension.logs.cli import Progress, build_parser
from streamlit_extension.schema import FLAT_FIELDS
from streamlit_extension.sinks.sketch import RELATIVE_ERROR

FORMATS = ("flat", "loguru")
EVIL = "saving \x1b[2J client\nFORGED line"


def run_cli(*args: object, timeout: float = 20, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | (extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "streamlit_extension.logs", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


def log_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))


def read_any(path: Path) -> str:
    return gzip.open(path, "rt").read() if path.suffix == ".gz" else path.read_text()


def wait_for_gz(folder: Path, count: int = 2, timeout: float = 5.0) -> list[Path]:
    """Rotated files are compressed by loguru; give that a moment should it become asynchronous."""
    deadline = time.monotonic() + timeout
    while True:
        gz = sorted(folder.glob("*.jsonl.gz"))
        if len(gz) >= count or time.monotonic() > deadline:
            return gz
        time.sleep(0.05)


def write_app_logs(folder: Path, json_format: str, rotation=2000) -> dict[str, str]:
    """Three interactions in two sessions, one of them failing two levels deep."""
    handle = setup_logging(log_path=str(folder / "app.jsonl"), json_format=json_format, rotation=rotation,
                           compression="gz", console=False)
    ids = {}
    with logger.contextualize(session_id="sess_a", user_id="alice", page="Clients"):
        with correlation_logger.track_operation("script_run") as cid:
            ids["ok"] = cid
            logger.info("rendering clients")
            with correlation_logger.track_operation("load_clients", {"rows": 3}):
                logger.info("query done")
        with correlation_logger.track_operation("script_run") as cid:
            ids["failed"] = cid
            logger.info(EVIL)
            try:
                with correlation_logger.track_operation("save_client"):
                    with correlation_logger.track_operation("db_write"):
                        raise RuntimeError("disk on fire")
            except RuntimeError:
                logger.warning("save failed, shown to the user")
    with logger.contextualize(session_id="sess_b", user_id="bob", page="Projects"):
        with correlation_logger.track_operation("script_run") as cid:
            ids["other"] = cid
            logger.info("projects listed")
    handle.close()
    return ids


@pytest.fixture(params=FORMATS)
def app_logs(request, tmp_path) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / request.param
    ids = write_app_logs(folder, request.param)
    assert len(wait_for_gz(folder)) >= 2, "the rotation should have produced compressed files"
    return folder, ids


def flat_record(timestamp: str, **fields) -> dict:
    base = {"timestamp": timestamp, "level": "INFO", "message": "", "correlation_id": None, "session_id": None,
            "user_id": "anonymous", "operation": None, "event": None, "duration_ms": None}
    return {**base, **fields}


def write_jsonl(path: Path, records: list[dict], tail: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    return path


# --- trace ---------------------------------------------------------------------------------


def test_trace_spans_rotated_gz_files(app_logs):
    folder, ids = app_logs
    cid = ids["failed"]
    holding = [p for p in log_files(folder) if cid in read_any(p)]
    assert len(holding) >= 2, holding
    assert any(p.suffix == ".gz" for p in holding), holding

    result = run_cli("trace", cid, folder)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no damage, no progress bar off a terminal
    lines = result.stdout.splitlines()
    # The run completed (the page handled the nested failure), and the header says what failed in it.
    assert re.match(rf"^{cid}  complete, 2 errors  \d+\.\dms$", lines[0])
    assert "session: sess_a" in lines[1]
    assert "user: alice" in lines[1]
    assert "page: Clients" in lines[1]
    body = [line for line in lines[2:] if re.match(r"^\s*\+\d+\.\dms  ", line)]
    assert ids["ok"] not in result.stdout
    assert "projects listed" not in result.stdout

    def line_of(text: str) -> str:
        return next(line for line in body if text in line)

    def indent(text: str) -> int:
        after_level = re.match(r"^\s*\+\S+  \S+\s+", line_of(text))
        return len(line_of(text)) - len(line_of(text)[after_level.end():].lstrip()) if after_level else -1

    order = ["script_run:start", "save_client:start", "db_write:start", "db_write:failed", "save_client:failed",
             "save failed, shown to the user", "script_run:complete"]
    positions = [body.index(line_of(text)) for text in order]
    assert positions == sorted(positions)
    assert indent("script_run:start") < indent("save_client:start") < indent("db_write:start")
    assert indent("db_write:start") == indent("db_write:failed")
    assert re.search(r"db_write:failed \d+\.\d+ms", line_of("db_write:failed"))
    assert "RuntimeError: disk on fire" in result.stdout
    assert "Traceback (most recent call last):" in result.stdout
    traceback_line = next(line for line in lines if "Traceback (most recent" in line)
    assert len(traceback_line) - len(traceback_line.lstrip()) > indent("db_write:failed")
    # A logged value can neither repaint the terminal nor forge a line of its own.
    assert "\x1b" not in result.stdout
    assert "\\x1b[2J client\\nFORGED line" in result.stdout
    assert not any(line.startswith("FORGED") for line in lines)


def test_trace_json(app_logs):
    folder, ids = app_logs
    result = run_cli("trace", ids["failed"], folder, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    header, records = data["header"], data["records"]
    assert header["correlation_id"] == ids["failed"]
    assert (header["session_id"], header["user_id"], header["page"]) == ("sess_a", "alice", "Clients")
    assert header["outcome"] == "complete, 2 errors"
    assert header["records"] == len(records)
    assert (header["failures"], header["refused"]) == (2, 0)
    assert isinstance(header["duration_ms"], float)
    assert all(r["correlation_id"] == ids["failed"] for r in records)
    assert [r["timestamp"] for r in records] == sorted(r["timestamp"] for r in records)
    spans = {s["operation"]: s for s in header["spans"]}
    assert spans["db_write"]["depth"] == 2
    assert spans["db_write"]["outcome"] == "failed"
    assert spans["db_write"]["error"]["message"] == "disk on fire"
    assert any(r["message"] == EVIL for r in records)  # JSON keeps the value, escaped by JSON itself


def test_trace_json_header_counts_agree_with_the_text(tmp_path):
    """A refusal is counted as refused, not as an error: the JSON header says what the text says."""
    handle = setup_logging(log_path=str(tmp_path / "app.jsonl"), json_format="flat", console=False)
    with logger.contextualize(session_id="sess_r", user_id="carol"):
        with correlation_logger.track_operation("script_run") as refused_cid:
            signup = correlation_logger.track_operation("signup", expected=(ValueError,))
            with pytest.raises(ValueError, match="e-mail"), signup:
                raise ValueError("not an e-mail address")
        with correlation_logger.track_operation("script_run") as failed_cid:
            try:
                with correlation_logger.track_operation("save"):
                    raise OSError("disk")
            except OSError:
                logger.exception("save failed")
    handle.close()

    for cid, outcome, counts in ((refused_cid, "complete, 1 refused", (0, 1, 0)),
                                 (failed_cid, "complete, 1 error", (1, 0, 2))):
        header = json.loads(run_cli("trace", cid, tmp_path, "--json").stdout)["header"]
        assert header["outcome"] == outcome
        assert (header["failures"], header["refused"], header["error_records"]) == counts, header
        assert "errors" not in header  # it counted records with any error, refusals too
        assert run_cli("trace", cid, tmp_path).stdout.splitlines()[0].split("  ")[1] == outcome


def test_times_without_fractional_seconds_read_like_every_other(tmp_path):
    """Another writer's ``09:00:00Z`` (or an offset) is read as ``09:00:00.000000Z``: printed with
    milliseconds like the rest, and sorted by time, not by text (``.5Z`` sorted before ``Z``)."""
    cid = "req_00000000000a"
    stamps = {"whole second": "2024-05-01T09:00:00Z", "half": "2024-05-01T09:00:00.500Z",
              "offset": "2024-05-01T11:00:01+02:00", "micro": "2024-05-01T09:00:02.123456Z"}
    write_jsonl(tmp_path / "app.jsonl", [flat_record(stamp, message=message, correlation_id=cid, session_id="s")
                                         for message, stamp in stamps.items()])
    tail = run_cli("tail", tmp_path, "--once")
    assert [line.split()[0] for line in tail.stdout.splitlines()] == [
        "09:00:00.000", "09:00:00.500", "09:00:01.000", "09:00:02.123"]
    trace = run_cli("trace", cid, tmp_path)
    assert "started: 2024-05-01T09:00:00.000000Z" in trace.stdout
    assert [line.split()[0] for line in trace.stdout.splitlines()[2:]] == ["+0.0ms", "+500.0ms", "+1000.0ms",
                                                                          "+2123.5ms"]
    records = json.loads(run_cli("trace", cid, tmp_path, "--json").stdout)["records"]
    assert [r["timestamp"] for r in records] == ["2024-05-01T09:00:00.000000Z", "2024-05-01T09:00:00.500000Z",
                                                 "2024-05-01T09:00:01.000000Z", "2024-05-01T09:00:02.123456Z"]
    assert "09:00:00.000" in run_cli("session", "s", tmp_path).stdout


def test_trace_unknown_id(app_logs):
    folder, _ = app_logs
    result = run_cli("trace", "req_000000000000", folder)
    assert result.returncode == 1
    assert "req_000000000000" in result.stderr
    assert "not found" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_trace_needle_is_checked_against_the_field(tmp_path):
    # The prefilter matches raw bytes: an id inside another field or a longer id is not the id.
    path = write_jsonl(tmp_path / "app.jsonl", [
        flat_record("2024-05-01T12:00:00.000Z", correlation_id="req_aaaaaaaaaaaa1", message="x"),
        flat_record("2024-05-01T12:00:00.001Z", correlation_id="req_b", message="about req_aaaaaaaaaaaa"),
    ])
    result = run_cli("trace", "req_aaaaaaaaaaaa", path)
    assert result.returncode == 1
    assert "req_aaaaaaaaaaaa" in result.stderr


# --- session -------------------------------------------------------------------------------


def test_session_lists_interactions(app_logs):
    folder, ids = app_logs
    result = run_cli("session", "sess_a", folder)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "sess_a" in lines[0]
    assert "alice" in lines[0]
    assert "interactions: 2" in lines[0]
    rows = lines[1:]
    assert [ids["ok"] in rows[0], ids["failed"] in rows[1]] == [True, True]
    assert ids["other"] not in result.stdout
    assert all(re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  Clients  req_", row) for row in rows)
    assert re.search(r"\d+\.\d+ms  complete$", rows[0])
    assert re.search(r"\d+\.\d+ms  complete, 2 errors$", rows[1])

    as_json = json.loads(run_cli("session", "sess_b", folder, "--json").stdout)
    assert [(i["correlation_id"], i["page"], i["user_id"], i["outcome"]) for i in as_json] == [
        (ids["other"], "Projects", "bob", "complete")]

    missing = run_cli("session", "sess_nope", folder)
    assert missing.returncode == 1
    assert "sess_nope" in missing.stderr
    assert "Traceback" not in missing.stderr


# --- stats ---------------------------------------------------------------------------------


def test_stats_percentiles(tmp_path):
    durations = list(range(1, 101))
    random.Random(7).shuffle(durations)
    records = []
    for n, ms in enumerate(durations):
        event = "failed" if n % 20 == 0 else "complete"  # 5 of 100
        records.append(flat_record(f"2024-05-01T12:00:{n // 10:02d}.{n:03d}Z", operation="query", event=event,
                                   duration_ms=float(ms), correlation_id=f"req_{n:012x}"))
    for n, ms in enumerate((30.0, 10.0, 20.0)):
        records.append(flat_record(f"2024-05-01T12:01:00.{n:03d}Z", operation="render", event="complete",
                                   duration_ms=ms))
        records.append(flat_record(f"2024-05-01T12:01:00.{n:03d}Z", operation="render", event="start"))
    for n, ms in enumerate((1.0, 2.0, 3.0)):  # two typos refused (expected), one real fault
        error = {"type": "ValidationError", "message": "bad e-mail", "traceback": None, "expected": True} if n < 2 \
            else {"type": "OSError", "message": "disk", "traceback": "Traceback ..."}
        records.append(flat_record(f"2024-05-01T12:02:00.{n:03d}Z", operation="signup", event="failed", duration_ms=ms,
                                   error=error))
    write_jsonl(tmp_path / "app.jsonl", records)

    result = run_cli("stats", tmp_path, "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["operation"]: row for row in json.loads(result.stdout)}
    assert rows["query"] == {"operation": "query", "count": 100, "errors": 5, "error_rate": 0.05, "expected": 0,
                             "p50": 50.0, "p95": 95.0, "p99": 99.0, "approximate": False}  # read: exact
    assert (rows["signup"]["count"], rows["signup"]["errors"], rows["signup"]["expected"]) == (3, 1, 2)
    render = rows["render"]
    assert (render["count"], render["p50"], render["p95"], render["p99"]) == (3, 20.0, 30.0, 30.0)

    table = run_cli("stats", tmp_path).stdout.splitlines()
    assert table[0].split() == ["operation", "count", "errors", "error%", "expected", "p50", "p95", "p99"]
    assert table[1].split() == ["query", "100", "5", "5.0%", "0", "50.0ms", "95.0ms", "99.0ms"]
    assert table[2].split() == ["render", "3", "0", "0.0%", "0", "20.0ms", "30.0ms", "30.0ms"]
    assert table[3].split() == ["signup", "3", "1", "33.3%", "2", "2.0ms", "3.0ms", "3.0ms"]


def test_stats_on_real_logs(app_logs):
    folder, _ = app_logs
    rows = {row["operation"]: row for row in json.loads(run_cli("stats", folder, "--json").stdout)}
    assert rows["script_run"]["count"] == 3
    assert rows["script_run"]["errors"] == 0
    assert rows["db_write"]["errors"] == 1
    assert rows["db_write"]["error_rate"] == 1.0
    assert rows["load_clients"]["count"] == 1
    assert rows["load_clients"]["p99"] >= 0


# --- tail ----------------------------------------------------------------------------------


@pytest.fixture
def unrotated_logs(tmp_path) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "logs"
    return folder, write_app_logs(folder, "flat", rotation=None)


def tail_messages(*args: object) -> list[str]:
    result = run_cli("tail", *args, "--once", "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line)["message"] for line in result.stdout.splitlines()]


def test_tail_once_with_filters(unrotated_logs):
    folder, ids = unrotated_logs
    assert tail_messages(folder, "-n", 2) == ["projects listed", "script_run completed"]
    assert tail_messages(folder, "--user", "bob", "-n", 50) == ["script_run started", "projects listed",
                                                                "script_run completed"]
    assert tail_messages(folder, "--session", "sess_b", "-n", 1) == ["script_run completed"]
    assert tail_messages(folder, "--level", "warning", "-n", 50) == [
        "db_write failed: RuntimeError", "save_client failed: RuntimeError", "save failed, shown to the user"]
    assert tail_messages(folder, "--operation", "db_write", "--level", "ERROR") == ["db_write failed: RuntimeError"]
    assert tail_messages(folder, "--user", "nobody") == []

    live = next(folder.glob("*.jsonl"))  # named per process by the library
    human = run_cli("tail", live, "--once", "-n", 50)
    assert human.returncode == 0
    assert human.stderr == ""
    assert "\x1b" not in human.stdout  # not a terminal: no colour
    assert "\\x1b[2J client\\nFORGED line" in human.stdout
    assert re.search(rf"^\d\d:\d\d:\d\d\.\d{{3}} ERROR +{ids['failed']} alice  db_write:failed \d", human.stdout, re.M)
    assert "    RuntimeError: disk on fire" in human.stdout
    coloured = run_cli("tail", folder, "--once", "--color", "always")
    assert "\x1b[" in coloured.stdout
    assert "\x1b[2J" not in coloured.stdout

    bad = run_cli("tail", folder, "--once", "--level", "LOUD")
    assert bad.returncode == 2
    assert "LOUD" in bad.stderr


@pytest.fixture
def start_tail():
    """``start_tail(*args)``: ``st-logs tail ARGS --json`` in a subprocess. A follower runs until
    it is stopped, so each one still running when the test ends, however it ends, is killed."""
    started: list[subprocess.Popen] = []

    def start(*args: object) -> subprocess.Popen:
        started.append(subprocess.Popen(
            [sys.executable, "-m", "streamlit_extension.logs", "tail", *map(str, args), "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
        return started[-1]

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_tail_follows_rotation(tmp_path, start_tail):
    folder = tmp_path / "logs"
    handle = setup_logging(log_path=str(folder / "app.jsonl"), json_format="flat", rotation=1500, compression="gz",
                           console=False)
    try:
        logger.info("marker")
        proc = start_tail(folder, "-n", 1)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()

        def next_message() -> str:
            return json.loads(lines.get(timeout=10))["message"]

        assert next_message() == "marker"  # the follower is in place
        big = "B" * 1600  # over the rotation size: each of these starts a new file
        # One write at a time, each awaited: deterministic, whatever the machine's speed.
        for message in ("a small one", "first big " + big, "second big " + big, "after the rotations"):
            logger.info(message)
            assert next_message() == message
        assert len(wait_for_gz(folder)) >= 2

        # A newer file appearing beside it (another process's log) is followed too.
        time.sleep(0.3)
        write_jsonl(folder / "worker.jsonl", [flat_record("2030-01-01T00:00:00.000Z", message="from the worker")])
        assert next_message() == "from the worker"
    finally:
        handle.close()


def test_tail_backlog_is_the_last_records_over_every_process(tmp_path):
    old = [flat_record(f"2024-05-01T12:00:00.00{n}000Z", message=f"old {n}") for n in range(1, 6)]
    rotated = tmp_path / "app.h-1.2024-05-01_12-00-00_000000.jsonl.gz"
    rotated.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in old).encode()))
    write_jsonl(tmp_path / "app.h-1.jsonl", [flat_record("2024-05-01T12:00:01.000000Z", message="one-a")])
    write_jsonl(tmp_path / "app.h-2.jsonl", [flat_record("2024-05-01T12:00:00.500000Z", message="two-a"),
                                             flat_record("2024-05-01T12:00:02.000000Z", message="two-b")])
    assert tail_messages(tmp_path, "-n", 2) == ["one-a", "two-b"]  # in time order across processes
    # Fewer in the current files than asked: topped up from the newest older file.
    assert tail_messages(tmp_path, "-n", 5) == ["old 4", "old 5", "two-a", "one-a", "two-b"]
    assert tail_messages(tmp_path / "app.h-1.jsonl", "-n", 5) == ["one-a"]  # one file given: that file


WRITER = """
import sys
from loguru import logger
from streamlit_extension import setup_logging

folder, name, count, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "wait"
handle = setup_logging(log_path=folder + "/app.jsonl", per_process=True,  # app.<host>-<pid>.jsonl
                       json_format="flat", rotation=1500, compression="gz", console=False)
if wait:  # one record, then hold until the test says go (tail is in place by then)
    logger.info(f"{name} 000")
    sys.stdin.readline()
for n in range(1, count + 1):
    logger.info(f"{name} {n:03d} " + "x" * 300)  # ~600 bytes: a rotation every second record
handle.close()
"""


def start_writer(folder: Path, name: str, count: int, wait: bool) -> subprocess.Popen:
    """A real process logging ``<name> 001`` ... into ``folder`` through ``setup_logging``, as fast as it can."""
    return subprocess.Popen([sys.executable, "-c", WRITER, str(folder), name, str(count), "wait" if wait else "go"],
                            stdin=subprocess.PIPE, text=True)


def wait_until(condition, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Follower:
    """An ``st-logs tail --json`` process (see ``start_tail``), its messages collected by a thread."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.messages: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.messages.append(json.loads(line)["message"])

    def wait_for(self, expected: set, timeout: float = 60.0) -> None:
        wait_until(lambda: expected <= {m.split(" x")[0] for m in self.messages}, timeout,
                   f"{sorted(expected - {m.split(' x')[0] for m in self.messages})[:5]} (tail stderr: {self.stderr()})")

    def stderr(self) -> str:
        return self.proc.stderr.read() if self.proc.poll() is not None else "(running)"

    def stop(self) -> list[str]:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.reader.join(timeout=10)
        return [m.split(" x")[0] for m in self.messages]


def test_tail_follows_every_process_across_rotations(tmp_path, start_tail):
    folder = tmp_path / "logs"
    folder.mkdir()
    count = 60
    writers = [start_writer(folder, name, count, wait=True) for name in ("alpha", "beta")]
    follower: Follower | None = None
    try:
        wait_until(lambda: sum(p.read_text().count("\n") for p in folder.glob("*.jsonl")) == 2, what="first records")
        # The backlog is the last N records over every process's current file.
        follower = Follower(start_tail(folder, "-n", 2))
        follower.wait_for({"alpha 000", "beta 000"})
        assert len(follower.messages) == 2

        for writer in writers:  # both at once: each rotates ~30 times, many times between two polls
            writer.stdin.write("go\n")
            writer.stdin.flush()
        for writer in writers:
            assert writer.wait(timeout=60) == 0
        follower.wait_for({f"{name} {n:03d}" for name in ("alpha", "beta") for n in range(count + 1)})

        # A process that starts after tail did is followed from its first record.
        late = start_writer(folder, "gamma", count, wait=False)
        assert late.wait(timeout=60) == 0
        follower.wait_for({f"gamma {n:03d}" for n in range(1, count + 1)})
        assert len(list(folder.glob("*.jsonl.gz"))) > 60  # the rotations did happen

        # Anything shown twice would be shown by the look that finds this new file at the latest.
        write_jsonl(folder / "last.jsonl", [flat_record("2030-01-01T00:00:00.000000Z", message="the last one")])
        follower.wait_for({"the last one"})
    finally:
        for writer in writers:
            writer.kill() if writer.poll() is None else None
        messages = follower.stop() if follower is not None else []
    expected = ({f"{name} {n:03d}" for name in ("alpha", "beta") for n in range(count + 1)}
                | {f"gamma {n:03d}" for n in range(1, count + 1)} | {"the last one"})
    counts = collections.Counter(messages)
    assert set(counts) == expected, set(counts) ^ expected  # what is missing or unexpected
    assert set(counts.values()) == {1}, {m: n for m, n in counts.items() if n != 1}


# --- bad input and damage ------------------------------------------------------------------


def bad_inputs(tmp_path: Path) -> dict[str, Path]:
    empty = tmp_path / "empty"
    empty.mkdir()
    folder_as_file = tmp_path / "logs" / "app.jsonl"  # a directory where a file is expected
    folder_as_file.mkdir(parents=True)
    broken_gz = tmp_path / "broken" / "app.1.jsonl.gz"
    broken_gz.parent.mkdir()
    broken_gz.write_bytes(b"\x1f\x8b\x08\x00 this is not deflate data\n")
    return {"missing": tmp_path / "nope", "empty": empty, "folder_as_file": folder_as_file, "broken_gz": broken_gz}


@pytest.mark.parametrize("kind", ["missing", "empty", "folder_as_file", "broken_gz"])
def test_bad_paths_exit_2_without_traceback(tmp_path, kind):
    path = bad_inputs(tmp_path)[kind]
    for args in (("trace", "req_000000000000", path), ("session", "sess_a", path), ("stats", path),
                 ("tail", path, "--once"), ("sql", "SELECT count(*) FROM logs", path)):
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr.startswith("error: "), result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        assert str(path.name) in result.stderr
        assert result.stdout == ""


def test_usage_errors():
    assert run_cli().returncode == 2
    helped = run_cli("--help")
    assert helped.returncode == 0
    assert all(word in helped.stdout for word in ("trace", "session", "tail", "stats"))
    assert run_cli("trace").returncode == 2  # the id is required
    empty_id = run_cli("trace", "", "logs")
    assert empty_id.returncode == 2
    assert "Traceback" not in empty_id.stderr


@pytest.mark.parametrize("kind", ["missing", "empty", "folder_as_file", "broken_gz"])
def test_json_errors_are_one_json_object_on_stdout(tmp_path, kind):
    """Under --json a failing command still answers in JSON: one object, the status it exits with."""
    path = bad_inputs(tmp_path)[kind]
    for args in (("trace", "req_000000000000", path), ("session", "sess_a", path), ("stats", path),
                 ("tail", path, "--once"), ("index", path)):
        if kind == "broken_gz" and args[0] == "index":
            continue  # index reports a broken archive inside its JSON summary, as before
        result = run_cli(*args, "--json")
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        answer = json.loads(result.stdout)
        assert answer == {"error": answer["error"], "status": 2}, answer
        assert path.name in answer["error"]
        assert not answer["error"].startswith("error:")
        assert result.stderr == "", (args, result.stderr)


def test_json_errors_for_bad_arguments_and_unknown_ids(app_logs):
    folder, _ = app_logs
    bad = {("stats", "--bogus"): "unrecognized arguments: --bogus", ("trace",): "CORRELATION_ID",
           (): "COMMAND", ("tail", "-n", "x"): "expected a whole number", ("trace", " ", folder): "is empty"}
    for args, expected in bad.items():
        result = run_cli(*args, "--json")
        assert result.returncode == 2, (args, result.stderr)
        answer = json.loads(result.stdout)
        assert answer["status"] == 2, answer
        assert expected in answer["error"], answer
        assert result.stderr == ""
        plain = run_cli(*args)  # without --json: argparse's usage and error line, as before
        assert (plain.returncode, plain.stdout) == (2, "")
        assert expected in plain.stderr
        assert "error: " in plain.stderr
    unknown = run_cli("trace", "req_000000000000", folder, "--json")
    assert unknown.returncode == 1
    assert json.loads(unknown.stdout) == {"error": f"correlation id req_000000000000 not found in {folder} "
                                                   f"({len(log_files(folder))} files)", "status": 1}
    assert unknown.stderr == ""


def test_stats_on_files_without_records_is_not_found(tmp_path):
    """``st-logs stats /etc/passwd``: no records at all is not "no finished operations" (status 0)."""
    not_logs = tmp_path / "passwd.jsonl"
    not_logs.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n")
    for path in (not_logs, tmp_path):
        result = run_cli("stats", path)
        assert result.returncode == 1, result.stderr
        assert result.stdout == ""
        assert f"error: no log records in {path} (1 file, 2 lines that are not records)" in result.stderr
        as_json = run_cli("stats", path, "--json")
        assert as_json.returncode == 1
        assert json.loads(as_json.stdout) == {
            "error": f"no log records in {path} (1 file, 2 lines that are not records)", "status": 1}
    # Records, but no operation finished: an empty answer, status 0.
    plain = write_jsonl(tmp_path / "other" / "app.jsonl", [flat_record("2024-05-01T12:00:00.000Z", message="hi")])
    result = run_cli("stats", plain)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "no finished operations found\n")
    as_json = run_cli("stats", plain, "--json")
    assert (as_json.returncode, json.loads(as_json.stdout)) == (0, [])


def test_damage_is_reported_not_fatal(tmp_path):
    cid = "req_0123456789ab"
    good = [flat_record(f"2024-05-01T12:00:00.00{n}Z", correlation_id=cid, message=f"record {n}", operation="op",
                        event=event, operation_id="op_1", duration_ms=2.5 if event == "complete" else None)
            for n, event in enumerate(("start", None, "complete"))]
    lines = [json.dumps(r) for r in good]
    lines.insert(1, '{"timestamp": "2024-05-01T12:00:00.000Z", "level": "INFO", "correlation_id": "' + cid + '", "mess')
    path = tmp_path / "logs" / "app.1.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n" + '{"timestamp": "2024-05-01T12:00:01', encoding="utf-8")  # torn last line
    # A compressed file cut short: what could be read counts, the rest is reported.
    whole = gzip.compress(b"".join(json.dumps(flat_record("2024-05-01T11:00:00.000Z", message=f"old {n}")).encode()
                                   + b"\n" for n in range(50)))
    (tmp_path / "logs" / "app.0.jsonl.gz").write_bytes(whole[: len(whole) // 2])

    result = run_cli("trace", cid, tmp_path / "logs")
    assert result.returncode == 0
    assert all(f"record {n}" in result.stdout for n in range(3))
    assert "old " not in result.stdout
    warning = result.stderr.splitlines()
    assert len(warning) == 1, result.stderr
    assert warning[0].startswith("warning: "), result.stderr
    # 2 in app.1.jsonl (corrupt, torn), 1 torn line where the .gz was cut, and the cut itself.
    assert "skipped 3 damaged lines in 2 files" in warning[0]
    assert "app.1.jsonl: 2" in warning[0]
    assert "could not read" in warning[0]
    assert "app.0.jsonl.gz (stopped early" in warning[0]

    stats = run_cli("stats", path, "--json")
    assert stats.returncode == 0
    assert json.loads(stats.stdout)[0]["count"] == 1
    assert stats.stderr.strip() == f"warning: skipped 2 damaged lines in {path}"

    tail = run_cli("tail", path, "--once", "--json", "-n", 50)
    assert tail.returncode == 0
    assert len(tail.stdout.splitlines()) == 3
    # The unterminated last line of a followed file may still be being written: not damage yet.
    assert tail.stderr.strip() == f"warning: skipped 1 damaged line in {path}"


# --- progress bar and packaging ------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_after_a_delay():
    terminal = FakeTerminal()
    bar = Progress(4, "trace", stream=terminal, delay=0.0)
    bar.advance()
    bar.close()
    assert "trace [" in terminal.getvalue()
    assert "1/4 files" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r\x1b[K")  # cleared before the output is printed

    quick = FakeTerminal()
    bar = Progress(4, "trace", stream=quick, delay=60)
    bar.advance()
    bar.close()
    assert quick.getvalue() == ""

    piped = io.StringIO()
    bar = Progress(4, "trace", stream=piped, delay=0.0)
    bar.advance()
    bar.close()
    assert piped.getvalue() == ""


def test_console_script_declared():
    setup_cfg = (Path(__file__).resolve().parent.parent / "setup.cfg").read_text()
    assert "st-logs = streamlit_extension.logs.cli:main" in setup_cfg
    assert build_parser().prog == "st-logs"


def test_options_go_anywhere(app_logs):
    folder, ids = app_logs
    last = run_cli("trace", ids["failed"], folder, "--json")
    between = run_cli("trace", ids["failed"], "--json", folder)  # was: unrecognized arguments
    first = run_cli("trace", "--json", ids["failed"], folder)
    assert last.returncode == between.returncode == first.returncode == 0, between.stderr
    assert json.loads(last.stdout) == json.loads(between.stdout) == json.loads(first.stdout)
    session = json.loads(last.stdout)["header"]["session_id"]
    assert run_cli("session", session, "--json", folder).returncode == 0
    assert run_cli("stats", "--json", folder, folder).returncode == 0
    unknown = run_cli("trace", ids["failed"], "--jsn", folder)
    assert unknown.returncode == 2
    assert "unrecognized arguments: --jsn" in unknown.stderr


def test_tail_hides_web_server_lines_unless_asked(tmp_path):
    records = [
        flat_record("2024-05-01T12:00:00.000Z", message='[IP]:5 - "GET /static/js/app.js HTTP/1.1" 200',
                    logger="uvicorn.access"),
        flat_record("2024-05-01T12:00:00.100Z", message="created client ACME", logger="app",
                    correlation_id="req_000000000001"),
        flat_record("2024-05-01T12:00:00.200Z", message="Shutting down", logger="uvicorn.error"),
        flat_record("2024-05-01T12:00:00.300Z", message="uvicorn line inside a click", logger="uvicorn.error",
                    correlation_id="req_000000000001"),
    ]
    write_jsonl(tmp_path / "app.jsonl", records)
    assert tail_messages(tmp_path, "-n", 10) == ["created client ACME", "uvicorn line inside a click"]
    assert tail_messages(tmp_path, "-n", 10, "--server") == [r["message"] for r in records]


@pytest.mark.parametrize("module", ["streamlit_extension.logs", "streamlit_extension.logs.cli"])
def test_both_module_paths_run_the_cli(tmp_path, module):
    """``-m streamlit_extension.logs.cli`` worked before the CLI became a package; it still does."""
    ids = write_app_logs(tmp_path, "flat")
    done = subprocess.run([sys.executable, "-m", module, "trace", ids["other"], str(tmp_path), "--json"],
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    header = json.loads(done.stdout)["header"]
    assert (header["correlation_id"], header["session_id"]) == (ids["other"], "sess_b")


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to list a process's open files")
def test_tail_lets_go_of_a_deleted_file(tmp_path, start_tail):
    """Retention deletes an exited process's file: tail reads its rest and closes it, so the
    disk space is freed, and keeps following the others."""
    folder = tmp_path / "logs"
    folder.mkdir()
    old, live = folder / "app.host-1.jsonl", folder / "app.host-2.jsonl"
    write_jsonl(old, [flat_record("2030-01-01T00:00:00.000000Z", message="old process")])
    write_jsonl(live, [flat_record("2030-01-01T00:00:01.000000Z", message="live process")])
    follower = Follower(start_tail(folder, "-n", 5))
    try:
        follower.wait_for({"old process", "live process"})

        def open_files() -> list[str]:
            fds = Path(f"/proc/{follower.proc.pid}/fd")
            return [os.readlink(fd) for fd in fds.iterdir() if fds.is_dir()]

        wait_until(lambda: str(old) in open_files(), what="tail to hold the old file")
        with old.open("a") as handle:  # its last lines, then retention deletes it
            handle.write(json.dumps(flat_record("2030-01-01T00:00:02.000000Z", message="last words")) + "\n")
        old.unlink()
        wait_until(lambda: not any(path.startswith(str(old)) for path in open_files()),
                   what=f"tail to close the deleted file (open: {open_files()})")
        with live.open("a") as handle:
            handle.write(json.dumps(flat_record("2030-01-01T00:00:03.000000Z", message="still followed")) + "\n")
        follower.wait_for({"last words", "still followed"})
    finally:
        messages = follower.stop()
    assert collections.Counter(messages) == {"old process": 1, "live process": 1, "last words": 1,
                                             "still followed": 1}


# --- sql -----------------------------------------------------------------------------------

# The view's columns that ``read_records`` gives too (the flat fields, then the extras).
VIEW_FIELDS = (*FLAT_FIELDS, "operation_id", "parent_operation_id", "page")


def sql_rows(query: str, *paths: object) -> list[dict]:
    result = run_cli("sql", query, *paths, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def torn_line(folder: Path) -> Path:
    """A crash mid-write: half a record at the end of the live file."""
    live = next(p for p in log_files(folder) if p.suffix == ".jsonl")
    with live.open("a", encoding="utf-8") as handle:
        handle.write('{"timestamp": "2030-01-01T00:00:00.000000Z", "level": "INFO", "mess')
    return live


def test_sql_view_agrees_with_trace(app_logs):
    folder, ids = app_logs
    live = torn_line(folder)
    assert any(p.suffix == ".gz" for p in log_files(folder))

    result = run_cli("sql", "SELECT correlation_id, count(*) AS n FROM logs GROUP BY ALL ORDER BY n", folder, "--json")
    assert result.returncode == 0, result.stderr
    # The torn line is skipped and counted, as every command does.
    assert result.stderr.strip() == f"warning: skipped 1 damaged line in {live}"
    counts = {row["correlation_id"]: row["n"] for row in json.loads(result.stdout)}
    for cid in ids.values():
        trace = json.loads(run_cli("trace", cid, folder, "--json").stdout)
        assert counts[cid] == len(trace["records"]) == trace["header"]["records"]

    # Every field of every record of the failed interaction, as the reader gives it.
    cid = ids["failed"]
    trace = json.loads(run_cli("trace", cid, folder, "--json").stdout)["records"]
    rows = sql_rows(f"SELECT * FROM logs WHERE correlation_id = '{cid}' ORDER BY timestamp", folder)
    assert [{name: row[name] for name in VIEW_FIELDS} for row in rows] == [
        {name: record.get(name) for name in VIEW_FIELDS} for record in trace]
    failed = next(row for row in rows if row["operation"] == "db_write" and row["event"] == "failed")
    assert failed["level"] == "ERROR"
    assert isinstance(failed["duration_ms"], float)
    assert failed["success"] is False
    assert failed["error"]["message"] == "disk on fire"
    assert "Traceback (most recent call last)" in failed["error"]["traceback"]
    assert failed["file"].endswith((".jsonl", ".jsonl.gz"))
    assert any(row["message"] == EVIL for row in rows)

    # The same durations and levels as stats reads.
    stats = {row["operation"]: row for row in json.loads(run_cli("stats", folder, "--json").stdout)}
    ours = {row["operation"]: row for row in sql_rows(
        "SELECT operation, count(*) AS n, max(duration_ms) AS slowest, count(*) FILTER (level = 'ERROR') AS errors "
        "FROM logs WHERE event IN ('complete', 'failed') GROUP BY ALL", folder)}
    assert {op: row["n"] for op, row in ours.items()} == {op: row["count"] for op, row in stats.items()}
    assert {op: row["errors"] for op, row in ours.items()} == {op: row["errors"] for op, row in stats.items()}
    assert ours.keys() == stats.keys()
    for op, row in stats.items():  # few samples: p99 is the slowest, exact or within the sketch's error
        error = RELATIVE_ERROR * ours[op]["slowest"] * (1 + 1e-9) if row["approximate"] else 0.0
        assert abs(ours[op]["slowest"] - row["p99"]) <= error, (op, row)

    # ``lines``: every line as written, and each record's own fields whatever the format.
    [line_counts] = sql_rows(f"SELECT count(*) AS all_lines, count(json) AS parsed, "
                             f"count(*) FILTER (fields->>'correlation_id' = '{cid}') AS of_cid FROM lines", folder)
    total = sum(len(read_any(p).splitlines()) for p in log_files(folder))
    assert line_counts == {"all_lines": total, "parsed": total - 1, "of_cid": len(trace)}


def test_sql_over_both_formats_at_once(tmp_path):
    """One folder, one file that holds both formats (the app restarted with another LOG_FORMAT)."""
    folder = tmp_path / "logs"
    flat_ids = write_app_logs(folder, "flat", rotation=None)
    loguru_ids = write_app_logs(folder, "loguru", rotation=None)
    [mixed] = log_files(folder)
    assert '"timestamp":"' in read_any(mixed)
    assert '"record":' in read_any(mixed)

    rows = sql_rows("SELECT correlation_id, count(*) AS n, min(page) AS page FROM logs "
                    "WHERE correlation_id IS NOT NULL GROUP BY ALL", folder)
    by_id = {row["correlation_id"]: row for row in rows}
    assert set(by_id) == set(flat_ids.values()) | set(loguru_ids.values())
    for cid in (flat_ids["other"], loguru_ids["other"]):
        trace = json.loads(run_cli("trace", cid, folder, "--json").stdout)
        assert by_id[cid]["n"] == len(trace["records"])
        assert by_id[cid]["page"] == "Projects"


def test_sql_output(tmp_path):
    records = [flat_record("2024-05-01T12:00:00.000001Z", message=EVIL, correlation_id="req_000000000001",
                           operation="save", event="complete", duration_ms=12.5, success=True,
                           metadata={"client_key": "ACME"}),
               flat_record("2024-05-01T13:30:00.000000Z", level="ERROR", message="boom", operation="save",
                           event="failed", duration_ms=3.0, error={"type": "OSError", "message": "disk"})]
    write_jsonl(tmp_path / "app.jsonl", records)

    rows = sql_rows("SELECT timestamp, level, message, duration_ms, success, metadata, error, "
                    "date_trunc('hour', timestamp) AS hour FROM logs ORDER BY timestamp", tmp_path)
    assert rows == [
        {"timestamp": "2024-05-01T12:00:00.000001Z", "level": "INFO", "message": EVIL, "duration_ms": 12.5,
         "success": True, "metadata": {"client_key": "ACME"}, "error": None, "hour": "2024-05-01T12:00:00.000000Z"},
        {"timestamp": "2024-05-01T13:30:00.000000Z", "level": "ERROR", "message": "boom", "duration_ms": 3.0,
         "success": None, "metadata": None, "error": {"type": "OSError", "message": "disk"},
         "hour": "2024-05-01T13:00:00.000000Z"}]
    # Options anywhere; no row is an empty list; values JSON has no literal for are strings.
    assert json.loads(run_cli("sql", "--json", "SELECT * FROM logs WHERE false", tmp_path).stdout) == []
    assert sql_rows("SELECT 'nan'::DOUBLE AS x, 1.50::DECIMAL(4, 2) AS d, 1 AS a, 2 AS a", tmp_path) == [
        {"x": "NaN", "d": 1.5, "a": 1, "a_2": 2}]

    table = run_cli("sql", "SELECT level, message, duration_ms, metadata, error FROM logs ORDER BY timestamp",
                    tmp_path)
    assert table.returncode == 0, table.stderr
    assert table.stderr == ""
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["level", "message", "duration_ms", "metadata", "error"]
    assert lines[1].startswith("INFO   saving \\x1b[2J client\\nFORGED line")  # escaped, on its line
    assert "\x1b" not in table.stdout
    assert lines[1].endswith('12.5  {"client_key":"ACME"}  -')  # numbers right-aligned, NULL as -
    assert lines[2].split()[:3] == ["ERROR", "boom", "3.0"]
    assert lines[3] == "(2 rows)"


def test_sql_errors_and_the_sandbox(tmp_path):
    write_jsonl(tmp_path / "logs" / "app.jsonl", [flat_record("2024-05-01T12:00:00.000000Z", message="hi")])
    folder = tmp_path / "logs"
    secret = tmp_path / "secret.jsonl"
    write_jsonl(secret, [flat_record("2024-05-01T12:00:00.000000Z", message="not yours")])
    written = tmp_path / "out.csv"
    for query, words in [("SELECT nope FROM logs", "nope"),
                         ("SELEKT 1", "syntax error"),
                         (f"SELECT * FROM read_json('{secret}')", "Permission"),  # only PATH's files
                         (f"COPY (SELECT * FROM logs) TO '{written}'", "Permission"),  # writes nowhere
                         ("SET enable_external_access = true", "locked"),  # and can't undo that
                         ("INSTALL httpfs", "Permission"),
                         ("   ", "empty")]:
        result = run_cli("sql", query, folder)
        assert result.returncode == 2, (query, result.stdout)
        assert result.stderr.startswith("error: "), result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert words in result.stderr, (query, result.stderr)
        assert result.stdout == ""
    assert not written.exists()
    assert sql_rows("SELECT message FROM logs", folder) == [{"message": "hi"}]


def test_sql_reads_exactly_the_listed_files(tmp_path):
    # DuckDB globs file names: ``app[1].jsonl`` must not read ``app1.jsonl``, nor ``*`` everything.
    for name in ("app[1].jsonl", "app1.jsonl", "app*.jsonl"):
        write_jsonl(tmp_path / name, [flat_record("2024-05-01T12:00:00.000000Z", message=name)])
    assert sorted(r["message"] for r in sql_rows("SELECT message FROM logs", tmp_path)) == [
        "app*.jsonl", "app1.jsonl", "app[1].jsonl"]
    assert sql_rows("SELECT message FROM logs", tmp_path / "app[1].jsonl") == [{"message": "app[1].jsonl"}]
    assert sql_rows("SELECT message FROM logs", tmp_path / "app*.jsonl") == [{"message": "app*.jsonl"}]
    # Mid-compression both x.jsonl and x.jsonl.gz exist: read once, as the other commands do.
    (tmp_path / "app1.jsonl.gz").write_bytes(gzip.compress((tmp_path / "app1.jsonl").read_bytes()))
    assert len(sql_rows("SELECT message FROM logs WHERE message = 'app1.jsonl'", tmp_path)) == 1


def test_sql_leaves_out_a_damaged_archive(tmp_path):
    import duckdb  # the test extra installs it
    write_jsonl(tmp_path / "app.jsonl", [flat_record("2024-05-01T12:00:00.000000Z", message="live")])
    whole = gzip.compress(b"".join(json.dumps(flat_record("2024-05-01T11:00:00.000Z", message=f"old {n}")).encode()
                                   + b"\n" for n in range(50)))
    cut = tmp_path / "app.0.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    result = run_cli("sql", "SELECT message FROM logs", tmp_path, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"message": "live"}]
    if int(duckdb.__version__.split(".")[0]) >= 2:  # before 2.0 DuckDB read a cut archive as empty, silently
        assert result.stderr.startswith(f"warning: could not read {cut} (left out: "), result.stderr


def test_sql_without_duckdb(tmp_path):
    """Without the extra: one line saying how to install it; every other command still works."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "duckdb.py").write_text("raise ImportError('DuckDB is not installed here')\n")
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(blocker), os.environ.get("PYTHONPATH")]))}
    write_jsonl(tmp_path / "logs" / "app.jsonl", [flat_record("2024-05-01T12:00:00.000000Z", message="hi")])

    result = run_cli("sql", "SELECT 1", tmp_path / "logs", extra_env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: st-logs sql needs DuckDB: pip install 'duckdb>=1.4' "
        "(in a clone of the repository: pip install -e '.[sql]')"]
    assert run_cli("stats", tmp_path / "logs", extra_env=env).returncode == 0
    assert run_cli("sql", "--help", extra_env=env).returncode == 0


def test_sql_is_an_extra_not_a_dependency():
    setup_cfg = (Path(__file__).resolve().parent.parent / "setup.cfg").read_text()
    requires = setup_cfg.split("install_requires =")[1].split("\n[")[0]
    assert "duckdb" not in requires
    assert re.search(r"^sql =\n    duckdb>=", setup_cfg, re.M)
