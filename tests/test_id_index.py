"""Archive id indexes: ``trace``/``session`` skip archives that can't hold the id, and whatever
the state of the indexes (missing, corrupt, stale, left by a killed process) the result is
exactly what a full scan finds."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loguru import logger

from streamlit_extension import correlation_scope, setup_logging
from streamlit_extension.logs import ReadStats, read_records
from streamlit_extension.logs.reader import find_log_files, records_with_id
from streamlit_extension.sinks.id_index import BloomFilter, IdCollector, load_index, sidecar_path

FIELDS = ("correlation_id", "session_id", "user_id")


def write_logs(folder: Path, interactions: int, **options) -> None:
    """Real logs: the default format, small rotation, gz archives (and their indexes)."""
    handle = setup_logging(log_path=str(folder / "app.jsonl"), console=False, intercept_stdlib=False,
                           rotation="40 KB", compression="gz", **options)
    for i in range(interactions):
        with correlation_scope(f"req_{i:08d}"):
            bound = logger.bind(session_id=f"sess_{i % 11}", user_id=f"user_{i % 5}")
            bound.info("first of {}", i)
            bound.bind(rows=i).info("second of {}", i)
    handle.close()


def full_scan(folder: Path) -> dict[tuple[str, str], list[dict]]:
    """Every (field, id) -> its records, from one plain read of everything (no index)."""
    found: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for record in read_records([folder]):
        for field in FIELDS:
            if record.get(field) is not None:
                found[(field, record[field])].append(record)
    return found


def lookup(folder: Path, field: str, value: str, stats: ReadStats | None = None) -> list[dict]:
    return records_with_id(find_log_files([folder]), field, value, stats=stats)


def assert_same_as_scan(folder: Path, sample_every: int = 1) -> None:
    expected = full_scan(folder)
    assert expected
    for at, ((field, value), records) in enumerate(sorted(expected.items())):
        if at % sample_every == 0 or field != "correlation_id":
            assert lookup(folder, field, value) == records, (field, value)


def archives(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.jsonl.gz"))


def test_index_rules_out_archives_and_finds_everything(tmp_path):
    write_logs(tmp_path, 1500)
    gz = archives(tmp_path)
    assert len(gz) >= 5
    assert all(sidecar_path(path).is_file() for path in gz)
    stats = ReadStats()
    records = lookup(tmp_path, "correlation_id", "req_00000700", stats)
    assert [r["message"] for r in records] == ["first of 700", "second of 700"]
    # One archive (or two, if the id straddles a rotation) plus the live file are opened.
    assert stats.ruled_out >= len(gz) - 2
    assert stats.files <= 3
    assert_same_as_scan(tmp_path, sample_every=37)


def test_cli_trace_and_session_use_the_index(tmp_path):
    write_logs(tmp_path, 600)
    trace = subprocess.run([sys.executable, "-m", "streamlit_extension.logs", "trace", "req_00000123", str(tmp_path),
                            "--json"], capture_output=True, text=True, timeout=60)
    assert trace.returncode == 0, trace.stderr
    assert [r["message"] for r in json.loads(trace.stdout)["records"]] == ["first of 123", "second of 123"]
    session = subprocess.run([sys.executable, "-m", "streamlit_extension.logs", "session", "sess_3", str(tmp_path),
                              "--json"], capture_output=True, text=True, timeout=60)
    assert session.returncode == 0, session.stderr
    assert len(json.loads(session.stdout)) == len([i for i in range(600) if i % 11 == 3])


def test_archives_without_an_index_are_scanned(tmp_path):
    write_logs(tmp_path, 800)
    for path in archives(tmp_path):  # logs from before indexes existed
        sidecar_path(path).unlink()
    stats = ReadStats()
    assert len(lookup(tmp_path, "correlation_id", "req_00000010", stats)) == 2
    assert stats.ruled_out == 0
    assert stats.files == len(find_log_files([tmp_path]))
    assert_same_as_scan(tmp_path, sample_every=23)


@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated bits", "wrong version", "huge numbers",
                                    "directory"])
def test_a_corrupt_index_is_ignored(tmp_path, damage):
    write_logs(tmp_path, 800)
    for path in archives(tmp_path):
        index = sidecar_path(path)
        header, bits = index.read_bytes().split(b"\n")[:2]
        meta = json.loads(header)
        if damage == "garbage":
            index.write_bytes(os.urandom(300))
        elif damage == "empty":
            index.write_bytes(b"")
        elif damage == "truncated bits":
            index.write_bytes(header + b"\n" + bits[: len(bits) // 2])
        elif damage == "wrong version":
            index.write_bytes(json.dumps({**meta, "version": 99}).encode() + b"\n" + bits)
        elif damage == "huge numbers":
            index.write_bytes(json.dumps({**meta, "bits": 10**30, "hashes": -1}).encode() + b"\n" + bits)
        else:
            index.unlink()
            index.mkdir()
    assert_same_as_scan(tmp_path, sample_every=29)


def test_an_index_of_another_archive_is_ignored(tmp_path):
    """An archive replaced or cut short after its index was written (the size no longer matches)."""
    write_logs(tmp_path, 800)
    first, second = archives(tmp_path)[:2]
    sidecar_path(first).write_bytes(sidecar_path(second).read_bytes())  # a stale index
    data = second.read_bytes()
    second.write_bytes(data[: len(data) * 2 // 3])  # cut short: the readable part must still count
    assert load_index(first) is None
    assert load_index(second) is None
    assert_same_as_scan(tmp_path, sample_every=19)


def test_an_id_only_in_the_live_file(tmp_path):
    write_logs(tmp_path, 800)
    handle = setup_logging(log_path=str(tmp_path / "app.jsonl"), console=False, intercept_stdlib=False,
                           rotation="40 KB", compression="gz")
    with correlation_scope("req_live_only_1"):
        logger.bind(session_id="sess_live", user_id="user_live").info("not archived yet")
    handle.close()
    stats = ReadStats()
    records = lookup(tmp_path, "correlation_id", "req_live_only_1", stats)
    assert [r["message"] for r in records] == ["not archived yet"]
    assert stats.ruled_out == len(archives(tmp_path))  # every archive ruled out, the live file read
    assert [r["message"] for r in lookup(tmp_path, "user_id", "user_live")] == ["not archived yet"]


def test_retention_removes_an_archives_index_with_it(tmp_path):
    write_logs(tmp_path, 1500, retention=2)
    gz = archives(tmp_path)
    assert len(gz) == 2
    assert sorted(tmp_path.glob("*.idx")) == [sidecar_path(path) for path in gz]


# A writer killed at each step of compressing a rotated file. The child patches the step to
# announce itself and hang, so the kill lands exactly there.
KILLED_WRITER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from loguru import logger
    from streamlit_extension import correlation_scope, setup_logging
    from streamlit_extension.sinks import compression, id_index

    folder, stage = Path(sys.argv[1]), sys.argv[2]
    marker = folder.parent / "stage-reached"

    def hang():
        marker.write_text(stage)
        while True:
            time.sleep(1)

    if stage == "mid-gzip":  # part of the archive written under its .tmp name
        real_feed = compression.IdCollector.feed
        def feed(self, chunk):
            real_feed(self, chunk)
            hang()
        compression.IdCollector.feed = feed
    elif stage == "before-index":  # archive complete and renamed, no index yet, plain file still there
        compression.write_index = lambda archive, ids: hang()
    elif stage == "mid-index":  # the index half written under its .tmp name
        real_replace = id_index.os.replace
        def replace(source, target):
            if str(target).endswith(id_index.SUFFIX):
                Path(source).write_bytes(Path(source).read_bytes()[:40])
                hang()
            real_replace(source, target)
        id_index.os.replace = replace
    elif stage == "before-removal":  # archive and index complete, the plain file not yet removed
        real_remove = compression.os.remove
        def remove(path):
            if str(path).endswith(".jsonl"):
                hang()
            real_remove(path)
        compression.os.remove = remove

    setup_logging(log_path=str(folder / "app.jsonl"), console=False, intercept_stdlib=False,
                  rotation="40 KB", compression="gz")
    i = 0
    while True:  # until killed; every record flushed as it is written
        with correlation_scope(f"req_{i:08d}"):
            logger.bind(session_id=f"sess_{i % 11}", user_id=f"user_{i % 5}").info("record {}", i)
        i += 1
        if i % 200 == 0:
            time.sleep(0.01)
""")


