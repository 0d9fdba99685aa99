"""The context module on its own: correlation ids in contextvars, operation frames, the ambient
source, what an operation that ended elsewhere leaves behind, and ids that arrive malformed.

Threads and asyncio tasks are real; the ambient source is a small stand-in for a Streamlit run
(the protocol's two methods), since the module only ever talks to it through them.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import threading
from collections.abc import Mapping
from typing import Any

import pytest
from loguru import logger

from streamlit_extension import setup_logging
from streamlit_extension.context import (
    CorrelationIDManager,
    OperationFrame,
    ambient_fields,
    checked_id,
    correlation_id_var,
    correlation_scope,
    current_correlation_id,
    current_operation_id,
    live_frame,
    new_id,
    operation_var,
    reconcile_operation,
    scope_correlation_id,
    set_ambient_source,
)

from .helpers import read_json_lines

ID = re.compile(r"req_[0-9a-f]{12}")


class Run:
    """An ambient source like a Streamlit run: fixed fields and a settable correlation id."""

    def __init__(self, fields: Mapping[str, Any] | None = None, *, accept: bool = True) -> None:
        self._fields = dict(fields or {})
        self.accept = accept
        self.calls = 0

    def fields(self) -> Mapping[str, Any] | None:
        self.calls += 1
        return self._fields or None

    def set_correlation_id(self, value: str) -> bool:
        if self.accept:
            self._fields["correlation_id"] = value
        return self.accept


class Broken:
    def fields(self) -> Mapping[str, Any] | None:
        raise RuntimeError("source down")

    def set_correlation_id(self, value: str) -> bool:
        raise RuntimeError("source down")


def in_thread(function, *args):
    """``function(*args)`` in a new plain thread; its result."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(function(*args)))
    thread.start()
    thread.join()
    return result[0]


def frame(name: str = "op", parent: OperationFrame | None = None, correlation_id: str | None = None) -> OperationFrame:
    return OperationFrame(name, new_id("op"), parent, parent.operation_id if parent else None, correlation_id)


# --------------------------------------------------------------------------- ids


@pytest.mark.parametrize("prefix", ["req", "op", "x"])
def test_new_id_is_the_prefix_and_twelve_hex_digits(prefix):
    ids = {new_id(prefix) for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(rf"{prefix}_[0-9a-f]{{12}}", value) for value in ids)


@pytest.mark.parametrize("value", ["req_1", "a", "A-b_c.d:e", "x" * 128])
def test_checked_id_keeps_a_valid_id(value, capsys):
    assert checked_id(value, source="test") is value
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("value", [None, "", 42, b"req_1", "has space", "x" * 129, "evil\r\nINJECTED", "tab\t", "ü"])
def test_checked_id_replaces_anything_else_without_echoing_it(value, capsys):
    replaced = checked_id(value, source="unit-test")
    assert ID.fullmatch(replaced)
    err = capsys.readouterr().err
    assert f"invalid correlation id from unit-test (type {type(value).__name__}); using {replaced}" in err
    if isinstance(value, str) and value:
        assert value not in err


def test_checked_id_says_so_once_per_source(capsys):
    for _ in range(3):
        checked_id("bad id", source="one")
    checked_id("bad id", source="two")
    err = capsys.readouterr().err
    assert err.count("from one") == 1
    assert err.count("from two") == 1


# --------------------------------------------------------------------------- correlation_scope


def test_scope_sets_the_id_and_restores_the_previous_one():
    assert current_correlation_id() is None
    with correlation_scope("req_outer") as outer:
        assert outer == "req_outer"
        assert current_correlation_id() == "req_outer"
        with correlation_scope("req_inner"):
            assert current_correlation_id() == "req_inner"
        assert current_correlation_id() == "req_outer"
    assert current_correlation_id() is None


def test_scope_without_an_id_reuses_the_enclosing_one_or_makes_one():
    with correlation_scope() as top:
        assert ID.fullmatch(top)
        with correlation_scope() as inner:
            assert inner == top
    with correlation_scope() as another:
        assert another != top


def test_scope_is_restored_after_an_exception():
    with pytest.raises(KeyError), correlation_scope("req_failing"):
        raise KeyError("x")
    assert current_correlation_id() is None


def test_scope_replaces_an_invalid_id(capsys):
    with correlation_scope("bad\nid") as value:
        assert ID.fullmatch(value)
        assert current_correlation_id() == value
    assert "correlation_scope" in capsys.readouterr().err


# --------------------------------------------------------------------------- threads and tasks


def test_a_new_thread_starts_without_the_callers_id():
    with correlation_scope("req_main"):
        assert in_thread(current_correlation_id) is None
        copied = contextvars.copy_context()
        assert in_thread(copied.run, current_correlation_id) == "req_main"


def test_ids_set_in_threads_stay_in_their_thread():
    seen: dict[int, list] = {}
    barrier = threading.Barrier(8)

    def work(n: int) -> None:
        with correlation_scope(f"req_t{n}"):
            barrier.wait()  # all scopes open at once
            seen[n] = [current_correlation_id()]
        seen[n].append(current_correlation_id())

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {n: [f"req_t{n}", None] for n in range(8)}
    assert current_correlation_id() is None


