"""Both output formats, field by field, written by real loguru file sinks."""

from __future__ import annotations

import json
import logging

import pytest
from freezegun import freeze_time
from loguru import logger

from streamlit_extension import correlation_logger, correlation_scope, setup_logging

from .helpers import read_json_lines

FROZEN = "2024-05-01 12:00:00.123456"


@pytest.fixture
def flat_log(tmp_path):
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=False)
    yield path
    handle.close()


@freeze_time(FROZEN, tz_offset=0)
def test_flat_line_is_exact(flat_log):
    def handler():
        with correlation_scope("req_000000000001"):
            logger.bind(client_id=7).info("created {}", "c1")

    handler()
    assert flat_log.read_text() == (
        '{"timestamp":"2024-05-01T12:00:00.123456Z","level":"INFO","message":"created c1",'
        '"correlation_id":"req_000000000001","session_id":null,"user_id":"anonymous",'
        '"operation":null,"event":null,"duration_ms":null,"success":null,"metadata":null,"error":null,'
        '"logger":"tests.test_formats","module":"test_formats","function":"handler","line":31,"client_id":7}\n'
    )


@freeze_time(FROZEN, tz_offset=0)
def test_flat_lifecycle_fields(flat_log):
    with correlation_scope("req_000000000002"):
        with correlation_logger.track_operation("create_client", {"client_key": "c1"}) as cid:
            assert cid == "req_000000000002"
    start, complete = read_json_lines(flat_log)
    assert start["message"] == "create_client started"
    assert complete["timestamp"] == "2024-05-01T12:00:00.123456Z"  # microseconds
    for record in (start, complete):
        assert record["operation"] == "create_client"
        assert record["correlation_id"] == "req_000000000002"
        assert record["metadata"] == {"client_key": "c1"}
        assert record["success"] is True
        assert record["error"] is None
        assert record["logger"] == "streamlit_extension"
        assert record["function"] == "test_flat_lifecycle_fields"
        assert record["operation_id"].startswith("op_")
        assert record["parent_operation_id"] is None
    assert (start["event"], complete["event"]) == ("start", "complete")
    assert start["duration_ms"] is None
    assert isinstance(complete["duration_ms"], float)
    assert complete["duration_ms"] >= 0


@freeze_time(FROZEN, tz_offset=0)
def test_loguru_format_keeps_loguru_shape_with_our_extra(tmp_path):
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), console=False)
    with correlation_scope("req_000000000003"):
        logger.warning("careful")
    handle.close()
    (line,) = read_json_lines(path)
    assert set(line) == {"text", "record"}
    record = line["record"]
    assert record["message"] == "careful"
    assert record["level"]["name"] == "WARNING"
    assert record["time"]["timestamp"] == 1714564800.123456
    assert record["function"] == "test_loguru_format_keeps_loguru_shape_with_our_extra"
    assert record["extra"] == {"correlation_id": "req_000000000003", "session_id": None, "user_id": "anonymous"}


def test_plain_call_outside_scope_has_null_correlation_id(flat_log):
    logger.info("outside")
    logging.getLogger("legacy").warning("outside too")
    records = read_json_lines(flat_log)
    assert [r["correlation_id"] for r in records] == [None, None]
    assert [r["user_id"] for r in records] == ["anonymous", "anonymous"]


def test_structured_logger_calls_always_carry_an_id(flat_log):
    correlation_logger.info("sync", "no scope here")
    correlation_logger.warning("sync", "nor here")
    records = read_json_lines(flat_log)
    assert all(r["correlation_id"].startswith("req_") for r in records)
    assert [r["level"] for r in records] == ["INFO", "WARNING"]


@pytest.mark.parametrize("json_format", ["flat", "loguru"])
def test_one_record_is_one_strict_json_line(tmp_path, json_format):
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format=json_format, console=False)
    cyclic: dict = {}
    cyclic["self"] = cyclic

    class Opaque:
        def __str__(self):
            return "opaque!"

    import datetime
    import decimal
    import uuid

    nasty = 'line one\nline two\r\n"quoted" \u2028 \x1b[31mred\x00'
    metadata = {
        "nan": float("nan"),
        "inf": float("-inf"),
        "set": {1},
        "bytes": b"\xff\x00ab",
        "when": datetime.datetime(2024, 1, 2, 3, 4, 5),
        "money": decimal.Decimal("1.10"),
        "uuid": uuid.UUID(int=1),
        "obj": Opaque(),
        "cycle": cyclic,
        (1, 2): "tuple key",
        3: "int key",
        "deep": {"list": [float("inf"), {"x": float("nan")}]},
    }
    logger.bind(metadata=metadata, cyc=cyclic).info(nasty)
    correlation_logger.log_operation("op", message=nasty, metadata=metadata)
    handle.close()
    text = path.read_text(encoding="utf-8")
    assert text.count("\n") == 2
    for record in read_json_lines(path):  # strict: NaN/Infinity tokens would raise
        body = record if json_format == "flat" else record["record"]
        extra = body if json_format == "flat" else body["extra"]
        assert body["message"] == nasty
        meta = extra["metadata"]
        assert meta["nan"] == "NaN"
        assert meta["inf"] == "-Infinity"
        assert meta["set"] == [1]
        assert meta["bytes"] == "\\xff\x00ab"
        assert meta["when"] == "2024-01-02T03:04:05"
        assert meta["money"] == "1.10"
        assert meta["uuid"] == "00000000-0000-0000-0000-000000000001"
        assert meta["obj"] == "opaque!"
        assert meta["cycle"] == {"self": "[cycle]"}
        assert meta["(1, 2)"] == "tuple key"
        assert meta["3"] == "int key"
        assert meta["deep"] == {"list": ["Infinity", {"x": "NaN"}]}
    # The app's own objects are never changed by sanitising.
    assert metadata["nan"] != metadata["nan"]
    assert (1, 2) in metadata


