"""track_operation and with_correlation_logging: lifecycle, nesting, failures, sync and async."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from loguru import logger

from streamlit_extension import correlation_logger, correlation_scope, setup_logging, with_correlation_logging
from streamlit_extension.context import CorrelationIDManager

from .helpers import read_json_lines


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=False, level="DEBUG")
    yield lambda: read_json_lines(path)
    handle.close()


def test_nesting_rebuilds_the_tree(log):
    with correlation_logger.track_operation("page") as cid:
        logger.info("in page")
        with correlation_logger.track_operation("load") as inner_cid:
            logger.debug("in load")
        with correlation_logger.track_operation("save"):
            pass
    records = log()
    assert inner_cid == cid
    assert {r["correlation_id"] for r in records} == {cid}
    by_op = {}
    for r in records:
        by_op.setdefault(r["operation"], set()).add((r["operation_id"], r["parent_operation_id"]))
    ((page_id, page_parent),) = by_op["page"]
    ((load_id, load_parent),) = by_op["load"]
    ((save_id, save_parent),) = by_op["save"]
    assert page_parent is None
    assert load_parent == page_id
    assert save_parent == page_id
    assert len({page_id, load_id, save_id}) == 3
    # The plain loguru call inside carries the operation scope too.
    plain = next(r for r in records if r["message"] == "in page")
    assert plain["operation"] == "page"
    assert plain["event"] is None
    assert [r["event"] for r in records if r["operation"] == "page" and r["event"]] == ["start", "complete"]


def test_top_level_operations_are_separate_interactions(log):
    with correlation_logger.track_operation("first") as first:
        pass
    with correlation_logger.track_operation("second") as second:
        pass
    assert first != second
    assert CorrelationIDManager.get_current_correlation_id() is None
    with correlation_scope("req_shared") as shared:
        with correlation_logger.track_operation("third") as third:
            pass
    assert third == shared == "req_shared"


def test_failure_is_logged_with_traceback_and_reraised_unchanged(log):
    error = ValueError("client name is empty")

    def validate():
        raise error

    with pytest.raises(ValueError, match="client name is empty") as caught:
        with correlation_logger.track_operation("create_client", {"client_key": "c9"}):
            validate()
    assert caught.value is error
    _start, failed = log()
    assert failed["event"] == "failed"
    assert failed["level"] == "ERROR"
    assert failed["success"] is False
    assert failed["metadata"] == {"client_key": "c9"}
    assert failed["error"]["type"] == "ValueError"
    assert failed["error"]["message"] == "client name is empty"
    tb = failed["error"]["traceback"]
    assert tb.startswith("Traceback (most recent call last):")
    assert "in validate\n    raise error" in tb
    assert failed["duration_ms"] >= 0


def test_control_flow_exceptions_complete_with_outcome(log):
    class RerunException(BaseException):
        """Same name as Streamlit's; the core matches by name so it needs no streamlit import."""

    with pytest.raises(RerunException):
        with correlation_logger.track_operation("script_run"):
            raise RerunException()
    _, end = log()
    assert end["event"] == "complete"
    assert end["success"] is True
    assert end["metadata"] == {"outcome": "rerun"}


def test_sync_decorator_keeps_signature_and_logs(log):
    def original(client_data: dict) -> str:
        """Create a client."""
        logger.info("inserting")
        return client_data["client_key"]

    create_client = with_correlation_logging(
        "create_client", lambda client_data: {"client_key": client_data.get("client_key")}
    )(original)
    assert create_client.__name__ == "original"
    assert create_client.__doc__ == "Create a client."
    assert create_client.__wrapped__ is original
    assert inspect.signature(create_client) == inspect.signature(original)
    assert create_client({"client_key": "c1", "password": "x"}) == "c1"
    start, inner, complete = log()
    assert start["metadata"] == complete["metadata"] == {"client_key": "c1"}
    assert inner["operation"] == "create_client"
    # The operation's records are placed at the function that runs it, the inner line at its own.
    assert start["function"] == complete["function"] == original.__qualname__
    assert start["line"] == original.__code__.co_firstlineno
    assert inner["function"] == "original"


def test_async_decorator_tracks_the_awaited_work(log):
    @with_correlation_logging("fetch", lambda n: {"n": n})
    async def fetch(n: int) -> int:
        await asyncio.sleep(0.01)
        logger.info("fetched")
        return n * 2

    assert inspect.iscoroutinefunction(fetch)

    async def main():
        return await asyncio.gather(fetch(1), fetch(2))

    assert asyncio.run(main()) == [2, 4]
    records = [r for r in log() if r["logger"] != "asyncio"]  # asyncio's own DEBUG line is routed too
    assert len(records) == 6
    by_cid: dict[str, list] = {}
    for r in records:
        by_cid.setdefault(r["correlation_id"], []).append(r)
    assert len(by_cid) == 2  # each top-level call is its own interaction
    for group in by_cid.values():
        assert [r["event"] for r in group] == ["start", None, "complete"]
        assert group[-1]["duration_ms"] >= 10
        assert group[0]["metadata"] == group[-1]["metadata"]


def test_async_failure_is_logged(log):
    @with_correlation_logging("boom")
    async def boom():
        raise RuntimeError("nope")

    with pytest.raises(RuntimeError):
        asyncio.run(boom())
    assert log()[-1]["error"]["type"] == "RuntimeError"


