"""Log files: one per process, rotation with zero loss, compression off the caller's thread,
retention limited to this app's rotated files, and nothing half-written at exit."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from loguru import logger

from streamlit_extension import correlation_scope, setup_logging
from streamlit_extension.schema import COMPRESSIONS
from streamlit_extension.sinks.compression import OPENERS
from streamlit_extension.sinks.naming import logical_name, process_tag, resolve_path, rotated_file_regex

from .helpers import run_together


def all_lines(folder: Path) -> list[str]:
    """Every line of every plain and .gz log file in ``folder``."""
    lines: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.name.endswith(".jsonl"):
            lines += path.read_text(encoding="utf-8").splitlines()
        elif path.name.endswith(".jsonl.gz"):
            lines += gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()
    return lines


def strict(line: str) -> dict:
    def refuse(token):
        raise ValueError(token)

    return json.loads(line, parse_constant=refuse)


def test_default_file_name_is_per_process(tmp_path):
    handle = setup_logging(log_path=str(tmp_path / "app.jsonl"), per_process=True, console=False)
    host = socket.gethostname()
    assert Path(handle.file_path).name == f"app.{process_tag()}.jsonl"
    assert str(os.getpid()) in handle.file_path
    assert process_tag().startswith(host.split(".")[0][:3])
    logger.info("x")
    assert Path(handle.file_path).exists()
    assert handle.log_path == str(tmp_path / "app.jsonl")  # the pattern, as configured


def test_names_can_be_pinned_or_templated(tmp_path):
    assert resolve_path(str(tmp_path / "app.jsonl"), per_process=False) == str(tmp_path / "app.jsonl")
    assert resolve_path(str(tmp_path / "w-{pid}.jsonl"), per_process=True) == str(tmp_path / f"w-{os.getpid()}.jsonl")
    regex = rotated_file_regex("logs/app.jsonl")
    assert regex.fullmatch(f"app.{process_tag()}.2024-05-01_12-00-00_000001.jsonl.gz")
    assert regex.fullmatch("app.2024-05-01_12-00-00_000001.2.jsonl")
    assert not regex.fullmatch(f"app.{process_tag()}.jsonl")  # a live file is never "rotated"
    assert not regex.fullmatch("other.2024-05-01_12-00-00_000001.jsonl.gz")


def test_every_compression_setting_names_an_archive_we_recognise():
    """One list of formats: what setup_logging accepts, what rotated names may end in, and a
    superset of what the background compressor makes (tar and zip stay loguru's own)."""
    assert set(OPENERS) <= set(COMPRESSIONS)
    regex = rotated_file_regex("logs/app.jsonl")
    for extension in COMPRESSIONS:
        name = f"app.{process_tag()}.2024-05-01_12-00-00_000001.jsonl.{extension}"
        assert regex.fullmatch(name), extension
        assert logical_name(name) == f"app.{process_tag()}.2024-05-01_12-00-00_000001.jsonl"


def test_sixteen_threads_through_rotations_lose_nothing(tmp_path):
    handle = setup_logging(log_path=str(tmp_path / "app.jsonl"), json_format="flat", console=False,
                           rotation=256 * 1024, compression="gz", retention=None, per_process=True)
    threads, per_thread = 16, 1500

    def worker(n):
        with correlation_scope(f"req_t{n:02d}"):
            for i in range(per_thread):
                logger.bind(n=n, i=i).info("record {} of thread {}", i, n)

    run_together(threads, worker)
    handle.close()  # waits for pending compressions
    names = sorted(p.name for p in tmp_path.iterdir())
    assert sum(n.endswith(".jsonl.gz") for n in names) >= 5, names
    assert not any(n.endswith(".tmp") for n in names)
    records = [strict(line) for line in all_lines(tmp_path)]
    assert len(records) == threads * per_thread
    assert len({(r["n"], r["i"]) for r in records}) == threads * per_thread  # no duplicates either
    assert all(r["correlation_id"] == f"req_t{r['n']:02d}" for r in records)


def test_compression_happens_off_the_callers_thread(tmp_path, monkeypatch):
    """The call that rotates the file returns while that file's compression is still held: no
    logging call waits for gzip (loguru's own compression runs inside the write, under its lock).
    Shown by holding the compressor, not by timing calls on a shared machine."""
    import threading

    import streamlit_extension.sinks.compression as compression

    held, release, threads = threading.Event(), threading.Event(), []
    real = compression.compress_file

    def slow_compress(path: str, extension: str):
        threads.append(threading.current_thread().name)
        held.set()
        release.wait(10)
        return real(path, extension)

    monkeypatch.setattr(compression, "compress_file", slow_compress)
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", rotation=4000, compression="gz", console=False,
                           retention=None)
    for i in range(300):  # many rotations, the first compression held throughout
        logger.info("record {}", i)
    assert held.wait(10), "no rotation was compressed"
    # Every call above returned while the first compression was still held: not one archive yet.
    assert not list(tmp_path.glob("app.*.jsonl.gz"))
    release.set()
    handle.close()  # waits for the queued compressions
    assert set(threads) == {"streamlit_extension-compress"}
    archives = sorted(tmp_path.glob("app.*.jsonl.gz"))
    assert len(archives) >= 5
    assert not list(tmp_path.glob("*.tmp"))
    lines = [line for archive in archives for line in gzip.decompress(archive.read_bytes()).decode().splitlines()]
    lines += path.read_text().splitlines()
    assert sorted(json.loads(line)["message"] for line in lines) == sorted(f"record {i}" for i in range(300))


