"""setup_logging: idempotence, environment defaults, validation, close(), failing sinks."""

from __future__ import annotations

import gzip
import importlib
import logging
import os
import re
import sys

import pytest
from loguru import logger

from streamlit_extension import correlation_logger, setup_logging
from streamlit_extension.stdlib import is_ours

from .helpers import read_json_lines


def test_repeated_setup_keeps_one_installation_and_the_apps_sink(tmp_path):
    app_records = []
    app_sink = logger.add(app_records.append, level="INFO", format="{message}")
    path = tmp_path / "app.jsonl"
    first = setup_logging(log_path=str(path), console=False)
    for _ in range(10):  # e.g. every Streamlit rerun
        assert setup_logging(log_path=str(path), console=False) is first
    logger.info("once")
    assert len(read_json_lines(path)) == 1
    assert app_records == ["once\n"]
    # The app's sink gets our correlation fields too: the patcher is global.
    assert app_records[0].record["extra"]["user_id"] == "anonymous"
    first.close()
    logger.info("after close")
    assert len(read_json_lines(path)) == 1
    assert app_records[-1] == "after close\n"
    logger.remove(app_sink)  # still ours to remove: close() left it alone


def test_changed_settings_replace_the_installation(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first = setup_logging(log_path=str(a), console=False)
    second = setup_logging(log_path=str(b), console=False, json_format="flat")
    assert first.closed
    assert not second.closed
    logger.info("to b")
    assert not a.exists() or a.read_text() == ""
    assert read_json_lines(b)[0]["message"] == "to b"


def test_close_removes_exactly_its_sinks_and_handler(tmp_path):
    import loguru._logger

    before = set(logger._core.handlers)
    clock = loguru._logger.aware_now  # the record clock: ours replaces it while installed
    handle = setup_logging(log_path=str(tmp_path / "x.jsonl"))
    assert len(handle.sink_ids) == 2  # file + console
    handle.close()
    assert set(logger._core.handlers) == before
    assert loguru._logger.aware_now is clock
    assert not any(is_ours(h) for h in logging.getLogger().handlers)
    handle.close()  # twice is fine


def test_module_reimport_reinstalls_once(tmp_path, monkeypatch):
    """Streamlit's file watcher drops changed modules from sys.modules and imports them anew."""
    import streamlit_extension.configure as configure

    path = tmp_path / "app.jsonl"
    old = configure.setup_logging(log_path=str(path), console=False)
    monkeypatch.delitem(sys.modules, "streamlit_extension.configure")
    reloaded = importlib.import_module("streamlit_extension.configure")
    assert reloaded is not configure
    new = reloaded.setup_logging(log_path=str(path), console=False)
    assert old.closed
    assert new is not old
    assert reloaded.setup_logging(log_path=str(path), console=False) is new
    logging.getLogger("legacy").warning("once")
    logger.info("twice?")
    assert len(read_json_lines(path)) == 2
    assert sum(is_ours(h) for h in logging.getLogger().handlers) == 1


def test_environment_variables_are_the_defaults(tmp_path, monkeypatch):
    path = tmp_path / "env.jsonl"
    monkeypatch.setenv("LOG_FILE", str(path))
    monkeypatch.setenv("LOG_LEVEL", "warning")
    monkeypatch.setenv("LOG_FORMAT", "FLAT")
    monkeypatch.setenv("LOG_ROTATION", "none")
    monkeypatch.setenv("LOG_RETENTION", "3")
    monkeypatch.setenv("LOG_COMPRESSION", "")
    monkeypatch.setenv("LOG_CONSOLE", "false")
    handle = setup_logging()
    cfg = handle.config
    assert (cfg.log_path, cfg.level, cfg.json_format, cfg.rotation, cfg.retention, cfg.compression, cfg.console) == (
        str(path), "WARNING", "flat", None, 3, None, False
    )
    logger.info("dropped")
    logger.warning("kept")
    assert [r["message"] for r in read_json_lines(path)] == ["kept"]
    # An explicit argument beats the environment.
    assert setup_logging(level="INFO").config.level == "INFO"


def test_empty_log_file_env_means_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOG_FILE", "")
    handle = setup_logging(console=False)
    assert handle.log_path is None
    assert handle.sink_ids == ()
    logger.info("nowhere")
    assert not (tmp_path / "logs").exists()


def test_default_path_is_logs_app_jsonl(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    setup_logging(console=False)
    logger.info("hello")
    assert read_json_lines(tmp_path / "logs" / "app.jsonl")[0]["record"]["message"] == "hello"


def test_the_handles_repr_names_the_file_it_writes(tmp_path):
    """Per process, the file is ``app.<host>-<pid>.jsonl``: the repr said ``app.jsonl``, a file
    that doesn't exist."""
    handle = setup_logging(log_path=str(tmp_path / "app.jsonl"), per_process=True, console=False)
    logger.info("hello")
    [written] = list(tmp_path.glob("*.jsonl"))
    assert written.name != "app.jsonl"
    assert str(written.name).endswith(f"-{os.getpid()}.jsonl")
    assert repr(handle).endswith(f"file={str(written)!r}>")
    assert handle.log_path == str(tmp_path / "app.jsonl")  # the configured pattern, still there
    handle.close()
    assert repr(handle).startswith("<LoggingHandle closed ")


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"json_format": "xml"}, ["json_format", "loguru", "flat"]),
        ({"rotation": "every blue moon"}, ["rotation", "10 MB"]),
        ({"retention": "forever-ish"}, ["retention", "14 days"]),
        ({"compression": "rar"}, ["compression", "gz", "zip"]),
        ({"level": "LOUD"}, ["level", "INFO", "DEBUG"]),
        ({"level": -1}, ["level"]),
    ],
)
def test_bad_arguments_raise_a_clear_value_error(tmp_path, kwargs, names):
    with pytest.raises(ValueError, match=f"^{re.escape(names[0])}:") as caught:
        setup_logging(log_path=str(tmp_path / "x.jsonl"), **kwargs)
    message = str(caught.value)
    assert message.startswith(names[0] + ":")
    for name in names[1:]:
        assert name in message


