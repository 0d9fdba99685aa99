"""Legacy ``logging.getLogger(...)`` calls routed through the same sink, once."""

from __future__ import annotations

import logging
import re

import pytest
from loguru import logger

from streamlit_extension import correlation_scope, setup_logging
from streamlit_extension.stdlib import InterceptHandler, is_ours

from .helpers import read_json_lines


@pytest.fixture
def path(tmp_path):
    return tmp_path / "app.jsonl"


def legacy_call():
    logging.getLogger("legacy.module").warning("x %s", 1, extra={"client_id": 5})


def test_intercepted_record_has_caller_name_extra_and_correlation(path):
    handle = setup_logging(log_path=str(path), json_format="flat", console=False)
    with correlation_scope("req_legacy00001"):
        legacy_call()
    handle.close()
    (record,) = read_json_lines(path)
    assert record["message"] == "x 1"
    assert record["level"] == "WARNING"
    assert record["logger"] == "legacy.module"
    assert record["function"] == "legacy_call"
    assert record["line"] == legacy_call.__code__.co_firstlineno + 1
    assert record["module"] == "test_stdlib"
    assert record["client_id"] == 5
    assert record["correlation_id"] == "req_legacy00001"


def test_loguru_format_names_the_stdlib_logger(path):
    handle = setup_logging(log_path=str(path), console=False)
    legacy_call()
    handle.close()
    (line,) = read_json_lines(path)
    assert line["record"]["extra"]["logger_name"] == "legacy.module"
    assert line["record"]["function"] == "legacy_call"


def test_exc_info_is_kept_as_the_exception(path):
    handle = setup_logging(log_path=str(path), console=False)
    try:
        raise OSError("disk")
    except OSError:
        logging.getLogger("legacy").error("failed", exc_info=True)
    handle.close()
    (line,) = read_json_lines(path)
    assert line["record"]["exception"]["type"] == "OSError"
    assert line["record"]["extra"]["error"]["message"] == "disk"
    assert "raise OSError(\"disk\")" in line["record"]["extra"]["error"]["traceback"]


def test_repeated_setup_routes_each_record_once(path):
    for _ in range(5):
        setup_logging(log_path=str(path), console=False)
    legacy_call()
    logger.info("loguru once")
    assert sum(is_ours(h) for h in logging.getLogger().handlers) == 1
    assert len(read_json_lines(path)) == 2


def test_root_level_defaults_to_info_not_zero(path):
    handle = setup_logging(log_path=str(path), console=False)
    assert logging.getLogger().level == logging.INFO
    logging.getLogger("noisy").debug("not wanted")
    logging.getLogger("useful").info("wanted")
    handle.close()
    assert [r["record"]["message"] for r in read_json_lines(path)] == ["wanted"]
    assert logging.getLogger().level == logging.WARNING  # restored by close()


def test_caplog_still_sees_legacy_records(path, caplog):
    setup_logging(log_path=str(path), console=False)
    with caplog.at_level(logging.INFO):
        logging.getLogger("legacy").info("seen by caplog")
    assert "seen by caplog" in caplog.text
    assert read_json_lines(path)[0]["record"]["message"] == "seen by caplog"


def test_sink_that_logs_through_stdlib_does_not_loop_or_deadlock(path, capsys):
    setup_logging(log_path=str(path), console=False)
    calls = []

    def chatty_sink(message):
        calls.append(message)
        logging.getLogger("inside.sink").warning("logging from a sink")

    logger.add(chatty_sink, level="INFO")
    logging.getLogger("outer").warning("outer record")
    # The sink's record is written after the one it interrupted; its own write would log the
    # same line again, which is the loop: cut there, and counted.
    assert len(calls) == 2
    assert [r["record"]["message"] for r in read_json_lines(path)] == ["outer record", "logging from a sink"]
    err = capsys.readouterr().err
    assert "deadlock" not in err
    assert re.search(r"dropped \d+ stdlib records logged while being written", err)


def test_bad_format_args_do_not_lose_the_line(path):
    setup_logging(log_path=str(path), console=False, json_format="flat")
    # pytest's own capture handler re-raises formatting errors, so keep it out of this one.
    legacy = logging.getLogger("legacy.badargs")
    legacy.propagate = False
    (ours,) = [h for h in logging.getLogger().handlers if is_ours(h)]
    legacy.addHandler(ours)
    try:
        legacy.warning("two %s %s", "only-one")
    finally:
        legacy.removeHandler(ours)
        legacy.propagate = True
    (record,) = read_json_lines(path)
    assert "two %s %s" in record["message"]
    assert "only-one" in record["message"]


def test_intercept_can_be_turned_off(path):
    setup_logging(log_path=str(path), console=False, intercept_stdlib=False)
    assert not any(is_ours(h) for h in logging.getLogger().handlers)