WRITER = textwrap.dedent(
    """
    import sys
    from loguru import logger
    from streamlit_extension import correlation_scope, setup_logging
    folder, n, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    setup_logging(log_path=folder + "/app.jsonl", json_format="flat", console=False,
                  rotation=64 * 1024, compression="gz", per_process=True)
    with correlation_scope(f"req_proc{n}"):
        for i in range(count):
            logger.bind(proc=n, i=i).info("record {}", i)
    """
)


@pytest.mark.parametrize("count", [10_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_four_processes_share_a_folder_without_loss(tmp_path, count):
    env = {**os.environ}
    env.pop("LOG_PER_PROCESS", None)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(n), str(count)], env=env,
                              stderr=subprocess.PIPE, text=True) for n in range(4)]
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        assert err == ""
    records = [strict(line) for line in all_lines(tmp_path)]
    assert len(records) == 4 * count
    assert len({(r["proc"], r["i"]) for r in records}) == 4 * count
    pids = {name.split(".")[1] for name in os.listdir(tmp_path)}
    assert len(pids) == 4  # four processes, four families of files
    assert not any(name.endswith(".tmp") for name in os.listdir(tmp_path))


def test_retention_removes_only_this_apps_rotated_files(tmp_path):
    old = time.time() - 30 * 86400
    keep = ["other.2024-01-01_00-00-00_000000.jsonl.gz", "app.otherhost-99.jsonl", "notes.txt"]
    doomed = ["app.otherhost-99.2024-01-01_00-00-00_000000.jsonl.gz", "app.2024-01-01_00-00-00_000000.jsonl"]
    for name in keep + doomed:
        (tmp_path / name).write_text("{}\n")
        os.utime(tmp_path / name, (old, old))
    handle = setup_logging(log_path=str(tmp_path / "app.jsonl"), rotation=2000, retention="7 days",
                           compression="gz", console=False, per_process=True)
    for i in range(50):
        logger.info("line {}", i)
    handle.close()
    names = set(os.listdir(tmp_path))
    assert set(keep) <= names
    assert not set(doomed) & names
    assert any(n.endswith(".jsonl.gz") and process_tag() in n for n in names)  # our fresh ones stay