def test_tasks_inherit_a_copy_and_their_changes_stay_inside():
    async def child(n: int) -> tuple[str | None, str | None]:
        inherited = current_correlation_id()
        CorrelationIDManager.set_correlation_id(f"req_task{n}")
        await asyncio.sleep(0)
        return inherited, current_correlation_id()

    async def main() -> tuple[list, str | None]:
        with correlation_scope("req_parent"):
            results = await asyncio.gather(*(child(n) for n in range(5)))
            return results, current_correlation_id()

    results, after = asyncio.run(main())
    assert results == [("req_parent", f"req_task{n}") for n in range(5)]
    assert after == "req_parent"


def test_scopes_in_concurrent_tasks_do_not_mix():
    async def task(n: int) -> list[str | None]:
        with correlation_scope(f"req_s{n}"):
            seen = []
            for _ in range(3):
                await asyncio.sleep(0)
                seen.append(current_correlation_id())
            return seen

    async def main() -> list:
        return await asyncio.gather(*(task(n) for n in range(4)))

    assert asyncio.run(main()) == [[f"req_s{n}"] * 3 for n in range(4)]


# --------------------------------------------------------------------------- CorrelationIDManager


def test_manager_generates_gets_sets_and_ensures():
    assert CorrelationIDManager.get_current_correlation_id() is None
    assert re.fullmatch(r"job_[0-9a-f]{12}", CorrelationIDManager.generate_correlation_id("job"))
    assert ID.fullmatch(CorrelationIDManager.generate_correlation_id())
    ensured = CorrelationIDManager.ensure_correlation_id()
    assert ID.fullmatch(ensured)
    assert CorrelationIDManager.ensure_correlation_id() == ensured
    assert CorrelationIDManager.set_correlation_id("req_set") == "req_set"
    assert CorrelationIDManager.get_current_correlation_id() == "req_set"
    assert CorrelationIDManager.ensure_correlation_id() == "req_set"


@pytest.mark.parametrize("value", [None, "", "two words", 7])
def test_manager_replaces_an_invalid_id(value, capsys):
    replaced = CorrelationIDManager.set_correlation_id(value)
    assert ID.fullmatch(replaced)
    assert current_correlation_id() == replaced
    assert "from set_correlation_id" in capsys.readouterr().err


# --------------------------------------------------------------------------- the ambient source


def test_no_source_means_no_ambient_fields():
    assert ambient_fields() is None
    assert current_operation_id() is None


def test_the_ambient_source_fills_in_what_no_scope_set():
    run = Run({"correlation_id": "req_run", "operation_id": "op_run", "session_id": "s1"})
    set_ambient_source(run)
    assert ambient_fields() == {"correlation_id": "req_run", "operation_id": "op_run", "session_id": "s1"}
    assert current_correlation_id() == "req_run"
    assert current_operation_id() == "op_run"
    with correlation_scope("req_scope"):  # an explicit scope wins
        assert current_correlation_id() == "req_scope"
    with correlation_scope() as reused:  # and one without an id joins the run's
        assert reused == "req_run"


def test_only_one_source_is_installed_and_none_removes_it():
    set_ambient_source(Run({"correlation_id": "req_a"}))
    set_ambient_source(Run({"correlation_id": "req_b"}))
    assert current_correlation_id() == "req_b"
    set_ambient_source(None)
    assert ambient_fields() is None
    assert current_correlation_id() is None


def test_inside_a_run_set_correlation_id_changes_the_run_not_the_context():
    run = Run({"correlation_id": "req_first"})
    set_ambient_source(run)
    assert CorrelationIDManager.set_correlation_id("req_second") == "req_second"
    assert correlation_id_var.get() is None  # nothing left behind for the thread's next run
    assert current_correlation_id() == "req_second"
    assert ambient_fields()["correlation_id"] == "req_second"


def test_a_run_that_refuses_the_id_leaves_it_to_the_context():
    set_ambient_source(Run({"correlation_id": "req_run"}, accept=False))
    CorrelationIDManager.set_correlation_id("req_mine")
    assert correlation_id_var.get() == "req_mine"
    assert current_correlation_id() == "req_mine"


def test_inside_a_scope_set_correlation_id_changes_the_context():
    run = Run({"correlation_id": "req_run"})
    set_ambient_source(run)
    with correlation_scope("req_scope"):
        CorrelationIDManager.set_correlation_id("req_new")
        assert correlation_id_var.get() == "req_new"
    assert ambient_fields()["correlation_id"] == "req_run"


def test_ensure_inside_a_run_returns_the_runs_id_without_setting_one():
    set_ambient_source(Run({"correlation_id": "req_run"}))
    assert CorrelationIDManager.ensure_correlation_id() == "req_run"
    assert correlation_id_var.get() is None