def test_handler_class_is_public_and_usable_by_hand(path):
    logger.add(str(path), serialize=True)
    root = logging.getLogger()
    handler = InterceptHandler()
    root.addHandler(handler)
    try:
        logging.getLogger("manual").error("by hand")
    finally:
        root.removeHandler(handler)
    assert read_json_lines(path)[0]["record"]["message"] == "by hand"


def test_static_and_health_check_access_lines_are_debug_lines(tmp_path):
    """What uvicorn logs for each request: the app's requests stay at INFO, its files go to DEBUG."""
    from streamlit_extension.integration.loggers import route_server_loggers

    access = logging.getLogger("uvicorn.access")
    route_server_loggers()
    for level, expected in (("INFO", ["/", "/_stcore/stream"]),
                            ("DEBUG", ["/", "/static/js/index.js", "/_stcore/health", "/favicon.png",
                                       "/_stcore/stream"])):
        path = tmp_path / f"{level}.jsonl"
        handle = setup_logging(log_path=str(path), json_format="flat", console=False, level=level)
        for url in ("/", "/static/js/index.js", "/_stcore/health", "/favicon.png", "/_stcore/stream"):
            access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", url, "1.1", 200)
        handle.close()
        assert [r["message"].split()[3] for r in read_json_lines(path)] == expected, level


def test_a_page_loads_routine_server_lines_are_debug_under_any_page_prefix(tmp_path):
    """Each web server's lines as it logs them: the request for a page stays INFO; the browser's
    probes under the page's prefix (found or not), files under any prefix, and the websocket's
    accept, open and close are DEBUG. Tornado (Streamlit to 1.56, in development mode) the same.
    A refused websocket, a server's own news and a server error keep their level."""
    from streamlit_extension.integration.loggers import route_server_loggers

    route_server_loggers()
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=False, level="DEBUG")
    access, error, tornado = (logging.getLogger(name) for name in ("uvicorn.access", "uvicorn.error",
                                                                    "tornado.access"))
    for url, status in (("/clients", 200), ("/clients/_stcore/health", 404), ("/clients/_stcore/host-config", 404),
                        ("/base/_stcore/health", 200), ("/log_explorer/static/js/index.js", 200),
                        ("/app/static/report.pdf", 200), ("/_stcore/upload_file/s1/f1", 204)):
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", url, "1.1", status)
    error.info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5000", "/_stcore/stream")
    error.info("connection open")
    error.info("connection closed")
    error.info('%s - "WebSocket %s" 403', "127.0.0.1:5000", "/_stcore/stream")
    error.info("Application startup complete.")
    tornado.info("%d %s %.2fms", 200, "GET /clients (127.0.0.1)", 1.0)
    tornado.warning("%d %s %.2fms", 404, "GET /clients/_stcore/host-config (127.0.0.1)", 1.0)
    tornado.info("%d %s %.2fms", 101, "GET /_stcore/stream (127.0.0.1)", 1.0)
    tornado.error("%d %s %.2fms", 500, "GET /_stcore/health (127.0.0.1)", 1.0)
    handle.close()
    levels = [(r["level"], r["message"].replace("[IP]:5000 - ", "")) for r in read_json_lines(path)
              if r["logger"] in ("uvicorn.access", "uvicorn.error", "tornado.access")]
    assert levels == [
        ("INFO", '"GET /clients HTTP/1.1" 200'),
        ("DEBUG", '"GET /clients/_stcore/health HTTP/1.1" 404'),
        ("DEBUG", '"GET /clients/_stcore/host-config HTTP/1.1" 404'),
        ("DEBUG", '"GET /base/_stcore/health HTTP/1.1" 200'),
        ("DEBUG", '"GET /log_explorer/static/js/index.js HTTP/1.1" 200'),
        ("DEBUG", '"GET /app/static/report.pdf HTTP/1.1" 200'),
        ("INFO", '"GET /_stcore/upload_file/s1/f1 HTTP/1.1" 204'),  # a user's upload is news
        ("DEBUG", '"WebSocket /_stcore/stream" [accepted]'),
        ("DEBUG", "connection open"),
        ("DEBUG", "connection closed"),
        ("INFO", '"WebSocket /_stcore/stream" 403'),
        ("INFO", "Application startup complete."),
        ("INFO", "200 GET /clients ([IP]) 1.00ms"),
        ("DEBUG", "404 GET /clients/_stcore/host-config ([IP]) 1.00ms"),
        ("DEBUG", "101 GET /_stcore/stream ([IP]) 1.00ms"),
        ("ERROR", "500 GET /_stcore/health ([IP]) 1.00ms"),
    ]