def test_bad_console_env_value_is_named(monkeypatch):
    monkeypatch.setenv("LOG_CONSOLE", "maybe")
    with pytest.raises(ValueError, match="LOG_CONSOLE"):
        setup_logging(log_path=None)


def test_rotation_compresses_and_none_turns_features_off(tmp_path):
    path = tmp_path / "rot.jsonl"
    handle = setup_logging(log_path=str(path), rotation=2000, compression="gz", console=False)
    for i in range(100):
        logger.info("line {}", i)
    handle.close()  # waits for the background compressions
    rotated = sorted(tmp_path.glob("rot.*.jsonl.gz"))
    assert rotated, list(tmp_path.iterdir())
    count = sum(len(gzip.open(p, "rt").read().splitlines()) for p in rotated) + len(read_json_lines(path))
    assert count == 100

    plain = tmp_path / "plain.jsonl"
    handle = setup_logging(log_path=str(plain), rotation=None, retention=None, compression=None, console=False)
    logger.info("x")
    handle.close()
    setup_logging(log_path=str(plain), rotation=None, compression="gz", console=False).close()
    assert sorted(p.name for p in tmp_path.glob("plain*")) == ["plain.jsonl"]  # never gzips the live file


def test_disk_full_never_raises_and_warns_once(capsys):
    if not os.path.exists("/dev/full"):
        pytest.skip("/dev/full is not available on this system")
    handle = setup_logging(log_path="/dev/full", console=False)
    for i in range(200):
        logger.info("record {}", i)
        correlation_logger.info("op", "structured")
        logging.getLogger("legacy").warning("legacy")
    err = capsys.readouterr().err
    assert err.count("cannot write log file /dev/full") == 1
    assert "No space left on device" in err
    assert "Logging error in Loguru Handler" not in err
    assert handle.file_sink.dropped == 600


