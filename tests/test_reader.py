"""The reader: both formats, plain and .gz, merged in time order, and damage counted, never raised."""

from __future__ import annotations

import gzip
import json

import pytest
from loguru import logger

from streamlit_extension import correlation_logger, correlation_scope, setup_logging
from streamlit_extension.logs import LogPathError, ReadStats, build_interaction, operation_stats, read_records


def flat(ts: str, message: str, **fields) -> str:
    return json.dumps({"timestamp": ts, "level": "INFO", "message": message, **fields}) + "\n"


def test_mixed_formats_plain_and_gz_merge_in_time_order(tmp_path):
    handle = setup_logging(log_path=str(tmp_path / "a.jsonl"), console=False)  # loguru format
    with correlation_scope("req_mixed000001"):
        logger.bind(client_id=1).info("first")
    handle.close()
    (tmp_path / "b.jsonl").write_text(flat("2000-01-01T00:00:00.000Z", "oldest", correlation_id="req_mixed000001"))
    with gzip.open(tmp_path / "c.2000-01-02_00-00-00_000000.jsonl.gz", "wt") as gz:
        gz.write(flat("2000-01-02T00:00:00.000Z", "middle", correlation_id="req_mixed000001"))
    stats = ReadStats()
    records = list(read_records([tmp_path], stats=stats))
    assert [r["message"] for r in records] == ["oldest", "middle", "first"]
    newest = records[-1]
    assert newest["correlation_id"] == "req_mixed000001"
    assert newest["client_id"] == 1
    assert newest["timestamp"].endswith("Z")
    assert newest["level"] == "INFO"
    assert newest["function"] == "test_mixed_formats_plain_and_gz_merge_in_time_order"
    assert (stats.files, stats.records, stats.skipped_total) == (3, 3, 0)


def test_truncated_and_corrupt_lines_are_skipped_and_counted(tmp_path):
    good = flat("2024-01-01T00:00:00.000Z", "good one") + flat("2024-01-01T00:00:01.000Z", "good two")
    (tmp_path / "app.jsonl").write_bytes(
        good.encode() + b'{"not json at all\n' + b"\xff\xfe invalid utf-8\n" + b"[1, 2]\n"
        + b'{"timestamp": "2024-01-01T00:00:02.000Z", "lev'  # crash mid-write: no newline
    )
    stats = ReadStats()
    records = list(read_records([tmp_path / "app.jsonl"], stats=stats))
    assert [r["message"] for r in records] == ["good one", "good two"]
    assert stats.skipped == {"corrupt line": 2, "not a log record": 1, "incomplete last line": 1}
    assert "skipped 4 lines" in stats.summary()


