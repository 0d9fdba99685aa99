"""One flat row wherever it is built (``rows``): by the flat sink, by the stdlib ``JSONFormatter``,
for a ``records_lost`` record, and by the readers from a line of either format.

The same records are written in both formats; what the reader makes of each loguru line must be
exactly the row the flat sink wrote for it.
"""

from __future__ import annotations

import datetime
import io
import json
import logging

from freezegun import freeze_time
from loguru import logger

from streamlit_extension import JSONFormatter, correlation_logger, correlation_scope, setup_logging
from streamlit_extension.rows import from_line
from streamlit_extension.schema import FLAT_FIELDS
from streamlit_extension.sinks import serialized
from streamlit_extension.sinks.files import Loss
from streamlit_extension.sinks.flat import flat_line

FROZEN = "2024-05-01 12:00:00.123456"


class BoomError(ValueError):
    pass


def _log_varied_records() -> None:
    logger.bind(client_id=7, operation_id="op_x").info("plain {}", 1)
    # Extras named like flat fields: the patcher's own win, the others go under "extra".
    logger.bind(timestamp="t", level="L", message="m", module="mo", function="fn", line=-1, extra={"e": 1},
                logger_name="named.logger", session_id="s1", user_id="u1").warning("clashes")
    logger.bind(rows=[1, 2.5, None, {"nested": ["x"]}], nan=float("nan"), huge=2**80, when=datetime.date(2020, 1, 2),
                keys={1: "a"}).info("values")
    logger.info("ünïcødé 日本語 🎉 \u2028 \x00 \"quoted\" \\ {{braces}}")
    logger.bind(password="hunter2", nested={"token": "abc"}).info("secrets")
    try:
        raise BoomError("went wrong")
    except BoomError:
        logger.exception("failed")
    with correlation_scope("req_000000000001"):
        with correlation_logger.track_operation("create_client", {"client_key": "c1"}):
            logger.info("inside")
        try:
            with correlation_logger.track_operation("fails"):
                raise BoomError("nope")
        except BoomError:
            pass
        logging.getLogger("legacy.rows").info("stdlib %s", "arg", extra={"client_id": 9, "api_key": "sk-123"})


def _write(tmp_path, json_format: str) -> list[str]:
    path = tmp_path / f"{json_format}.jsonl"
    with freeze_time(FROZEN, tz_offset=0):
        handle = setup_logging(log_path=str(path), json_format=json_format, console=False, rotation=None)
        _log_varied_records()
        handle.close()
    return path.read_text(encoding="utf-8").splitlines()


def test_the_reader_makes_of_a_loguru_line_the_row_the_flat_sink_wrote(tmp_path):
    flat, loguru = _write(tmp_path, "flat"), _write(tmp_path, "loguru")
    assert len(flat) == len(loguru) == 12
    for flat_text, loguru_text in zip(flat, loguru, strict=True):
        written = json.loads(flat_text)
        assert tuple(written)[: len(FLAT_FIELDS)] == FLAT_FIELDS
        read = from_line(json.loads(loguru_text))
        assert read is not None
        for row in (written, read):  # operation ids are random: each format's run has its own
            if row.get("operation_id"):
                row["operation_id"] = "op_"
        assert list(read.items()) == list(written.items())
        assert from_line(json.loads(flat_text)) == json.loads(flat_text)  # a flat line is read as written


def test_json_formatter_writes_the_line_the_flat_sink_writes(tmp_path):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    legacy = logging.getLogger("legacy.rows.both")
    legacy.addHandler(handler)
    path = tmp_path / "flat.jsonl"
    try:
        with freeze_time(FROZEN, tz_offset=0):
            handle = setup_logging(log_path=str(path), json_format="flat", console=False, rotation=None)
            with correlation_scope("req_000000000002"):
                legacy.warning("saved %s", "row", extra={"client_id": 9, "api_key": "sk-1", "message_x": "ü"})
            handle.close()
    finally:
        legacy.removeHandler(handler)
    assert stream.getvalue() == path.read_text(encoding="utf-8")


def test_records_lost_is_the_same_row_in_either_format():
    loss = Loss()
    loss.add(3, since=datetime.datetime(2024, 5, 1, 12, 0, 0, 5, tzinfo=datetime.timezone.utc))
    record = loss.record("logs/app.jsonl")
    written = json.loads(flat_line(record))
    assert from_line(json.loads(serialized.loguru_line(record))) == written
    assert (written["event"], written["lost"]) == ("records_lost", 3)
    assert written["lost_from"] == "2024-05-01T12:00:00.000005Z"
    assert tuple(written) == (*FLAT_FIELDS, "lost", "lost_from", "lost_to")


def test_a_millisecond_timestamp_of_older_files_is_read_as_microseconds():
    row = from_line({"timestamp": "2024-05-01T12:00:00.123Z", "level": "INFO", "message": "old"})
    assert row == {"timestamp": "2024-05-01T12:00:00.123000Z", "level": "INFO", "message": "old"}
    assert from_line({"not": "ours"}) is None
    assert from_line([1]) is None