@pytest.mark.parametrize("stage", ["mid-gzip", "before-index", "mid-index", "before-removal"])
def test_a_writer_killed_mid_compression_loses_nothing_to_the_index(tmp_path, stage):
    folder = tmp_path / "logs"
    folder.mkdir()
    write_logs(folder, 700)  # earlier, complete archives with indexes
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOG_")}
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(folder), stage], env=env)
    marker = tmp_path / "stage-reached"
    deadline = time.monotonic() + 60
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), f"the writer never reached {stage} (exit {child.poll()})"
    time.sleep(0.3)  # more records after the rotation, in the new live file
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert_same_as_scan(folder, sample_every=13)
    # The next start cleans up what the killed one left, and still nothing is lost.
    handle = setup_logging(log_path=str(folder / "app.jsonl"), console=False, intercept_stdlib=False,
                           rotation="40 KB", compression="gz")
    handle.close()
    assert not list(folder.glob("*.tmp"))
    assert_same_as_scan(folder, sample_every=13)


@settings(max_examples=40, deadline=None)
@given(st.sets(st.text(min_size=1, max_size=40), min_size=1, max_size=300),
       st.integers(min_value=1, max_value=4096))
def test_ids_collected_from_json_lines_are_always_in_the_filter(ids, chunk):
    """No false "no", whatever the id's characters (escapes, non-ASCII) or the chunk boundaries."""
    ids = sorted(ids)
    lines = b"".join(json.dumps({"record": {"extra": {"correlation_id": value}}}, ensure_ascii=ascii_).encode() + b"\n"
                     for value, ascii_ in zip(ids, itertools.cycle((True, False))))
    collector = IdCollector()
    for at in range(0, len(lines), chunk):
        collector.feed(lines[at: at + chunk])
    assert collector.finish() == set(ids)
    bloom = BloomFilter.sized_for(len(ids))
    for value in ids:
        bloom.add(value)
    assert all(value in bloom for value in ids)