def test_exception_is_kept_whole_in_both_formats(tmp_path):
    for json_format in ("flat", "loguru"):
        path = tmp_path / f"{json_format}.jsonl"
        handle = setup_logging(log_path=str(path), json_format=json_format, console=False)
        try:
            {}["missing"]
        except KeyError:
            logger.exception("lookup failed")
        handle.close()
        (line,) = read_json_lines(path)
        extra = line if json_format == "flat" else line["record"]["extra"]
        assert extra["error"]["type"] == "KeyError"
        assert extra["error"]["message"] == "'missing'"
        assert 'in test_exception_is_kept_whole_in_both_formats\n    {}["missing"]' in extra["error"]["traceback"]
        assert extra["error"]["traceback"].rstrip().endswith("KeyError: 'missing'")


def test_json_formatter_for_stdlib_handlers(tmp_path):
    from streamlit_extension.utils.log_formatter import CorrelationFilter, JSONFormatter

    stream_path = tmp_path / "stdlib.jsonl"
    handler = logging.FileHandler(stream_path)
    handler.setFormatter(JSONFormatter())
    handler.addFilter(CorrelationFilter())
    legacy = logging.getLogger("legacy.formatter")
    legacy.addHandler(handler)
    legacy.setLevel(logging.INFO)
    legacy.propagate = False
    try:
        with correlation_scope("req_000000000004"):
            legacy.info("saved %s", "row", extra={"client_id": 9, "api_key": "sk-123", "meta": {"n": float("nan")}})
    finally:
        legacy.removeHandler(handler)
        handler.close()
    (record,) = read_json_lines(stream_path)
    assert list(record)[:16] == [
        "timestamp", "level", "message", "correlation_id", "session_id", "user_id", "operation", "event",
        "duration_ms", "success", "metadata", "error", "logger", "module", "function", "line",
    ]
    assert record["timestamp"].endswith("Z")
    assert len(record["timestamp"]) == 27
    assert record["message"] == "saved row"
    assert record["correlation_id"] == "req_000000000004"
    assert record["user_id"] == "anonymous"
    assert record["logger"] == "legacy.formatter"
    assert record["function"] == "test_json_formatter_for_stdlib_handlers"
    assert record["client_id"] == 9
    assert record["api_key"] == "[REDACTED]"
    assert record["meta"] == {"n": "NaN"}
    assert "sk-123" not in stream_path.read_text()


def test_orjson_and_the_standard_encoder_write_the_same_flat_line(tmp_path):
    """orjson writes the flat line; a record it refuses (an int beyond 64 bits) goes to the
    standard encoder. Either way the same row must give the same bytes."""
    import orjson

    from streamlit_extension.sinks import flat

    path = tmp_path / "app.jsonl"
    with freeze_time(FROZEN, tz_offset=0):
        handle = setup_logging(log_path=str(path), json_format="flat", console=False)
        with correlation_scope("req_000000000009"):
            logger.bind(meta={"n": 1.5, "s": "ünï\\u2028", "nan": float("nan")}).info("x {}", 1)
            logger.bind(meta={"big": 2**70}).info("x {}", 2)
        handle.close()
    fast, slow = path.read_text(encoding="utf-8").splitlines()
    assert orjson.dumps(json.loads(fast)).decode() == flat._json_encode(json.loads(fast)) == fast
    assert flat._json_encode(json.loads(slow)) == slow
    assert json.loads(fast)["meta"] == {"n": 1.5, "s": "ünï\\u2028", "nan": "NaN"}
    assert json.loads(slow)["meta"] == {"big": 2**70}


@freeze_time(FROZEN, tz_offset=0)
def test_console_line_says_who_in_short(capsys):
    """A console line names the user (cut to fit) and the session (its first 8 characters),
    keeps the correlation id, and shows ``-`` outside any session."""
    handle = setup_logging(log_path=None, console=True)
    sid = "2a1e5771-6a1f-486d-95d4-620df596b901"
    try:
        with correlation_scope("req_000000000003"):
            logger.bind(session_id=sid, user_id="user_3f2a9c1b0e4d5f6a").info("signed in")
            logger.bind(session_id=sid).info("nobody")
            logger.bind(session_id=sid, user_id="carol").info("short name")
        logger.info("outside")
    finally:
        handle.close()
    lines = [line.split(" | ")[2:4] for line in capsys.readouterr().err.splitlines()]
    assert lines == [
        ["user_3f2a… 2a1e5771", "req_000000000003"],
        ["anonymous  2a1e5771", "req_000000000003"],
        ["carol      2a1e5771", "req_000000000003"],
        ["-                  ", "-"],
    ]