def _unwritable_dir(tmp_path):
    """A directory nobody here may create files in: chmod 500, or sysfs when running as root."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if not os.access(locked, os.W_OK):
        return locked
    if os.path.isdir("/sys"):
        return "/sys"  # sysfs refuses new files even to root
    pytest.skip("no unwritable directory available")


def test_unwritable_directory_never_raises(tmp_path, capsys):
    target = os.path.join(str(_unwritable_dir(tmp_path)), "streamlit-extension-test", "app.jsonl")
    handle = setup_logging(log_path=target, console=False)
    for _ in range(50):
        logger.info("lost")
        logging.getLogger("legacy").error("lost too")
    err = capsys.readouterr().err
    assert err.count("cannot write log file") == 1
    assert "Permission" in err or "not permitted" in err
    assert handle.file_sink.dropped == 100
    assert not os.path.exists(target)


def test_file_replaced_by_a_directory_never_raises_and_recovers(tmp_path, capsys, monkeypatch):
    """Works as root too: a directory in the file's place can't be opened for writing."""
    import streamlit_extension.sinks.files as files

    monkeypatch.setattr(files, "RETRY_SECONDS", 0.0)
    blocked = tmp_path / "logs"
    (blocked / "app.jsonl").mkdir(parents=True)
    handle = setup_logging(log_path=str(blocked / "app.jsonl"), console=False, json_format="flat")
    for _ in range(20):
        logger.info("lost")
    (blocked / "app.jsonl").rmdir()
    logger.info("back")
    handle.close()
    err = capsys.readouterr().err
    assert err.count("cannot write log file") == 1
    assert "writable again; 20 records were lost" in err
    gap, back = read_json_lines(blocked / "app.jsonl")  # the gap first: it happened before "back"
    assert back["message"] == "back"
    assert (gap["event"], gap["lost"], gap["level"]) == ("records_lost", 20, "WARNING")  # the gap is in the file too
    assert gap["lost_from"] <= gap["lost_to"] == gap["timestamp"] <= back["timestamp"]


def test_failing_patcher_step_never_raises_and_record_is_written(tmp_path, capsys):
    from streamlit_extension import context

    path = tmp_path / "app.jsonl"
    setup_logging(log_path=str(path), console=False, json_format="flat")

    class Broken:
        def fields(self):
            raise RuntimeError("ambient lookup exploded")

        def set_correlation_id(self, value):
            raise RuntimeError("ambient update exploded")

    context.set_ambient_source(Broken())
    try:
        for _ in range(3):
            logger.info("still written")
    finally:
        context.set_ambient_source(None)
    records = read_json_lines(path)
    assert [r["message"] for r in records] == ["still written"] * 3
    assert records[0]["user_id"] == "anonymous"
    assert capsys.readouterr().err.count("ambient lookup exploded") == 1


def test_app_patcher_is_chained_not_replaced(tmp_path):
    logger.configure(patcher=lambda record: record["extra"].update(app_field="kept"))
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), console=False, json_format="flat")
    logger.info("x")
    handle.close()
    logger.add(lambda m: seen.append(m.record["extra"]), level="INFO")
    seen: list = []
    logger.info("after close")
    assert read_json_lines(path)[0]["app_field"] == "kept"
    assert seen == [{"app_field": "kept"}]  # the app's patcher is back, ours is gone


@pytest.mark.parametrize(("variable", "raw", "reason"), [
    ("LOG_LEVEL", "LOUD", "expected one of TRACE, DEBUG, INFO"),
    ("LOG_FORMAT", "xml", "expected one of loguru, flat"),
    ("LOG_ROTATION", "every blue moon", "cannot use 'every blue moon'"),
    ("LOG_IP", "maybe", "expected one of 1, true"),
    ("LOG_OTEL", "sometimes", "expected one of auto, on, off"),
])
def test_a_bad_environment_variable_is_named_with_its_value(monkeypatch, variable, raw, reason):
    monkeypatch.setenv(variable, raw)
    with pytest.raises(ValueError, match="^" + re.escape(f"{variable}={raw!r}: {reason}")) as caught:
        setup_logging(log_path=None)
    assert str(caught.value).startswith(f"{variable}={raw!r}: {reason}")


def test_init_streamlit_logging_falls_back_on_each_bad_setting_in_one_call(monkeypatch, tmp_path, capsys):
    from streamlit_extension import init_streamlit_logging

    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    monkeypatch.setenv("LOG_IP", "maybe")
    handle = init_streamlit_logging(log_path=str(tmp_path / "app.jsonl"), console=False, json_format="XML")
    assert (handle.config.level, handle.config.log_ip, handle.config.json_format) == ("INFO", False, "loguru")
    said = [line for line in capsys.readouterr().err.splitlines() if "uses the default" in line]
    assert [line.split(":")[1].strip().split("=")[0] for line in said] == ["LOG_LEVEL", "json_format", "LOG_IP"]
    with pytest.raises(TypeError, match=r"^setup_logging\(\) got an unexpected keyword argument 'colour'"):
        init_streamlit_logging(colour=True)


def test_process_state_outlives_a_reimport_and_is_declared_by_its_owner(monkeypatch):
    from streamlit_extension import _report, stdlib
    from streamlit_extension._shared import shared

    monkeypatch.delitem(sys.modules, "streamlit_extension.stdlib")
    again = importlib.import_module("streamlit_extension.stdlib")
    assert again is not stdlib
    assert again._dropped is stdlib._dropped  # the first import's object, not a fresh one
    assert shared(f"{__name__}.mine", list) is shared(f"{__name__}.mine", dict)  # made once
    with pytest.raises(ValueError, match="starts with its owner's module name"):
        shared("streamlit_extension._report.throttle", dict)  # another module's key
    assert isinstance(_report._throttle, _report.Throttle)
