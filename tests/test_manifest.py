"""Archive manifests: ``st-logs stats`` answers from them and reads only what has none, and
whatever their state (missing, damaged, of another version, of another archive, left half-written
by a killed process, not a regular file) the answer is the one an exact scan gives: counts
exactly, percentiles within the sketch's stated error."""

from __future__ import annotations

import gzip
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from loguru import logger

from streamlit_extension import correlation_scope, setup_logging
from streamlit_extension.logs import operation_stats, read_records
from streamlit_extension.logs.reader import find_log_files
from streamlit_extension.logs.summary import TimeRange, digest, plan
from streamlit_extension.sinks.manifest import load_interactions, load_manifest, sidecar_path
from streamlit_extension.sinks.sketch import RELATIVE_ERROR

FORMATS = ("flat", "loguru")


def write_logs(folder: Path, json_format: str, interactions: int = 900, seed: int = 1, **options) -> None:
    """Real logs written by the library: operations with lognormal durations, ~2 % failures (some
    expected), nested under a run, plus plain and error records; small rotation, gz archives."""
    rng = random.Random(seed)
    handle = setup_logging(log_path=str(folder / "app.jsonl"), json_format=json_format, console=False,
                           intercept_stdlib=False, rotation="48 KB", compression="gz", **options)
    for i in range(interactions):
        with correlation_scope(f"req_{seed}_{i:06d}"):
            bound = logger.bind(session_id=f"sess_{i % 13}", user_id=f"user_{i % 7}", page="Clients")
            for op in ("load_clients", "save_client")[: 1 + i % 2]:
                ms = round(math.exp(rng.gauss(1.5, 1.2)), 3)
                roll = rng.random()
                if roll < 0.01:
                    end = {"event": "failed", "error": {"type": "OSError", "message": "disk", "traceback": "Tb"}}
                elif roll < 0.02:
                    end = {"event": "failed", "error": {"type": "ValidationError", "message": "typo",
                                                        "traceback": None, "expected": True}}
                else:
                    end = {"event": "complete"}
                bound.bind(operation=op, event="start").info(f"{op} started")
                bound.bind(operation=op, duration_ms=ms, **end).log("WARNING" if "error" in end else "INFO",
                                                                     f"{op} ended")
            bound.bind(operation="script_run", event="complete", duration_ms=5.0).info("run ended")
            if i % 50 == 0:
                bound.error("something odd")
    handle.close()


def exact(folder: Path) -> dict[str, tuple]:
    return {s.operation: s for s in operation_stats(read_records([folder]))}


def st_logs(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "streamlit_extension.logs", *map(str, args)], capture_output=True,
                          text=True, timeout=120)


