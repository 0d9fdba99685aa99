"""The default format's lines: loguru's ``serialize=True`` schema, encoded by orjson.

Each line the file sink writes must parse to exactly what loguru's own encoder makes of the same
record; what orjson can't encode falls back to loguru's encoder; and a loguru that doesn't let
us choose the encoder keeps its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from loguru import logger

from streamlit_extension import _loguru, correlation_scope, setup_logging


class BoomError(ValueError):
    pass


def log_everything_and_compare(tmp_path: Path) -> list[str]:
    """Log varied records through setup_logging; each file line must equal loguru's own encoding."""
    captured = []
    handle = setup_logging(log_path=str(tmp_path / "app.jsonl"), console=False, intercept_stdlib=False)
    # Sees the same, already patched record object the file sink encodes.
    logger.add(lambda message: captured.append(message.record), format="{message}", level="TRACE")
    with correlation_scope("req_serialized"):
        logger.info("plain {}", 1)
        logger.bind(rows=[1, 2.5, None, True, {"nested": ["x"]}], ratio=float("nan")).warning("values")
        logger.info("unicode: ünïcødé 日本語 🎉 \u2028 \x00 \"quoted\" \\ back")
        logger.bind(huge=2**80).info("an int beyond 64 bits")  # orjson refuses it
        logger.info("a lone surrogate \udc80 here")  # and this
        try:
            raise BoomError("went wrong")
        except BoomError:
            logger.exception("failed")
        logger.opt(exception=(BoomError, None, None)).error("no value")
    handle.close()
    lines = (tmp_path / "app.jsonl").read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    assert len(lines) == len(captured) == 7
    own = _loguru.own_serializer()
    assert own is not None
    for line, record in zip(lines, captured, strict=True):
        ours = json.loads(line)
        assert ours == json.loads(own(ours["text"], record)), line
    return lines


def test_lines_parse_to_what_loguru_itself_writes(tmp_path):
    lines = log_everything_and_compare(tmp_path)
    first = json.loads(lines[0])
    assert first["record"]["extra"]["correlation_id"] == "req_serialized"
    assert first["record"]["message"] == "plain 1"
    failed = json.loads(lines[5])["record"]
    assert failed["exception"] == {"type": "BoomError", "value": "went wrong", "traceback": True}
    # orjson wrote the ordinary lines (compact); loguru's encoder the two it refuses.
    compact = [line.startswith('{"text":"') for line in lines]
    assert compact == [True, True, True, False, False, True, True]


def test_a_loguru_without_the_hook_keeps_its_own_encoder(tmp_path, monkeypatch):
    monkeypatch.setattr(_loguru, "_Handler", None)
    assert _loguru.own_serializer() is None
    handle = setup_logging(log_path=str(tmp_path / "app.jsonl"), console=False, intercept_stdlib=False)
    logger.bind(rows=3).info("still written")
    handle.close()
    line = (tmp_path / "app.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert line.startswith('{"text": "')  # json.dumps's separators: loguru's own encoder
    record = json.loads(line)["record"]
    assert (record["message"], record["extra"]["rows"]) == ("still written", 3)


@pytest.mark.parametrize("sink_id", [-1, 10_000])
def test_the_hook_refuses_a_handler_it_does_not_know(sink_id):
    assert _loguru.set_serializer(sink_id, lambda text, record: text) is False


def test_the_hook_refuses_a_handler_without_serialize(tmp_path):
    sink_id = logger.add(tmp_path / "plain.log", format="{message}")
    assert _loguru.set_serializer(sink_id, lambda text, record: text) is False
    logger.info("plain text")
    logger.remove(sink_id)
    assert (tmp_path / "plain.log").read_text() == "plain text\n"
