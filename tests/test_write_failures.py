"""Writes that fail part-way: a full disk, a file-size limit, a file truncated under us.

Judged on the bytes on disk: every line of every file (plain and compressed) is one whole record
of strict JSON in the file's own format, the records that could not be written are counted in
``records_lost`` records of that same format (with the time span), and every rotated file ends
up compressed once there is room again, or at the next start.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger

from streamlit_extension import setup_logging

FORMATS = ("flat", "loguru")


def _strict(line: bytes) -> dict:
    def refuse(token: str) -> None:
        raise ValueError(f"non-strict JSON token {token}")

    return json.loads(line, parse_constant=refuse)


def _fields(obj: dict, json_format: str) -> dict:
    """The fields we check, from a line of either format (a loguru line keeps them in record.extra)."""
    if json_format == "flat":
        assert "record" not in obj, obj
        assert "timestamp" in obj, obj
        return obj
    assert set(obj) == {"text", "record"}, obj  # loguru's serialize=True shape, records_lost included
    record = obj["record"]
    return {**record["extra"], "message": record["message"], "level": record["level"]["name"]}


def _file_records(folder: Path, json_format: str) -> list[dict]:
    """Every line of every log file in ``folder``; any line that isn't one whole record fails the test."""
    out = []
    for path in sorted(folder.iterdir()):
        if path.name.endswith(".jsonl.gz"):
            data = gzip.decompress(path.read_bytes())
        elif path.name.endswith(".jsonl"):
            data = path.read_bytes()
        else:
            continue
        assert data == b"" or data.endswith(b"\n"), f"{path.name} ends inside a line"
        for number, line in enumerate(data.split(b"\n")[:-1], 1):
            try:
                out.append(_fields(_strict(line), json_format))
            except ValueError as exc:
                raise AssertionError(f"{path.name} line {number} is not a whole record: {line[:120]!r}") from exc
    return out


def _check_accounting(records: list[dict], emitted: list[str], unrecorded: int = 0) -> list[dict]:
    """Each emitted message at most once, and every one not in the files counted as lost (in
    the files, but for ``unrecorded`` ones stderr reported because the file could not take it)."""
    gaps = [r for r in records if r.get("event") == "records_lost"]
    written = [r["message"] for r in records if r.get("event") != "records_lost"]
    assert len(written) == len(set(written)), "a record was written twice"
    assert set(written) <= set(emitted)
    assert len(written) + sum(gap["lost"] for gap in gaps) + unrecorded == len(emitted)
    for gap in gaps:
        assert gap["level"] == "WARNING"
        assert gap["lost"] > 0
        assert gap["lost_from"] <= gap["lost_to"]
    return gaps


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs: a real filesystem that fills up. Needs root (CI runs as root)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8); this test judges a real full disk")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path, leave: int = 0) -> Path:
    """Take every free block of ``disk`` but ``leave`` bytes with a filler file; returns it."""
    filler = disk / "filler.bin"
    with open(filler, "wb", buffering=0) as out:
        block = b"\0" * 4096
        try:
            while True:
                out.write(block)
        except OSError:
            pass
        out.truncate(max(0, out.tell() - leave))
    return filler


def _no_plain_rotated(folder: Path) -> bool:
    return not [p for p in folder.glob("app.*.jsonl") if p.name.count(".") > 1]


@pytest.fixture
def fast_retries(monkeypatch):
    import streamlit_extension.sinks.compression as compression
    import streamlit_extension.sinks.files as files

    monkeypatch.setattr(files, "RETRY_SECONDS", 0.0)
    monkeypatch.setattr(compression, "RETRY_FIRST", 0.05, raising=False)  # (raising: run on older code too)
    monkeypatch.setattr(compression, "RETRY_MOST", 0.2, raising=False)


@pytest.mark.parametrize("json_format", FORMATS)
def test_a_full_disk_leaves_whole_lines_and_counts_the_gap_in_the_files_format(small_disk, fast_retries,
                                                                                 json_format, capsys):
    logs = small_disk / "logs"
    handle = setup_logging(log_path=str(logs / "app.jsonl"), json_format=json_format, console=False,
                           rotation="128 KB", compression="gz", retention=None)
    emitted = []

    def log(message: str) -> None:
        emitted.append(message)
        logger.info(message, padding="x" * 300)

    for i in range(200):
        log(f"before {i}")
    filler = _fill(small_disk)
    for i in range(30_000):
        log(f"filling record {i}")
    filler.unlink()  # space comes back
    for i in range(300):
        log(f"after {i}")
    deadline = time.monotonic() + 20
    while not _no_plain_rotated(logs) and time.monotonic() < deadline:
        time.sleep(0.05)  # the compressor retries the rotated files it could not compress
    handle.close()
    records = _file_records(logs, json_format)
    gaps = _check_accounting(records, emitted)
    assert gaps, "the disk was full: records were lost, and the file must say so"
    assert any(r["message"] == "after 299" for r in records)
    assert _no_plain_rotated(logs), sorted(p.name for p in logs.iterdir())
    assert not list(logs.glob("*.tmp"))
    err = capsys.readouterr().err
    assert "No space left on device" in err
    assert "stays uncompressed" not in err