def test_metadata_func_that_raises_never_breaks_the_call(log):
    @with_correlation_logging("create_project", lambda data: {"key": data["missing"]})
    def create_project(data):
        return "ok"

    assert create_project({}) == "ok"
    assert create_project({}) == "ok"
    records = log()
    warnings = [r for r in records if r["level"] == "WARNING"]
    assert len(warnings) == 1  # once, not per call
    assert warnings[0]["error"]["type"] == "KeyError"
    lifecycle = [r for r in records if r["event"]]
    assert [r["event"] for r in lifecycle] == ["start", "complete", "start", "complete"]
    assert all(r["metadata"] is None for r in lifecycle)


def test_log_operation_fields_and_unknown_kwargs(log):
    correlation_logger.log_operation("import", level="WARNING", message="slow", duration_ms=12.5, success=False,
                                     error="timeout", metadata={"rows": 3})
    correlation_logger.info("import", "extra kwargs become metadata", rows=4)
    correlation_logger.error("import", "failed", error=KeyError("k"))
    first, second, third = log()
    assert (first["level"], first["message"], first["duration_ms"], first["success"]) == (
        "WARNING", "slow", 12.5, False)
    assert first["error"] == {"type": None, "message": "timeout", "traceback": None}
    assert first["metadata"] == {"rows": 3}
    assert second["metadata"] == {"rows": 4}
    assert second["operation"] == "import"
    assert third["level"] == "ERROR"
    assert third["success"] is False
    assert third["error"]["type"] == "KeyError"


def test_unknown_level_falls_back_to_info(log, capsys):
    correlation_logger.log_operation("x", level="LOUD", message="hi")
    (record,) = log()
    assert record["level"] == "INFO"
    assert "unknown log level 'LOUD'" in capsys.readouterr().err


def test_disabled_level_builds_no_record(tmp_path):
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), level="WARNING", console=False)
    correlation_logger.info("op", "filtered")
    logger.debug("filtered")
    handle.close()
    assert path.exists() is False or path.read_text() == ""


def test_expected_exceptions_are_warnings_without_traceback_and_still_failed(log):
    class DuplicateError(ValueError):
        pass

    @with_correlation_logging("create_client", expected=DuplicateError)
    def create(key):
        if key == "dup":
            raise DuplicateError("key exists")
        if key == "boom":
            raise OSError("disk")
        return key

    for key in ("ok", "dup", "boom"):
        try:
            create(key)
        except (DuplicateError, OSError):
            pass
    with pytest.raises(DuplicateError):  # re-raised unchanged, as any failure
        with correlation_logger.track_operation("signup", expected=(DuplicateError, KeyError)):
            raise DuplicateError("taken")
    ends = [r for r in log() if r["event"] in ("complete", "failed")]
    summary = [(r["operation"], r["event"], r["level"], (r["error"] or {}).get("expected")) for r in ends]
    assert summary == [("create_client", "complete", "INFO", None), ("create_client", "failed", "WARNING", True),
                       ("create_client", "failed", "ERROR", None), ("signup", "failed", "WARNING", True)]
    refused = ends[1]
    assert refused["message"] == "create_client refused: DuplicateError"
    assert refused["success"] is False
    assert refused["error"]["traceback"] is None
    assert refused["error"]["message"] == "key exists"
    assert "Traceback" in ends[2]["error"]["traceback"]  # a real fault keeps its traceback
    with pytest.raises(TypeError, match="expected: exception classes"):
        correlation_logger.track_operation("x", expected=("ValueError",))


@with_correlation_logging("save_client", lambda key: {"client_key": key})
def save_client(key: str) -> str:
    if key == "bad":
        raise ValueError("bad key")
    return key


@pytest.mark.parametrize("json_format", ["flat", "loguru"])
def test_decorated_operations_are_placed_at_the_function_that_runs_them(tmp_path, capsys, json_format):
    """Called through a lambda (as the demo's pages do), a decorated function's operation records
    name the function, in the file and on the console, not ``<lambda>``; ``track_operation``'s
    records keep the code around the ``with``, which is what runs that operation."""
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format=json_format, console=True, level="INFO")
    try:
        call = lambda key: save_client(key)  # noqa: E731 - the caller frame a lambda gives
        call("ok")
        with pytest.raises(ValueError, match="bad key"):
            call("bad")
        with correlation_logger.track_operation("by_hand"):
            here = inspect.currentframe().f_lineno
    finally:
        handle.close()
    records = read_json_lines(path)
    if json_format == "loguru":
        records = [{**r["record"], **r["record"]["extra"], "file": r["record"]["file"]["path"]} for r in records]
    decorated = [r for r in records if r["operation"] == "save_client"]
    assert [r["event"] for r in decorated] == ["start", "complete", "start", "failed"]
    line = inspect.unwrap(save_client).__code__.co_firstlineno
    for r in decorated:
        assert (r["module"], r["function"], r["line"]) == ("test_operations", "save_client", line)
        if json_format == "loguru":
            assert (r["name"], r["file"]) == (__name__, __file__)
        else:
            assert r["logger"] == "streamlit_extension"  # the library that wrote it, as before
    by_hand = [r for r in records if r["operation"] == "by_hand"]
    assert {(r["function"], r["line"]) for r in by_hand} == {
        ("test_decorated_operations_are_placed_at_the_function_that_runs_them", here - 1)}
    console = [line for line in capsys.readouterr().err.splitlines() if "[save_client:" in line]
    assert len(console) == 4
    assert all(f" | {__name__}:save_client:{line} - " in text for text in console), console
    assert not any("<lambda>" in text for text in console)