def test_the_collector_gives_up_past_its_limit():
    """Memory stays bounded; the archive then has no index and is scanned (tested above)."""
    collector = IdCollector(limit=50)
    collector.feed(b"".join(b'{"correlation_id": "req_%08d"}\n' % i for i in range(60)))
    assert collector.finish() is None
    assert not collector.ids
    small = IdCollector(limit=50)
    small.feed(b'{"correlation_id": "req_1"}\n')
    assert small.finish() == {"req_1"}


def test_the_filter_rules_out_absent_ids_at_its_rate():
    """Every id gets ``hashes`` spread positions. Plain double hashing collapsed them to one for
    the id whose step is a multiple of ``bits`` (``req_00000700`` at 647 bits): a filter that
    half full then said "maybe" to it in every archive."""
    present = [f"req_{i:08d}" for i in range(45)]
    bloom = BloomFilter.sized_for(len(present))
    assert (bloom.bits, bloom.hashes) == (647, 10)
    for value in present:
        bloom.add(value)
    assert "req_00000700" not in bloom
    absent = [f"other_{i}" for i in range(20_000)]
    false_positives = sum(value in bloom for value in absent)
    assert false_positives <= 3 * 0.001 * len(absent)  # sized for 0.1 %


def test_an_index_of_the_first_version_is_ignored(tmp_path):
    """Version-1 filters put ids elsewhere: read as version 2 they could say "no" wrongly."""
    write_logs(tmp_path, 300)
    for archive in archives(tmp_path):
        index = sidecar_path(archive)
        header, _, bits = index.read_bytes().partition(b"\n")
        index.write_bytes(json.dumps({**json.loads(header), "version": 1}).encode() + b"\n" + bits)
        assert load_index(archive) is None
    assert_same_as_scan(tmp_path, sample_every=7)


def st_logs_index(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "streamlit_extension.logs", "index", str(folder), "--json"],
                          capture_output=True, text=True, timeout=120)


def test_st_logs_index_writes_what_old_archives_lack(tmp_path):
    """After an upgrade: archives from before indexes, and version-1 indexes, get a usable one."""
    write_logs(tmp_path, 1500)
    gz = archives(tmp_path)
    for at, archive in enumerate(gz):
        index = sidecar_path(archive)
        if at % 3 == 0:
            index.unlink()
        elif at % 3 == 1:
            header, _, bits = index.read_bytes().partition(b"\n")
            index.write_bytes(json.dumps({**json.loads(header), "version": 1}).encode() + b"\n" + bits)
    stale = sum(1 for at in range(len(gz)) if at % 3 != 2)
    done = st_logs_index(tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"archives": len(gz), "indexed": stale, "had_index": len(gz) - stale,
                                       "too_many_ids": 0, "manifests": 0, "had_manifest": len(gz), "errors": [],
                                       "not_files": []}
    assert all(load_index(archive) is not None for archive in gz)
    stats = ReadStats()
    assert [r["message"] for r in lookup(tmp_path, "correlation_id", "req_00000700", stats)] == [
        "first of 700", "second of 700"]
    assert stats.ruled_out >= len(gz) - 2
    assert_same_as_scan(tmp_path, sample_every=37)
    again = st_logs_index(tmp_path)  # nothing left to do
    assert json.loads(again.stdout)["indexed"] == 0


def test_st_logs_index_names_an_unreadable_archive_and_indexes_the_rest(tmp_path):
    write_logs(tmp_path, 600)
    gz = archives(tmp_path)
    for archive in gz:
        sidecar_path(archive).unlink()
    broken = gz[1]
    broken.write_bytes(broken.read_bytes()[: broken.stat().st_size // 2])  # cut mid-stream
    done = st_logs_index(tmp_path)
    assert done.returncode == 2
    summary = json.loads(done.stdout)
    assert summary["indexed"] == len(gz) - 1
    assert [error["archive"] for error in summary["errors"]] == [str(broken)]
    assert load_index(broken) is None  # no index for what couldn't be read whole: it is scanned
    text = subprocess.run([sys.executable, "-m", "streamlit_extension.logs", "index", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert text.returncode == 2
    assert text.stdout.startswith("0 archives indexed, ")
    assert str(broken) in text.stderr