@pytest.mark.parametrize("json_format", FORMATS)
def test_rotated_files_left_plain_by_a_full_disk_are_compressed_at_the_next_start(small_disk, fast_retries,
                                                                                   json_format, capsys):
    import base64

    logs = small_disk / "logs"
    handle = setup_logging(log_path=str(logs / "app.jsonl"), json_format=json_format, console=False,
                           rotation="64 KB", compression="gz", retention=None)
    emitted = []
    while not (logs / "app.jsonl").exists() or (logs / "app.jsonl").stat().st_size < 48_000:
        emitted.append(f"record {len(emitted)}")
        logger.info(emitted[-1])
    # Room for the live file to grow past 64 KB and rotate, none for its (incompressible) archive.
    filler = _fill(small_disk, leave=40_000)
    for _ in range(300):
        emitted.append(f"record {len(emitted)}")
        logger.info(emitted[-1], padding=base64.b64encode(os.urandom(300)).decode())
    handle.close()  # gives up waiting: no room
    assert not _no_plain_rotated(logs), "the test needs a rotated file the full disk kept plain"
    err = capsys.readouterr().err
    assert "they are compressed at the next start" in err
    # Still full at close: that last loss can only be told on stderr.
    (unrecorded,) = re.findall(r"(\d+) records were lost at the end", err)
    filler.unlink()
    setup_logging(log_path=str(logs / "app.jsonl"), json_format=json_format, console=False,
                  rotation="64 KB", compression="gz", retention=None).close()
    assert _no_plain_rotated(logs), sorted(p.name for p in logs.iterdir())
    _check_accounting(_file_records(logs, json_format), emitted, int(unrecorded))


@pytest.mark.parametrize("json_format", FORMATS)
def test_a_file_size_limit_tears_no_line(tmp_path, json_format):
    """EFBIG (RLIMIT_FSIZE, no root needed): writes past the limit fail part-way; once the limit is
    raised the next record starts on its own line, after one records_lost record."""
    script = textwrap.dedent(f"""
        import resource, sys
        from loguru import logger
        import streamlit_extension.sinks.files as files
        from streamlit_extension import setup_logging
        files.RETRY_SECONDS = 0.0
        handle = setup_logging(log_path=sys.argv[1], json_format={json_format!r}, console=False,
                               rotation=None, retention=None, compression=None)
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        logger.info("first")
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, hard))
        for i in range(400):
            logger.info("limited {{}}", i, padding="z" * 200)
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        for i in range(5):
            logger.info("after {{}}", i)
        handle.close()
    """)
    path = tmp_path / "app.jsonl"
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "File too large" in done.stderr
    records = _file_records(tmp_path, json_format)
    emitted = ["first", *(f"limited {i}" for i in range(400)), *(f"after {i}" for i in range(5))]
    (gap,) = _check_accounting(records, emitted)
    assert [r["message"] for r in records][-6:] == [gap["message"], *(f"after {i}" for i in range(5))]


@pytest.mark.parametrize("json_format", FORMATS)
def test_a_file_truncated_under_us_mid_line_gets_whole_lines_again(tmp_path, monkeypatch, json_format):
    import streamlit_extension.sinks.files as files

    monkeypatch.setattr(files, "CHECK_SECONDS", 0.0)  # check on every write
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format=json_format, console=False, rotation=None)
    for i in range(10):
        logger.info("kept {}", i)
    size = path.stat().st_size
    with open(path, "r+b") as out:
        out.truncate(size - 25)  # someone cut the file in the middle of its last line
    for i in range(3):
        logger.info("after {}", i)
    handle.close()
    messages = [r["message"] for r in _file_records(tmp_path, json_format)]
    assert messages == [f"kept {i}" for i in range(9)] + [f"after {i}" for i in range(3)]
