"""``logs/follow.py``: complete lines from an offset, and a file read in increments as it grows,
checked against a fresh full read by the reader on real files written by the library."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from loguru import logger

from streamlit_extension import correlation_logger, setup_logging
from streamlit_extension.logs import ReadStats, read_records
from streamlit_extension.logs.follow import GrowingFile, read_complete


def library_lines(folder: Path, json_format: str) -> bytes:
    """The bytes of a real log file: operations, a failure with its traceback, stdlib-free records."""
    handle = setup_logging(log_path=str(folder / "source.jsonl"), json_format=json_format, console=False,
                           rotation=None, retention=None, compression=None)
    try:
        for n in range(40):
            with logger.contextualize(session_id=f"sess_{n % 3}", user_id="alice" if n % 2 else "bob"):
                with correlation_logger.track_operation("load_rows", {"batch": n}):
                    logger.info("loaded rows for batch {}", n)
        with pytest.raises(RuntimeError):
            with correlation_logger.track_operation("save"):
                raise RuntimeError("disk on fire")
    finally:
        handle.close()
    return (folder / "source.jsonl").read_bytes()


def full_read(path: Path, needle: str | None = None) -> tuple[list[dict], ReadStats]:
    stats = ReadStats()
    return list(read_records([path], needle=needle, stats=stats)), stats


def cuts(data: bytes) -> list[int]:
    """Where to stop appending: mid-line (a line being written), just after a newline, and the end."""
    mid_line = data.index(b"\n", len(data) // 3) - 7
    return [0, 5, mid_line, mid_line + 1, data.index(b"\n", len(data) // 2) + 1, len(data) - 3, len(data)]


@pytest.mark.parametrize("json_format", ["flat", "loguru"])
@pytest.mark.parametrize("needle", [None, "alice"])
def test_a_growing_file_read_in_increments_equals_a_fresh_read(tmp_path, json_format, needle):
    data = library_lines(tmp_path, json_format)
    # Damage in the middle: counted once, however the file is read.
    damaged = data.replace(b"\n", b'\n{"timestamp": "2026-01-01T00:00:00Z", "level": "INFO", "mess\n\n', 1)
    live = tmp_path / "app.jsonl"
    live.write_bytes(b"")
    growing = GrowingFile(live, needle)
    records: list[dict] = []
    written = 0
    for cut in cuts(damaged):
        with open(live, "ab") as handle:
            handle.write(damaged[written:cut])
        written = cut
        increment = growing.update()
        records = increment.records if increment.fresh else records + increment.records
        expected, stats = full_read(live, needle)
        assert records == expected, cut
        assert growing.report() == stats, cut  # lines, records, skipped (a partial last line too), errors
    assert growing.reads_from_start == 1
    assert stats.records == len(records) > 0
    if needle is None:  # (with one, only lines containing it are parsed)
        assert stats.skipped == {"corrupt line": 1}
        assert any(r.get("event") == "failed" and r["error"]["message"] == "disk on fire" for r in records)


def test_a_file_that_shrank_or_was_replaced_is_read_afresh(tmp_path):
    data = library_lines(tmp_path, "flat")
    half = data.index(b"\n", len(data) // 2) + 1
    live = tmp_path / "app.jsonl"
    live.write_bytes(data)
    growing = GrowingFile(live)
    assert growing.update().fresh
    assert growing.reads_from_start == 1

    with open(live, "r+b") as handle:  # copytruncate: emptied in place, then written again
        handle.truncate(0)
        handle.write(data[half:])
    again = growing.update()
    assert again.fresh
    assert again.records == full_read(live)[0]
    assert growing.reads_from_start == 2

    # Rewritten in place, longer than before: where the last read stopped is no line boundary now.
    offset = len(data) - half
    rewrite = data if data[offset - 1:offset] != b"\n" else b"\n" + data
    with open(live, "r+b") as handle:
        handle.write(rewrite)
    rewritten = growing.update()
    assert rewritten.fresh
    assert rewritten.records == full_read(live)[0]

    os.replace(tmp_path / "source.jsonl", live)  # another file under the name (rotation)
    replaced = growing.update()
    assert replaced.fresh
    assert replaced.records == full_read(live)[0]
    assert growing.update().records == []
    assert growing.reads_from_start == 4

    live.unlink()
    gone = growing.update()
    assert gone.fresh
    assert gone.records == []
    assert growing.report().errors == [(str(live), "No such file or directory")]


def test_read_complete_leaves_a_partial_line_and_reads_a_long_one_whole(tmp_path):
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b"one\n" + b"x" * 100 + b"\nthree")
    with open(path, "rb") as handle:
        first = read_complete(handle, 0, limit=8)  # "one\n" and the start of the long line
        assert (first.block, first.end, first.partial, first.at_eof) == (b"one\n", 4, True, False)
        second = read_complete(handle, first.end, limit=8)  # the 100-byte line, read to its end
        assert (second.block, second.end, second.partial) == (b"x" * 100 + b"\n", 105, True)
        rest = read_complete(handle, second.end, limit=8)
        assert (rest.block, rest.end, rest.partial, rest.at_eof) == (b"", 105, True, True)  # "three" waits
        assert read_complete(handle, 3, limit=8).restarted  # offset 3 is not after a newline: from 0
