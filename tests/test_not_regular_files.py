"""Entries named like logs, archives or indexes that are not regular files: FIFOs, sockets,
devices, directories and symlink loops.

No reader or housekeeper may block on one or follow one: ``st-logs`` (trace, session, stats, tail,
index), ``read_records``, retention, the start-up cleanup and the compressor treat each as "not a
log file", skip it and say so. Everything runs in a subprocess with a timeout, so a regression
shows as a failure, not as a hung suite.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .test_id_index import archives

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and AF_UNIX sockets are POSIX")

TIMEOUT = 60  # seconds; every command here finishes in about one


def _plant(folder: Path) -> dict[str, str]:
    """Hostile entries next to real logs; name -> what it is. Also turns one archive's index into a FIFO."""
    planted = {}
    index = Path(f"{archives(folder)[len(archives(folder)) // 2]}.idx")
    index.unlink()
    os.mkfifo(index)
    planted[index.name] = "a FIFO"
    os.mkfifo(folder / "fifo.jsonl")
    planted["fifo.jsonl"] = "a FIFO"
    os.mkfifo(folder / "fifo.jsonl.gz")
    planted["fifo.jsonl.gz"] = "a FIFO"
    (folder / "dir.jsonl").mkdir()
    planted["dir.jsonl"] = "a directory"
    (folder / "loop.jsonl").symlink_to("loop.jsonl")
    planted["loop.jsonl"] = "a symlink loop"
    if os.path.exists("/dev/zero"):  # endless if read: a device must never be opened
        (folder / "zero.jsonl.gz").symlink_to("/dev/zero")
        planted["zero.jsonl.gz"] = "a device"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(folder / "sock.jsonl"))
        planted["sock.jsonl"] = "a socket"
    except OSError:  # a path too long for AF_UNIX: the other kinds still count
        pass
    finally:
        server.close()
    return planted


def _st_logs(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "streamlit_extension.logs", *args], capture_output=True, text=True,
                          timeout=TIMEOUT)


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    """(a clean folder of real logs, the same with hostile entries planted, what was planted)."""
    clean = tmp_path_factory.mktemp("clean")
    subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import os
        os.environ["LOG_PER_PROCESS"] = "0"
        from tests.test_id_index import write_logs
        from pathlib import Path
        write_logs(Path({str(clean)!r}), 1200)
    """)], check=True, timeout=TIMEOUT, cwd=Path(__file__).parent.parent)
    hostile = tmp_path_factory.mktemp("hostile")
    shutil.rmtree(hostile)
    shutil.copytree(clean, hostile)
    return clean, hostile, _plant(hostile)


@pytest.mark.parametrize("command", [("trace", "req_00000600"), ("session", "sess_3"), ("stats",)],
                         ids=["trace", "session", "stats"])
def test_st_logs_skips_what_is_not_a_regular_file_and_answers_as_on_a_clean_folder(folders, command):
    clean, hostile, planted = folders
    expected = _st_logs(*command, str(clean), "--json")
    got = _st_logs(*command, str(hostile), "--json")
    assert expected.returncode == 0, expected.stderr
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout) == json.loads(expected.stdout)
    # An index that is a FIFO only means "scan that archive"; the others are named (three at most).
    named = {name: what for name, what in planted.items() if not name.endswith(".idx")}
    assert f"skipped what is not a regular file: {len(named)} files (" in got.stderr, got.stderr
    assert sum(f"{name} ({what})" in got.stderr for name, what in named.items()) == 3, got.stderr


def test_st_logs_index_and_tail_skip_them_too(folders):
    _, hostile, planted = folders
    indexed = _st_logs("index", str(hostile), "--json")
    assert indexed.returncode == 0, indexed.stderr
    summary = json.loads(indexed.stdout)
    assert {Path(entry["path"]).name: entry["is"] for entry in summary["not_files"]} == {
        name: what for name, what in planted.items() if not name.endswith(".idx")}
    # The archive whose index was a FIFO has a real one now.
    fifo_index = next(name for name in planted if name.endswith(".idx"))
    assert (hostile / fifo_index).is_file()
    tailed = _st_logs("tail", str(hostile), "--once", "-n", "3", "--json")
    assert tailed.returncode == 0, tailed.stderr
    assert len(tailed.stdout.splitlines()) == 3
    assert "fifo.jsonl (a FIFO)" in tailed.stderr


def test_read_records_counts_them_and_reads_the_rest(folders):
    clean, hostile, planted = folders
    script = textwrap.dedent("""
        import json, sys
        from streamlit_extension.logs import ReadStats, read_records
        stats = ReadStats()
        records = sum(1 for _ in read_records([sys.argv[1]], stats=stats))
        not_files = {path.rsplit("/", 1)[-1]: what for path, what in stats.not_files}
        print(json.dumps({"records": records, "not_files": not_files}))
    """)
    counts = [json.loads(subprocess.run([sys.executable, "-c", script, str(folder)], capture_output=True, text=True,
                                        timeout=TIMEOUT, check=True).stdout) for folder in (clean, hostile)]
    assert counts[0]["records"] == counts[1]["records"] > 0
    assert counts[0]["not_files"] == {}
    assert counts[1]["not_files"] == {name: what for name, what in planted.items() if not name.endswith(".idx")}


def test_retention_cleanup_and_compression_leave_them_alone(tmp_path):
    """Named like this app's rotated files, temporaries and archives: never opened, never deleted,
    and the real rotated files around them are still compressed and removed as configured."""
    logs = tmp_path / "logs"
    logs.mkdir()
    stamp = "2024-01-01_00-00-0{}_000000"
    os.mkfifo(logs / f"app.{stamp.format(1)}.jsonl")  # a "rotated plain file" to adopt at start
    (logs / f"app.{stamp.format(2)}.jsonl.gz").mkdir()  # an "archive" for retention
    os.mkfifo(logs / f"app.{stamp.format(3)}.jsonl.gz.tmp")  # a "temporary" for the start-up cleanup
    (logs / f"app.{stamp.format(4)}.jsonl.gz.idx.tmp").mkdir()
    script = textwrap.dedent("""
        import sys
        from loguru import logger
        from streamlit_extension import setup_logging
        handle = setup_logging(log_path=sys.argv[1], console=False, per_process=False, rotation="8 KB",
                               compression="gz", retention=2)
        for i in range(2000):
            logger.info("record {}", i)
        handle.close()
    """)
    done = subprocess.run([sys.executable, "-c", script, str(logs / "app.jsonl")], capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert "not regular files alone" in done.stderr
    assert "log retention failed" not in done.stderr
    names = {path.name for path in logs.iterdir()}
    for n in range(1, 5):
        assert any(stamp.format(n) in name for name in names), n  # all four left alone
    real = [name for name in names if name.endswith(".jsonl.gz") and "2024-01-01" not in name]
    assert len(real) == 2  # retention kept two real archives ...
    assert {f"{name}{sidecar}" for name in real for sidecar in (".idx", ".manifest")} <= names  # ... with theirs
    sidecars = {name for name in names if name.endswith((".idx", ".manifest")) and "2024-01-01" not in name}
    assert {name.rsplit(".", 1)[0] for name in sidecars} <= names  # none left without its archive
    assert not [name for name in names if name.endswith(".jsonl") and name.count(".") > 1
                and "2024-01-01" not in name]  # ... and compressed every real rotated file