def test_a_failing_source_reads_as_none_with_one_notice(capsys):
    set_ambient_source(Broken())
    for _ in range(3):
        assert ambient_fields() is None
        assert current_correlation_id() is None
        assert current_operation_id() is None
    assert CorrelationIDManager.set_correlation_id("req_fallback") == "req_fallback"
    assert correlation_id_var.get() == "req_fallback"  # the failed update fell back to the context
    err = capsys.readouterr().err
    assert err.count("context lookup failed (RuntimeError: source down)") == 1
    assert err.count("context update failed (RuntimeError: source down)") == 1


def test_the_source_is_not_asked_when_a_scope_has_the_id():
    run = Run({"correlation_id": "req_run"})
    set_ambient_source(run)
    with correlation_scope("req_scope"):
        calls = run.calls
        assert current_correlation_id() == "req_scope"
        assert run.calls == calls


# --------------------------------------------------------------------------- operation frames


def test_live_frame_skips_closed_frames():
    root = frame("root")
    child = frame("child", root)
    grandchild = frame("grandchild", child)
    assert live_frame(None) is None
    assert live_frame(grandchild) is grandchild
    grandchild.closed = True
    child.closed = True
    assert live_frame(grandchild) is root
    root.closed = True
    assert live_frame(grandchild) is None


def test_current_operation_id_is_the_innermost_open_operation():
    root = frame("root")
    child = frame("child", root)
    set_ambient_source(Run({"operation_id": "op_run"}))
    token = operation_var.set(child)
    try:
        assert current_operation_id() == child.operation_id
        child.closed = True
        assert current_operation_id() == root.operation_id
        root.closed = True
        assert current_operation_id() == "op_run"  # every tracked one ended: the run's
    finally:
        operation_var.reset(token)


def test_an_operation_frame_describes_itself():
    root = frame("checkout")
    child = frame("charge", root, correlation_id="req_own")
    assert (child.name, child.parent, child.parent_operation_id, child.correlation_id) == (
        "charge", root, root.operation_id, "req_own")
    assert repr(child) == f"<OperationFrame charge {child.operation_id} open>"
    child.closed = True
    assert repr(child) == f"<OperationFrame charge {child.operation_id} closed>"
    with pytest.raises(AttributeError):
        child.extra = 1  # slots: a frame carries nothing else


# --------------------------------------------------------------- operations that ended elsewhere


def _left_behind(ended: OperationFrame) -> Any:
    """``ended`` current in this context and then closed, as a generator closed from another
    thread leaves it: its values can't be taken back here."""
    token = operation_var.set(ended)
    ended.closed = True
    return token


def test_the_values_an_ended_operation_left_give_way_to_the_open_one():
    outer = frame("outer")
    ended = frame("ended", outer)
    token = _left_behind(ended)
    try:
        extra = {"operation": "ended", "operation_id": ended.operation_id, "parent_operation_id": outer.operation_id}
        reconcile_operation(extra)
        assert extra == {"operation": "outer", "operation_id": outer.operation_id, "parent_operation_id": None}
        outer.closed = True
        reconcile_operation(extra)
        assert extra == {}  # nothing open: the run's own fields fill in
    finally:
        operation_var.reset(token)


def test_values_an_app_bound_itself_or_an_open_operation_are_kept():
    open_ = frame("open")
    token = operation_var.set(open_)
    try:
        mine = {"operation": "open", "operation_id": open_.operation_id, "parent_operation_id": None}
        reconcile_operation(mine)
        assert mine["operation_id"] == open_.operation_id
        bound = {"operation": "import", "operation_id": "op_from_the_app"}  # not one of our frames
        reconcile_operation(bound)
        assert bound == {"operation": "import", "operation_id": "op_from_the_app"}
    finally:
        operation_var.reset(token)


def test_the_interaction_an_ended_operation_opened_is_not_current():
    ended = frame("ended", correlation_id=new_id("req"))
    set_ambient_source(Run({"correlation_id": "req_run"}))
    op_token = _left_behind(ended)
    token = correlation_id_var.set(ended.correlation_id)
    try:
        assert scope_correlation_id() is None
        assert current_correlation_id() == "req_run"
        set_ambient_source(None)
        assert current_correlation_id() is None
        ended.closed = False  # while it is open, its interaction is current
        assert current_correlation_id() == ended.correlation_id
    finally:
        correlation_id_var.reset(token)
        operation_var.reset(op_token)


@pytest.mark.parametrize("value", [None, 42, ["op_1"], {"id": 1}, {1, 2}, b"op"])
def test_any_bound_operation_id_is_safe_to_reconcile(value):
    # The patcher reconciles whatever an app bound as operation_id.
    token = _left_behind(frame("ended"))
    try:
        extra = {"operation_id": value}
        reconcile_operation(extra)
        assert extra == {"operation_id": value}
    finally:
        operation_var.reset(token)


def test_a_record_with_an_odd_operation_id_keeps_its_correlation_fields(tmp_path, capsys):
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=False)
    with correlation_scope("req_odd"):
        logger.bind(operation_id=["not", "an", "id"]).info("odd")
    handle.close()
    (record,) = read_json_lines(path)
    assert (record["correlation_id"], record["user_id"]) == ("req_odd", "anonymous")
    assert "patcher step failed" not in capsys.readouterr().err