def test_truncated_gzip_keeps_what_it_could_read(tmp_path):
    body = "".join(flat(f"2024-01-01T00:00:{i:02d}.000Z", f"m{i}") for i in range(50)).encode()
    compressed = gzip.compress(body)
    (tmp_path / "app.2024-01-01_00-00-00_000000.jsonl.gz").write_bytes(compressed[: len(compressed) // 2])
    stats = ReadStats()
    records = list(read_records([tmp_path], stats=stats))
    assert 0 < len(records) < 50
    assert stats.errors
    assert "stopped early" in stats.errors[0][1]


def test_needle_prefilter_reads_only_matching_records(tmp_path):
    lines = "".join(flat(f"2024-01-01T00:00:{i % 60:02d}.000Z", f"m{i}", correlation_id=f"req_{i % 7:012d}")
                    for i in range(700))
    (tmp_path / "app.jsonl").write_text(lines)
    stats = ReadStats()
    found = list(read_records([tmp_path], needle="req_000000000003", stats=stats))
    assert len(found) == 100
    assert {r["correlation_id"] for r in found} == {"req_000000000003"}
    assert stats.lines == 700
    assert stats.records == 100


def test_a_file_being_written_is_fine(tmp_path):
    handle = setup_logging(log_path=str(tmp_path / "live.jsonl"), json_format="flat", console=False)
    logger.info("one")
    reader = read_records([tmp_path])
    logger.info("two")  # written while the reader is open
    assert [r["message"] for r in reader] in (["one"], ["one", "two"])
    handle.close()


def test_missing_path_raises_a_clear_error(tmp_path):
    with pytest.raises(LogPathError, match="no such file or directory"):
        read_records([tmp_path / "nope"])


def test_interaction_nesting_and_stats_from_real_logs(tmp_path):
    handle = setup_logging(log_path=str(tmp_path / "app.jsonl"), json_format="flat", console=False)
    with correlation_scope("req_timeline0001"):
        with correlation_logger.track_operation("page"):
            with correlation_logger.track_operation("load"):
                logger.info("loading")
            with pytest.raises(KeyError):
                with correlation_logger.track_operation("save"):
                    raise KeyError("row")
    handle.close()
    records = list(read_records([tmp_path]))
    interaction = build_interaction("req_timeline0001", records)
    assert [(s.operation, s.depth, s.outcome) for s in interaction.spans] == [
        ("page", 0, "complete"), ("load", 1, "complete"), ("save", 1, "failed")]
    assert interaction.outcome == "complete"  # "save" failed, but "page" caught it and completed
    loading = next(r for r in interaction.records if r["message"] == "loading")
    assert interaction.depth_of(loading) == 2
    assert interaction.errors[0]["error"]["type"] == "KeyError"
    by_op = {s.operation: s for s in operation_stats(records)}
    assert (by_op["save"].count, by_op["save"].errors, by_op["save"].error_rate) == (1, 1, 1.0)
    assert by_op["page"].p50 >= by_op["load"].p50


def test_an_operation_shorter_than_a_millisecond_lies_inside_its_parent(tmp_path):
    """Bars come from microsecond timestamps and monotonic durations; a child never lies outside
    its parent, and the total is the root operation's own duration."""
    from loguru import logger

    from streamlit_extension import correlation_logger, setup_logging
    from streamlit_extension.logs import build_interaction

    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=False)
    for _ in range(20):
        with correlation_logger.track_operation("root") as cid:
            with correlation_logger.track_operation("child"):
                with correlation_logger.track_operation("grandchild"):
                    logger.info("tiny")
    handle.close()
    records = list(read_records([path]))
    assert all(len(r["timestamp"]) == 27 for r in records)  # 2026-12-01T12:00:00.123456Z
    for cid in {r["correlation_id"] for r in records}:
        interaction = build_interaction(cid, records)
        spans = {s.operation: s for s in interaction.spans}
        root = next(r for r in records
                    if r["correlation_id"] == cid and r["operation"] == "root" and r["event"] == "complete")
        assert interaction.duration_ms == root["duration_ms"]
        for parent, child in (("root", "child"), ("child", "grandchild")):
            p, c = spans[parent], spans[child]
            assert p.start_ms <= c.start_ms
            assert c.start_ms + c.duration_ms <= p.start_ms + p.duration_ms + 1e-9


def test_millisecond_timestamps_of_older_files_sort_with_microsecond_ones(tmp_path):
    old = {"timestamp": "2026-01-01T10:00:00.123Z", "level": "INFO", "message": "old format"}
    new = {"timestamp": "2026-01-01T10:00:00.123400Z", "level": "INFO", "message": "new format"}
    (tmp_path / "a.jsonl").write_text(json.dumps(new) + "\n")
    (tmp_path / "b.jsonl").write_text(json.dumps(old) + "\n")
    assert [r["message"] for r in read_records([tmp_path])] == ["old format", "new format"]


def test_a_child_is_drawn_inside_its_parent_even_when_the_clocks_disagree():
    """The field report: a parent that took 0.842 ms, a child stamped 1.0 ms after the parent's start."""
    from streamlit_extension.logs import build_interaction

    def rec(ts, op, op_id, parent, event, duration=None):
        return {"timestamp": f"2026-01-01T10:00:00.{ts}Z", "level": "INFO", "message": f"{op} {event}",
                "correlation_id": "req_000000000001", "operation": op, "operation_id": op_id,
                "parent_operation_id": parent, "event": event, "duration_ms": duration}

    records = [rec("000000", "save", "op_a", None, "start"), rec("001000", "write", "op_b", "op_a", "start"),
               rec("001000", "write", "op_b", "op_a", "complete", 0.2),
               rec("001000", "save", "op_a", None, "complete", 0.842)]
    interaction = build_interaction("req_000000000001", records)
    save, write = interaction.spans
    assert (save.start_ms, save.duration_ms) == (0.0, 0.842)
    assert save.start_ms <= write.start_ms
    assert write.start_ms + write.duration_ms <= save.start_ms + save.duration_ms
    assert interaction.duration_ms == 0.842  # the header: the root operation's own duration


@pytest.mark.parametrize("compressed", [False, True])
def test_lines_across_chunk_boundaries_members_and_an_oversized_line(tmp_path, compressed):
    """Lines longer than the read chunk, a gzip file of several members, and a line over the
    16 MiB limit (skipped and counted once; the lines around it kept), with and without a needle."""
    from streamlit_extension.logs.reader import CHUNK_SIZE, MAX_LINE_BYTES

    lines = [flat(f"2024-01-01T00:00:{i:02d}.000000Z", f"m{i}", correlation_id=f"req_{i:012d}",
                  padding="x" * (CHUNK_SIZE // 3 * (i % 4))) for i in range(12)]
    oversized = '{"padding": "' + "y" * (MAX_LINE_BYTES + 10) + '"}\n'
    body = "".join(lines[:6]) + oversized + "".join(lines[6:])
    if compressed:
        path = tmp_path / "app.2024-01-01_00-00-00_000000.jsonl.gz"
        middle = len(lines[0]) + len(lines[1])  # two gzip members, split mid-file
        path.write_bytes(gzip.compress(body[:middle].encode()) + gzip.compress(body[middle:].encode()))
    else:
        path = tmp_path / "app.jsonl"
        path.write_text(body)
    stats = ReadStats()
    assert [r["message"] for r in read_records([path], stats=stats)] == [f"m{i}" for i in range(12)]
    assert (stats.lines, stats.records, dict(stats.skipped)) == (13, 12, {"oversized line": 1})
    for i in (0, 5, 6, 11):
        found = list(read_records([path], needle=f"req_{i:012d}"))
        assert [r["message"] for r in found] == [f"m{i}"]


def test_a_big_int_is_read_exactly_and_an_odd_loguru_line_is_damage(tmp_path):
    """orjson reads an int past 64 bits as a float: such lines are read by ``json``, exactly.
    A line of loguru's shape whose ``extra`` isn't an object is damage, counted, never raised,
    by the reader and by the manifest alike."""
    from streamlit_extension.sinks.manifest import ManifestCollector

    big = 2**70 + 1
    lines = [
        json.dumps({"timestamp": "2026-01-01T00:00:00.000000Z", "level": "INFO", "message": "big", "n": big}),
        json.dumps({"text": "x", "record": {"extra": [1], "time": {"timestamp": 1.0}, "level": {"name": "INFO"},
                                            "message": "odd"}}),
    ]
    path = tmp_path / "app.jsonl"
    path.write_text("\n".join(lines) + "\n")
    stats = ReadStats()
    (record,) = list(read_records([path], stats=stats))
    assert record["n"] == big
    assert stats.skipped == {"corrupt line": 1}
    collector = ManifestCollector()
    collector.feed(path.read_bytes())
    manifest, _ = collector.finish()
    assert (manifest.records, manifest.damaged) == (1, 1)