def test_normal_exit_finishes_pending_compression(tmp_path):
    script = textwrap.dedent(
        """
        import sys
        from loguru import logger
        from streamlit_extension import setup_logging
        setup_logging(log_path=sys.argv[1] + "/app.jsonl", rotation=1024 * 1024, compression="gz",
                      console=False, per_process=False)
        for i in range(9000):
            logger.info("{} {}", i, "y" * 300)
        # exits right after the last rotation, with its compression still queued
        """
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    names = sorted(os.listdir(tmp_path))
    assert not any(n.endswith(".tmp") for n in names), names
    assert sum(n.endswith(".gz") for n in names) >= 3, names
    assert len(all_lines(tmp_path)) == 9000  # every .gz is whole; nothing lost or doubled


def test_stale_partial_archives_are_cleaned_and_plain_files_kept(tmp_path):
    """A killed compression: the partial archive goes, and the plain file (all its records) is
    compressed again at the next start."""
    rotated = tmp_path / "app.2024-01-01_00-00-00_000000.jsonl"
    rotated.write_text('{"timestamp":"2024-01-01T00:00:00.000Z","level":"INFO","message":"kept"}\n')
    (tmp_path / (rotated.name + ".gz.tmp")).write_bytes(b"\x1f\x8b half")  # a killed compression
    setup_logging(log_path=str(tmp_path / "app.jsonl"), console=False).close()  # close: compressions done
    assert not (tmp_path / (rotated.name + ".gz.tmp")).exists()
    assert not rotated.exists()
    assert gzip.decompress((tmp_path / (rotated.name + ".gz")).read_bytes()) == (
        b'{"timestamp":"2024-01-01T00:00:00.000Z","level":"INFO","message":"kept"}\n')


def test_a_starting_replica_leaves_a_live_neighbours_temporaries_alone(tmp_path):
    """Replicas on one volume: a process that starts must not delete the archive another live
    process is compressing (its rename would fail); a dead writer's, or an old one, goes."""
    host = process_tag().rsplit("-", 1)[0]
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    stamp = "2026-12-02_06-04-05_339815"

    def temporaries(tag: str) -> list[Path]:
        paths = [tmp_path / f"app.{tag}.{stamp}.jsonl.gz.tmp", tmp_path / f"app.{tag}.{stamp}.jsonl.gz.idx.tmp"]
        for path in paths:
            path.write_bytes(b"\x1f\x8b in progress")
        return paths

    try:
        live = temporaries(f"{host}-{sleeper.pid}")
        elsewhere = temporaries(f"other-host-{sleeper.pid}")  # another machine: can't tell, so kept
        dead = temporaries(f"{host}-{finished.stdout.strip()}")
        old = temporaries(f"other-host-{sleeper.pid + 1}")
        for path in old:
            os.utime(path, (time.time() - 7200, time.time() - 7200))  # untouched for two hours
        handle = setup_logging(log_path=str(tmp_path / "app.jsonl"), console=False, per_process=True,
                               rotation="1 MB", compression="gz")
        handle.close()
        assert all(path.exists() for path in live + elsewhere)
        assert not any(path.exists() for path in dead + old)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_log_folder_deleted_while_running_is_recreated(tmp_path, capsys, monkeypatch):
    import shutil

    import streamlit_extension.sinks.files as files

    monkeypatch.setattr(files, "CHECK_SECONDS", 0.0)  # check on every write
    folder = tmp_path / "logs"
    handle = setup_logging(log_path=str(folder / "app.jsonl"), json_format="flat", console=False)
    logger.info("before")
    shutil.rmtree(folder)
    for i in range(5):
        logger.info("after {}", i)
    handle.close()
    records = [strict(line) for line in all_lines(folder)]
    assert [r["message"] for r in records if r.get("event") != "records_lost"] == [f"after {i}" for i in range(5)]
    (gap,) = [r for r in records if r.get("event") == "records_lost"]
    assert gap["lost"] == 1  # "before" went into the deleted file, and the log says so
    assert "was deleted; reopening it" in capsys.readouterr().err


def test_size_rotation_counts_bytes_without_asking_the_file(tmp_path):
    from streamlit_extension.sinks.files import SizeRotation, size_rotation

    assert size_rotation("1 KB").limit == 1000
    assert size_rotation("1 day") == "1 day"
    handle = setup_logging(log_path=str(tmp_path / "app.jsonl"), json_format="flat", console=False,
                           rotation=4000, compression=None, retention=None)
    for i in range(200):
        logger.info("é{}", i)  # non-ASCII: counted in bytes
    handle.close()
    sizes = [p.stat().st_size for p in tmp_path.iterdir()]
    assert len(sizes) > 5
    assert max(sizes) <= 4000
    assert len(all_lines(tmp_path)) == 200
    assert isinstance(size_rotation(4000), SizeRotation)