def assert_stats_agree(folder: Path) -> list[dict]:
    """``st-logs stats --json`` against an exact scan of every record."""
    done = st_logs("stats", folder, "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    truth = exact(folder)
    assert [row["operation"] for row in rows] == sorted(truth)
    for row in rows:
        want = truth[row["operation"]]
        assert (row["count"], row["errors"], row["expected"]) == (want.count, want.errors, want.expected)
        for q in ("p50", "p95", "p99"):
            if row["approximate"]:
                assert abs(row[q] - getattr(want, q)) <= RELATIVE_ERROR * getattr(want, q) * (1 + 1e-9), (row, q)
            else:
                assert row[q] == getattr(want, q), (row, q)
    return rows


def archives(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.jsonl.gz"))


@pytest.mark.parametrize("json_format", FORMATS)
def test_stats_from_manifests_agree_with_an_exact_scan(tmp_path, json_format):
    write_logs(tmp_path, json_format)
    gz = archives(tmp_path)
    assert len(gz) >= 5
    assert all(load_manifest(path) is not None for path in gz)  # the compressor wrote one for each
    chosen = plan(find_log_files([tmp_path]))
    assert len(chosen.manifests) == len(gz)
    assert chosen.to_read == [tmp_path / "app.jsonl"]  # only the live file is read
    rows = assert_stats_agree(tmp_path)
    assert all(row["approximate"] for row in rows)
    assert "~" in st_logs("stats", tmp_path).stdout  # and the table says so


@pytest.mark.parametrize("json_format", FORMATS)
def test_a_manifest_in_any_bad_state_means_that_archive_is_read(tmp_path, json_format):
    write_logs(tmp_path, json_format)
    gz = archives(tmp_path)
    other = gz[0]
    damage = {
        "missing": lambda m: m.unlink(),
        "truncated": lambda m: m.write_bytes(m.read_bytes()[: len(m.read_bytes()) // 2]),
        "garbage": lambda m: m.write_bytes(b"not gzip at all"),
        "empty": lambda m: m.write_bytes(b""),
        "another version": lambda m: m.write_bytes(gzip.compress(
            json.dumps({**json.loads(gzip.decompress(m.read_bytes()).split(b"\n")[0]), "version": 99}).encode()
            + b"\n[]\n")),
        "another archive's": lambda m: shutil.copyfile(sidecar_path(other), m),
        "a directory": lambda m: (m.unlink(), m.mkdir()),
        "a FIFO": lambda m: (m.unlink(), os.mkfifo(m)),
        "wrong types": lambda m: m.write_bytes(gzip.compress(
            json.dumps({**json.loads(gzip.decompress(m.read_bytes()).split(b"\n")[0]), "records": "many"}).encode()
            + b"\n[]\n")),
    }
    spoilt = {}
    for archive, (kind, spoil) in zip(gz[1:], damage.items(), strict=False):
        spoil(sidecar_path(archive))
        spoilt[archive] = kind
    chosen = plan(find_log_files([tmp_path]))
    assert {path for path in chosen.to_read if path in spoilt} == set(spoilt), chosen.to_read
    assert_stats_agree(tmp_path)
    # st-logs index writes what is missing or unusable (a directory in the way is named, exit 2).
    done = st_logs("index", tmp_path, "--json")
    summary = json.loads(done.stdout)
    assert summary["manifests"] == len(spoilt) - 1, summary
    assert [Path(e["archive"]).name for e in summary["errors"]] == [
        archive.name for archive, kind in spoilt.items() if kind == "a directory"]
    assert len(plan(find_log_files([tmp_path])).to_read) == 2  # the live file and the one with a directory
    assert_stats_agree(tmp_path)


@pytest.mark.parametrize("moment", ["mid-manifest", "before-manifest"])
def test_a_writer_killed_while_writing_a_manifest_loses_nothing(tmp_path, moment):
    """The process is killed while the compressor writes the manifest: the archive is read instead,
    the next start cleans the temporary, and st-logs index writes the manifest."""
    script = textwrap.dedent(f"""
        import os, signal, sys, time
        from loguru import logger
        import streamlit_extension.sinks.manifest as manifest
        from streamlit_extension import setup_logging
        original = manifest.write_manifest
        def killed(archive, *args):
            if {moment!r} == "mid-manifest":
                with open(str(manifest.sidecar_path(archive)) + ".tmp", "wb") as half:
                    half.write(b"\\x1f\\x8b half")
            os.kill(os.getpid(), signal.SIGKILL)
        manifest.write_manifest = killed
        setup_logging(log_path=sys.argv[1], console=False, rotation="8 KB", compression="gz")
        for i in range(1000):
            logger.bind(operation="op", event="complete", duration_ms=float(i % 97) + 0.5).info("record {{}}", i)
        time.sleep(30)
    """)
    path = tmp_path / "app.jsonl"
    proc = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, timeout=60,
                          env={**os.environ, "LOG_PER_PROCESS": "0"})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert not list(tmp_path.glob("*.manifest"))
    assert_stats_agree(tmp_path)
    setup_logging(log_path=str(path), console=False, rotation="8 KB", compression="gz").close()  # the next start
    assert not list(tmp_path.glob("*.tmp"))
    assert all(load_manifest(archive) is not None for archive in archives(tmp_path))
    rows = assert_stats_agree(tmp_path)
    assert rows[0]["count"] > 0


def test_records_only_in_the_live_file_are_exact(tmp_path):
    handle = setup_logging(log_path=str(tmp_path / "app.jsonl"), console=False, rotation=None)
    for ms in (3.0, 1.0, 2.0):
        logger.bind(operation="op", event="complete", duration_ms=ms).info("done")
    handle.close()
    (row,) = assert_stats_agree(tmp_path)
    assert (row["count"], row["p50"], row["approximate"]) == (3, 2.0, False)


def test_a_folder_of_several_replicas_is_counted_whole(tmp_path):
    script = textwrap.dedent("""
        import sys
        from pathlib import Path
        from tests.test_manifest import write_logs
        write_logs(Path(sys.argv[1]), sys.argv[2], interactions=400, seed=int(sys.argv[3]), per_process=True)
    """)
    for seed, json_format in ((2, "flat"), (3, "loguru")):  # two replicas, two formats, one folder
        subprocess.run([sys.executable, "-c", script, str(tmp_path), json_format, str(seed)], check=True,
                       timeout=120, cwd=Path(__file__).parent.parent)
    families = {path.name.split(".")[1] for path in archives(tmp_path)}
    assert len(families) == 2  # app.<host>-<pid>.<date>.jsonl.gz: one family per process
    rows = assert_stats_agree(tmp_path)
    assert {row["operation"] for row in rows} == {"load_clients", "save_client", "script_run"}


def test_a_time_range_uses_the_recorded_span_not_the_file_date(tmp_path):
    """An archive restored with an old mtime still answers for the time its records hold, and an
    archive the range cuts is read, record by record."""
    write_logs(tmp_path, "flat", interactions=600)
    gz = archives(tmp_path)
    for archive in gz:
        os.utime(archive, (time.time() - 3 * 365 * 86400,) * 2)  # restored from a backup
    records = list(read_records([tmp_path]))
    middle = records[len(records) // 2]["timestamp"]
    span = TimeRange(since=middle)
    found = digest(find_log_files([tmp_path]), span)
    truth = {s.operation: s.count for s in operation_stats(r for r in records if r["timestamp"] >= middle)}
    assert {name: tally.count for name, tally in found.total.operations.items()} == truth
    assert found.from_manifests >= 1
    assert found.outside >= 1
    assert found.total.records == sum(1 for r in records if r["timestamp"] >= middle)


def test_the_manifest_holds_what_the_explorer_lists(tmp_path):
    write_logs(tmp_path, "loguru", interactions=300)
    archive = archives(tmp_path)[1]
    manifest = load_manifest(archive)
    summaries = load_interactions(archive)
    mine = [r for r in read_records([archive])]
    assert manifest.records == len(mine)
    assert (manifest.first, manifest.last) == (mine[0]["timestamp"], mine[-1]["timestamp"])
    assert manifest.error_records == sum(1 for r in mine if isinstance(r.get("error"), dict))
    by_cid = {s.correlation_id: s for s in summaries}
    assert set(by_cid) == {r["correlation_id"] for r in mine}
    some = next(s for s in summaries if s.records > 3)
    own = [r for r in mine if r["correlation_id"] == some.correlation_id]
    assert (some.session_id, some.user_id, some.page, some.records) == (
        own[0]["session_id"], own[0]["user_id"], "Clients", len(own))
