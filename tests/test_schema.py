"""The record vocabulary lives in ``schema``: every writer and the reader follow it.

Written by real loguru sinks and a real stdlib handler into real files, then read back.
"""

from __future__ import annotations

import json
import logging

import pytest
from loguru import logger

from streamlit_extension import JSONFormatter, correlation_logger, setup_logging
from streamlit_extension.logs.reader import read_records
from streamlit_extension.schema import (
    ANONYMOUS,
    FLAT_FIELDS,
    LEVEL_ALIASES,
    LEVELS,
    OWN_FIELDS,
    REDACTED,
    level_number,
)


def _first_keys(line: str) -> tuple[str, ...]:
    return tuple(json.loads(line))[: len(FLAT_FIELDS)]


def test_flat_sink_writes_the_schema_fields_in_order(tmp_path):
    path = tmp_path / "flat.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=False)
    logger.bind(extra_field=1, password="hunter2").info("plain")
    with correlation_logger.track_operation("op"):
        pass
    handle.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    for line in lines:
        assert _first_keys(line) == FLAT_FIELDS
    first = json.loads(lines[0])
    assert first["user_id"] == ANONYMOUS
    assert first["password"] == REDACTED
    assert first["extra_field"] == 1


def test_stdlib_json_formatter_writes_the_same_fields_in_the_same_order(tmp_path):
    path = tmp_path / "stdlib.jsonl"
    handler = logging.FileHandler(path)
    handler.setFormatter(JSONFormatter())
    log = logging.getLogger("tests.schema.stdlib")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("from stdlib", extra={"api_key": "k-123456"})
    finally:
        log.removeHandler(handler)
        handler.close()
    line = path.read_text().splitlines()[0]
    assert _first_keys(line) == FLAT_FIELDS
    record = json.loads(line)
    assert record["user_id"] == ANONYMOUS
    assert record["api_key"] == REDACTED


@pytest.mark.parametrize("json_format", ["loguru", "flat"])
def test_the_reader_gives_every_schema_field_for_either_format(tmp_path, json_format):
    path = tmp_path / f"{json_format}.jsonl"
    handle = setup_logging(log_path=str(path), json_format=json_format, console=False, rotation=None)
    with correlation_logger.track_operation("op"):
        logger.info("inside")
    handle.close()
    records = list(read_records([path]))
    assert [r["message"] for r in records] == ["op started", "inside", "op completed"]
    for record in records:
        assert tuple(record)[: len(FLAT_FIELDS)] == FLAT_FIELDS


def test_level_numbers_are_logurus():
    for name, number in LEVELS.items():
        assert logger.level(name).no == number
    assert level_number("warn") == LEVELS["WARNING"]
    assert level_number(" Fatal ") == LEVELS["CRITICAL"]
    assert level_number("LOUD") is None
    assert set(LEVEL_ALIASES.values()) <= set(LEVELS)


def test_own_fields_cover_the_correlation_and_operation_ids():
    assert {"correlation_id", "session_id", "user_id", "operation_id", "parent_operation_id"} <= OWN_FIELDS
    # Free-form fields are always scanned for secrets.
    assert not {"message", "metadata", "error"} & OWN_FIELDS


def test_the_id_index_covers_only_schema_ids():
    from streamlit_extension.schema import CORRELATION_FIELDS
    from streamlit_extension.sinks.id_index import INDEXED_FIELDS

    assert set(INDEXED_FIELDS) <= set(CORRELATION_FIELDS)
