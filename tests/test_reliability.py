"""Trying hard to break the three promises: logging never breaks the app, nothing logged is lost,
nothing private leaks. Results are tabulated in docs/reliability.md."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loguru import logger

from streamlit_extension import correlation_logger, correlation_scope, setup_logging
from streamlit_extension.logs import ReadStats, read_records

from .helpers import run_together

# One planted secret of each kind; each must never appear in any output.
SECRETS = {
    "bearer": ("Bearer {s}", "zQ7xK2mP9vL4nR8t"),
    "jwt": ("{s}", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJlLXZhbHVl"),
    "query": ("https://api.example.org/v1?api_key={s}&page=2", "k3y-V4lu3-77"),
    "aws": ("{s}", "AKIAZ7Q3EXAMPLE4WXYZ"),
    "pem": ("-----BEGIN PRIVATE KEY-----\n{s}\n-----END PRIVATE KEY-----", "MIIBVQIBADANBgkqhkiG9w0B"),
    "card": ("{s}", "4539 1488 0343 6467"),
    "email": ("{s}", "pat.doe@example.net"),
}

safe_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
metadata = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), safe_text),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(safe_text, children, max_size=4)),
    max_leaves=12,
)


@pytest.mark.parametrize("json_format", ["flat", "loguru"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(sorted(SECRETS)), meta=metadata, prefix=safe_text, suffix=safe_text,
       where=st.sampled_from(["message", "metadata", "exception", "stdlib"]))
def test_planted_secrets_never_appear_anywhere(tmp_path_factory, capsys, json_format, kind, meta, prefix, suffix,
                                              where):
    template, secret = SECRETS[kind]
    planted = f"{prefix} {template.format(s=secret)} {suffix}"
    path = tmp_path_factory.mktemp("prop") / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format=json_format, console=True)
    try:
        if where == "message":
            logger.bind(meta=meta).info(planted)
        elif where == "metadata":
            correlation_logger.info("op", "planted in metadata", metadata={"deep": [meta, {"note": planted}]})
        elif where == "exception":
            try:
                raise RuntimeError(planted)
            except RuntimeError:
                logger.exception("failed")
        else:
            logging.getLogger("legacy").warning("legacy %s", planted, extra={"payload": {"x": planted}})
    finally:
        handle.close()
    out = path.read_text(encoding="utf-8") + capsys.readouterr().err
    assert secret not in out
    assert secret.replace(" ", "") not in out  # nor its digits run together
    for line in path.read_text(encoding="utf-8").split("\n")[:-1]:
        assert "\x85" not in line
        assert "\u2028" not in line
        json.loads(line)  # still one strict JSON line each


@pytest.mark.parametrize("per_thread", [2000, pytest.param(20_000, marks=pytest.mark.slow)])
def test_thirty_two_threads_hammer_rotation_and_compression(tmp_path, per_thread):
    handle = setup_logging(log_path=str(tmp_path / "app.jsonl"), json_format="flat", console=False,
                           rotation=512 * 1024, compression="gz", retention=None)
    threads = 32

    def worker(n: int) -> None:
        with correlation_scope(f"req_hammer{n:04d}"):
            for i in range(per_thread):
                logger.bind(n=n, i=i).info("hammer {} {}", n, i)

    run_together(threads, worker)
    handle.close()
    stats = ReadStats()
    records = list(read_records([tmp_path], stats=stats))
    assert stats.skipped_total == 0
    assert not stats.errors
    assert len(records) == threads * per_thread  # zero lost
    assert len({(r["n"], r["i"]) for r in records}) == threads * per_thread
    assert all(r["correlation_id"] == f"req_hammer{r['n']:04d}" for r in records)  # zero cross-talk
    assert sum(p.name.endswith(".gz") for p in tmp_path.iterdir()) >= 5


KILLED_WRITER = textwrap.dedent(
    """
    import sys
    from loguru import logger
    from streamlit_extension import setup_logging
    setup_logging(log_path=sys.argv[1], json_format="flat", console=False, per_process=False, rotation=None)
    print("ready", flush=True)
    i = 0
    while True:
        logger.bind(i=i).info("{} {}", i, "z" * 2000)
        i += 1
    """
)


def test_kill_9_mid_write_truncates_at_most_the_last_line(tmp_path):
    path = tmp_path / "app.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    stats = ReadStats()
    records = list(read_records([path], stats=stats))
    assert len(records) > 100
    assert [r["i"] for r in records] == list(range(len(records)))  # nothing missing before the end
    assert stats.skipped_total <= 1
    assert set(stats.skipped) <= {"incomplete last line"}


def test_a_sink_that_raises_never_reaches_the_app(tmp_path, capsys):
    setup_logging(log_path=str(tmp_path / "app.jsonl"), json_format="flat", console=False)

    def broken(message):
        raise OSError("sink exploded")

    logger.add(broken, level="INFO")
    for i in range(100):
        logger.info("still fine {}", i)  # must not raise
    with correlation_logger.track_operation("op"):
        pass
    assert len((tmp_path / "app.jsonl").read_text().splitlines()) == 102


def test_exception_in_redaction_never_reaches_the_app(tmp_path, capsys, monkeypatch):
    from streamlit_extension.patcher import values

    handle = setup_logging(log_path=str(tmp_path / "app.jsonl"), json_format="flat", console=False)

    def explode(self, text):
        raise RuntimeError("redactor exploded")

    monkeypatch.setattr(values.ValueRedactor, "redact", explode)
    for _ in range(50):
        logger.bind(password="pw-123456", note={"x": 1}).info("still written")
    handle.close()
    lines = [json.loads(line) for line in (tmp_path / "app.jsonl").read_text().splitlines()]
    assert len(lines) == 50
    assert lines[0]["password"] == "[REDACTED]"  # the fallback still masks secret keys
    assert capsys.readouterr().err.count("redactor exploded") == 1


@pytest.mark.parametrize("hostile", [
    "line\r\nINFO forged", "\x1b[2J\x1b[31mrepainted", 'quote " and \\ backslash', "nul \x00 byte",
    "ünïcödé ✓ 🎉", "x" * 10_000, "\u2028separator\u2029",
])
def test_hostile_text_stays_one_strict_line_and_console_is_escaped(tmp_path, capsys, hostile):
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=True)
    logger.bind(meta={"v": hostile}).info(hostile)
    handle.close()
    lines = path.read_text(encoding="utf-8").split("\n")
    assert len(lines) == 2
    assert lines[1] == ""
    assert json.loads(lines[0])["message"] == hostile
    err = capsys.readouterr().err
    assert "\x1b[2J" not in err
    assert "\r\nINFO forged" not in err
    assert "\x00" not in err


@pytest.mark.parametrize("content", [
    b"x" * (20 << 20) + b"\n",  # a 20 MB line
    b"[" * 100_000 + b"\n",  # deep nesting
    b'{"timestamp": "2024-01-01T00:00:00.000Z", "level": "INFO", "message": "\xff\xfe"}\n',  # bad UTF-8
    b'{"timestamp": "2024-01-01T00:00:00.000Z", "level": "INFO", "n": ' + b"9" * 100_000 + b"}\n",  # int bomb
])
def test_hostile_log_files_are_skipped_with_a_count(tmp_path, content):
    good = b'{"timestamp": "2024-01-01T00:00:01.000Z", "level": "INFO", "message": "ok"}\n'
    (tmp_path / "app.jsonl").write_bytes(content + good)
    stats = ReadStats()
    records = list(read_records([tmp_path], stats=stats))
    assert [r["message"] for r in records] == ["ok"]
    assert stats.skipped_total >= 1


def test_deep_nesting_is_capped_not_fatal(tmp_path):
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=False)
    deep: dict = {}
    cursor = deep
    for _ in range(5000):  # far past any recursion limit
        cursor["d"] = {}
        cursor = cursor["d"]
    logger.bind(deep=deep).info("deep")
    handle.close()
    record = json.loads(path.read_text())
    depth, node = 0, record["deep"]
    while isinstance(node, dict):
        node, depth = node["d"], depth + 1
    assert node == "[depth limit]"
    assert depth < 40
