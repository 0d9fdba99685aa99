"""One Streamlit script run = one interaction: its correlation id, identity and lifecycle.

Streamlit gives Python no per-run id, so a run is recognised (see ``compat``): by the fresh
``ctx.cursors`` every run gets, else by the runner's start event, else by the end of the
previous run. A run starts from the runner's start event or from the installation (the app's
``setup_logging()`` at the top of the script): a ``RunState`` (a new ``req_`` id), its span and
its ``script_run`` start record. When a record arrives first (an app that set up logging once,
in another module), the patcher only reads the new run's fields; its start record and span are
made just after, by a small announcer thread, timed at the moment the run was found. The
runner's finish event, or failing that the script thread's exit, writes ``complete`` or
``failed``. Everything is read from the script-run context of the current thread, so nothing
warns in bare mode or in foreign threads.
"""

from __future__ import annotations

import functools
import queue
import threading
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from loguru import logger

from .. import _report
from .._shared import shared
from ..context import interaction_ended, new_id
from ..errors import error_context
from ..otel import tracing as otel_tracing
from ..pseudonyms import user_id_of
from ..schema import ANONYMOUS, RUN_OPERATION
from ..validators import is_valid_id
from . import compat
from .identity import Traceparent, incoming_traceparent, request_fields, user_from_info

RUN_ATTR = "_streamlit_extension_run"

# In a worker thread started through ``threads``: the page's fields, frozen at submit time.
@dataclass(eq=False)
class _Runs:
    """This module's process state (kept across a re-import by Streamlit's file watcher)."""

    log_client_ip: bool = False  # the installation's log_ip: add client_ip to records
    carried_fields: ContextVar[Mapping[str, Any] | None] = field(
        default_factory=lambda: ContextVar("streamlit_extension_carried", default=None))
    create_lock: threading.Lock = field(default_factory=threading.Lock)  # one RunState per run
    watcher: compat.ThreadWatcher = field(default_factory=compat.ThreadWatcher)  # run ends without runner events
    announcer: Any = None  # the Announcer, made below
    connections: dict[str, Connection] = field(default_factory=dict)  # handshake fields, per session


_runs: _Runs = shared(f"{__name__}.runs", _Runs)
carried_fields = _runs.carried_fields
_create_lock = _runs.create_lock
_watcher = _runs.watcher


def set_log_client_ip(on: bool) -> None:
    """The installation's ``log_ip``: add the client's network to every record of a run."""
    _runs.log_client_ip = on

# A failure we know happened but whose exception Streamlit didn't hand us.
_UNKNOWN_FAILURE = {"type": None, "message": "uncaught exception (details not available from this Streamlit)",
                    "traceback": None}


class RunState:
    """What we know about one script run."""

    __slots__ = (
        "__weakref__",
        "_cache",
        "announced",
        "base",
        "begun_at",
        "connection",
        "correlation_id",
        "failure",
        "finished",
        "marker",
        "operation_id",
        "page",
        "page_key",
        "replaces",
        "span",
        "span_thread",
        "span_token",
        "started",
        "thread",
        "user_id",
    )

    def __init__(self, ctx: Any) -> None:
        self.marker = compat.run_marker(ctx)
        self.thread = threading.current_thread()
        self.correlation_id = new_id("req")
        self.operation_id = new_id("op")
        self.started = time.perf_counter_ns()  # with begun_at, the one pair of clock readings for span and record
        self.begun_at = time.time_ns()  # the start record's time, whenever it is written
        self.announced = False  # its start record and span are made
        self.replaces: RunState | None = None  # the run before it in this context, ended when this one starts
        self.page_key: Any = object()
        self.page: str | None = None
        # Claims don't change within a run; reading st.user per record would cost a copy each.
        self.user_id = user_from_info(compat.user_info(ctx))
        self.failure: dict | None = None
        self.finished = False
        self.connection = _connection(ctx)
        self.base = {
            "operation": RUN_OPERATION,
            "operation_id": self.operation_id,
            "parent_operation_id": None,
            **self.connection.fields,
        }
        self.span: Any = None
        self.span_token: Any = None
        self.span_thread: threading.Thread | None = None  # where the span is current
        # (session-state token, page key, correlation id, fields): see ``fields``.
        self._cache: tuple | None = None

    def is_current(self, ctx: Any) -> bool:
        """Is ``ctx`` still in this run?"""
        if self.marker is not None:
            return self.marker is compat.run_marker(ctx)
        # No run marker: a run lasts until its end is seen, and its script thread's later lines
        # (our own end record among them) stay with it until a start event says otherwise.
        return not self.finished or threading.current_thread() is self.thread

    def page_name(self, ctx: Any, key: Any = None) -> str | None:
        if key is None:
            key = compat.page_key(ctx)
        if key != self.page_key:
            self.page_key = key
            # Once the run's page is known (st.navigation chose it) it stays, also after the
            # page's script returned to the main one.
            self.page = compat.page_name(ctx) or (self.page if self.page is not None else compat.script_name(ctx))
        return self.page

    def fields(self, ctx: Any) -> Mapping[str, Any]:
        """The run's ambient fields (read-only), built again only when what they are made of may
        have changed: the app's ``session_id``/``user_id`` in session state (a sign-in mid-run),
        the page (``st.navigation``), the correlation id (``set_correlation_id``). The rest is
        fixed for the run, and a new run is a new ``RunState``."""
        state = compat.session_state_token(ctx, _IDENTITY_KEYS)
        page_key = compat.page_key(ctx)
        correlation_id = self.correlation_id
        cache = self._cache
        if (cache is not None and state is not None and cache[0] == state and cache[1] == page_key
                and cache[2] is correlation_id):
            return cache[3]
        values = compat.try_peek_session_state(ctx, _IDENTITY_KEYS)
        session_id, user_id = _identity(ctx, values or {}, self.user_id)
        fields = MappingProxyType({
            "correlation_id": correlation_id,
            "session_id": session_id,
            "user_id": user_id,
            "page": self.page_name(ctx, page_key),
            **self.base,
        })
        # One assignment, so another thread of the run reads a whole entry. Not kept when the
        # values are unknown (the state's lock was busy) or can't be told apart cheaply.
        self._cache = (state, page_key, correlation_id, fields) if state is not None and values is not None else None
        return fields


class Connection(NamedTuple):
    """What the websocket handshake said, fixed for the connection's life."""

    fields: dict[str, str]  # request_id, trace_id, client_ip: on every record of the session
    traceparent: Traceparent | None  # the caller's trace: a span link of every run


_CONNECTIONS_LIMIT = 4096


def _connection(ctx: Any) -> Connection:
    """Per session, cached."""
    connections = _runs.connections
    connection = connections.get(ctx.session_id)
    if connection is None:
        connection = _read_connection(ctx)
        if len(connections) >= _CONNECTIONS_LIMIT:
            connections.clear()
        connections[ctx.session_id] = connection
    return connection


def _read_connection(ctx: Any) -> Connection:
    """``request_id``/``trace_id`` from the websocket handshake, and ``client_ip`` when IP
    logging is on (the patcher truncates it to its network)."""
    try:
        headers = compat.request_headers(ctx)
        fields = request_fields(headers)
        if _runs.log_client_ip:
            address = compat.client_address(ctx)
            if address:
                fields["client_ip"] = address
        return Connection(fields, incoming_traceparent(headers))
    except Exception as exc:  # the ids of the run matter more than the connection's
        _report.notice_once("connection-fields", f"could not read the connection's headers ({_report.describe(exc)})")
        return Connection({}, None)


_IDENTITY_KEYS = ("session_id", "user_id")


def _identity(ctx: Any, values: Mapping[str, Any], info_user_id: str | None) -> tuple[str, str]:
    """``session_id`` and ``user_id`` from the app's session-state ``values`` (``_IDENTITY_KEYS``)."""
    app_session = values.get("session_id")
    session_id = ctx.session_id
    if app_session is not None:
        if is_valid_id(app_session):
            session_id = app_session
        else:  # never echoed: it may carry CR/LF, escapes or 10 KB of text
            _report.notice_once("bad-session-id", "ignored an invalid session_id in session state; using Streamlit's")
    user_id = user_id_of(values.get("user_id")) or info_user_id or ANONYMOUS
    return session_id, user_id


_building = threading.local()


def current_run(ctx: Any) -> RunState | None:
    """The RunState of ``ctx``'s current run, started (start record, span) if the run is new.
    Not for the patcher: see ``found_run``."""
    run = found_run(ctx, announce=False)
    if run is not None:
        _announce(run, ctx)
        settle(run, ctx)
    return run


def found_run(ctx: Any, *, announce: bool = True) -> RunState | None:
    """The RunState of ``ctx``'s current run. A new run is begun here (its ids, read from the
    context, and the hooks that tell its end); from the patcher (``announce``), its start
    record and span are left to the announcer, which writes them after the record that found
    it. None only for a record logged while a run's own identity is being read (st.user or
    st.context may log), which would otherwise recurse."""
    run = compat.tag(ctx, RUN_ATTR)
    if run is not None and run.is_current(ctx):
        return run
    if getattr(_building, "active", False):
        return None
    run = _begin(ctx)
    if announce and not run.announced:
        _announcer.submit(run, ctx)
    return run


def _begin(ctx: Any, *, force: bool = False) -> RunState:
    """The RunState for ``ctx``'s new run (``force``: end the current one; a start event without
    a marker), hooked to hear of its end. No record is written here."""
    _building.active = True
    try:
        fresh = RunState(ctx)
    finally:
        _building.active = False
    with _create_lock:
        previous = compat.tag(ctx, RUN_ATTR)
        if not force and previous is not None and previous.is_current(ctx):
            return previous  # another thread of this run got here first
        fresh.replaces = previous
        compat.set_tag(ctx, RUN_ATTR, fresh)
    _hook(ctx, fresh)
    return fresh


def _start(ctx: Any, *, force: bool = False) -> RunState:
    """Start a run for ``ctx`` now, in its script thread (the runner's start event)."""
    run = _begin(ctx, force=force)
    _announce(run, ctx)
    settle(run, ctx)
    return run


def _announce(run: RunState, ctx: Any) -> None:
    """The run's span and start record, once, from whichever thread gets here first; the run it
    replaced ends as ``superseded`` first."""
    with _create_lock:
        if run.announced:
            return
        run.announced = True
        previous, run.replaces = run.replaces, None
    if previous is not None and not previous.finished:
        _finish(previous, ctx, None, outcome="superseded")
    _start_span(run, ctx)
    tracing = otel_tracing.active() if run.span is not None else None
    if tracing is None or threading.current_thread() is run.thread:
        _attach_span(run)  # in the script thread: current from here on
        _emit(run, ctx, "INFO", "script_run started", "start", None, True, None, at=run.begun_at)
        return
    token = tracing.attach(run.span, run.correlation_id)  # elsewhere: current for this record only
    try:
        _emit(run, ctx, "INFO", "script_run started", "start", None, True, None, at=run.begun_at)
    finally:
        tracing.detach(token)


def _attach_span(run: RunState) -> None:
    """Make the run's span current in its script thread (the current one), once."""
    if run.span is not None and run.span_thread is None and threading.current_thread() is run.thread:
        tracing = otel_tracing.active()
        if tracing is not None:
            run.span_token, run.span_thread = tracing.attach(run.span, run.correlation_id), run.thread


def settle(run: RunState, ctx: Any) -> None:
    """In the run's script thread, outside any logging call: make the run's span current here
    (when it was started elsewhere) and show a message that waited for the page's config."""
    _attach_span(run)
    if compat.tag(ctx, _PENDING_ERROR) is not None:
        _show_pending(ctx)


ANNOUNCE_DELAY = 0.002  # s


class Announcer:
    """Writes the start record and span of runs the patcher found, just after the record that
    found them, from a daemon thread of its own (loguru calls sinks inside the patcher's call)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[RunState, Any]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, run: RunState, ctx: Any) -> None:
        self._queue.put((run, ctx))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="streamlit_extension:run-start",
                                                daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            run, ctx = self._queue.get()
            time.sleep(ANNOUNCE_DELAY)  # let the record that found the run reach the sinks first
            try:
                _announce(run, ctx)
            except Exception as exc:
                _report.notice_once("run-start", f"a run's start could not be logged ({_report.describe(exc)})")


if _runs.announcer is None:
    _runs.announcer = Announcer()
_announcer: Announcer = _runs.announcer


def _start_span(run: RunState, ctx: Any) -> None:
    """The run's root span (OpenTelemetry on), current in this thread until the run ends."""
    tracing = otel_tracing.active()
    if tracing is None:
        return
    fields = run.fields(ctx)
    caller = run.connection.traceparent
    links = [otel_tracing.remote_link(*caller)] if caller is not None else []
    run.span = tracing.start(f"{RUN_OPERATION} {fields.get('page') or ''}".rstrip(), {
        "session.id": fields.get("session_id"), "enduser.pseudo.id": fields.get("user_id"),
        "correlation_id": run.correlation_id, "page": fields.get("page"),
    }, links, root=True, start_time=run.begun_at)


def _end_span(run: RunState, ctx: Any, error: dict | None, end_ns: int | None = None) -> None:
    tracing = otel_tracing.active()
    if run.span is None or tracing is None:
        return
    page = run.page_name(ctx)  # st.navigation picks the page after the run (and its span) began
    if page:
        tracing.rename(run.span, f"{RUN_OPERATION} {page}", page=page)
    tracing.end(run.span, error, end_time=end_ns)
    if run.span_thread is not None and threading.current_thread() is run.span_thread:  # else its context is gone
        tracing.detach(run.span_token)


def _metadata(run: RunState, ctx: Any, outcome: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"page": run.page_name(ctx)}
    if outcome:
        metadata["outcome"] = outcome
    return metadata


def _emit(run: RunState, ctx: Any, level: str, message: str, event: str, duration_ms: float | None,
          success: bool, error: dict | None, outcome: str | None = None, at: int | None = None) -> None:
    """One ``script_run`` record; ``at`` (ns since the epoch): its time, when it is written later."""
    try:
        fields = {
            **run.fields(ctx),
            "event": event,
            "duration_ms": duration_ms,
            "success": success,
            "metadata": _metadata(run, ctx, outcome),
            "error": error,
            "logger_name": "streamlit_extension.run",
        }
        bound = logger.bind(**fields)
        if at is not None:
            bound = bound.patch(functools.partial(_timed, at))
        bound.log(level, message)
    except Exception as exc:
        _report.notice_once("run-emit", f"a script_run record failed ({_report.describe(exc)})")


def _timed(at: int, record: Any) -> None:
    record["time"] = record["time"].fromtimestamp(at / 1e9, tz=record["time"].tzinfo)


def _finish(run: RunState, ctx: Any, event_name: str | None, outcome: str | None = None,
            exception: BaseException | None = None) -> None:
    _announce(run, ctx)  # a run found by a record and ended before the announcer wrote its start
    with _create_lock:  # the runner's event and the thread watcher may both get here
        if run.finished:
            return
        run.finished = True
    elapsed_ns = time.perf_counter_ns() - run.started
    duration_ms = round(elapsed_ns / 1e6, 3)
    end_ns = run.begun_at + elapsed_ns  # the span lasts exactly duration_ms
    failure = run.failure or (error_context(exception) if exception is not None else None)
    if failure is None and outcome is None and not compat.available("uncaught_errors") and compat.run_error_flag(ctx):
        failure = dict(_UNKNOWN_FAILURE)
    if failure is not None:
        name = failure.get("type") or "error"
        _emit(run, ctx, "ERROR", f"script_run failed: {name}", "failed", duration_ms, False, failure)
        _end_span(run, ctx, failure, end_ns)
        interaction_ended(run.correlation_id)
        return
    if outcome is None:
        if event_name == "SCRIPT_STOPPED_FOR_RERUN":
            outcome = "rerun"
        elif compat.stop_requested(ctx):
            outcome = "stop"
    message = f"script_run completed ({outcome})" if outcome else "script_run completed"
    _emit(run, ctx, "INFO", message, "complete", duration_ms, True, None, outcome)
    _end_span(run, ctx, None, end_ns)
    # Told here, not read from the end record: a failure context above INFO never sees that record.
    interaction_ended(run.correlation_id)


_END_EVENTS = frozenset({
    "SCRIPT_STOPPED_WITH_SUCCESS", "SCRIPT_STOPPED_FOR_RERUN", "SCRIPT_STOPPED_WITH_COMPILE_ERROR",
    "FRAGMENT_STOPPED_WITH_SUCCESS",
})


def _on_runner_event(sender: Any, event: Any = None, **payload: Any) -> None:
    """Receiver on the runner's ``on_event``; runs in the script thread and must never raise."""
    try:
        name = getattr(event, "name", None)
        if name != "SCRIPT_STARTED" and name not in _END_EVENTS:
            return
        ctx = compat.script_run_ctx()
        if ctx is None:
            return
        run = compat.tag(ctx, RUN_ATTR)
        if name == "SCRIPT_STARTED":
            # Without a run marker this event is the only sign of a new run.
            _start(ctx, force=True) if run is not None and run.marker is None else current_run(ctx)
            return
        if run is not None and run.is_current(ctx):
            if compat.tag(ctx, _PENDING_ERROR) is not None:  # the page is still the run's: last chance
                _show_pending(ctx)
            _finish(run, ctx, name, exception=payload.get("exception"))
    except Exception as exc:
        _report.notice_once("runner-event", f"script_run tracking failed ({_report.describe(exc)})")


def _on_uncaught(ctx: Any, exc: BaseException) -> None:
    run = compat.tag(ctx, RUN_ATTR)
    if run is not None and run.is_current(ctx):
        run.failure = error_context(exc)


def _hook(ctx: Any, run: RunState) -> None:
    """Hear about this run's end and its uncaught exception, by whatever this Streamlit has."""
    compat.hook_uncaught_errors(ctx, _on_uncaught)
    compat.hook_error_display(_on_error_shown)
    if compat.runner_events(_on_runner_event, run.thread):
        return
    _watcher.watch(run.thread, lambda: _finish(run, ctx, None))


# Under Streamlit's error, in both client.showErrorDetails modes: what the user can quote.
REFERENCE_NOTE = "Reference: `{}` (quote it when you report this error)"


def _on_error_shown(ctx: Any, exc: BaseException) -> None:
    """Right after Streamlit showed the run's uncaught exception, in the same container: the
    run's correlation id, the one its ``script_run failed`` record carries. The exception is
    kept here too if the run was found too late for its error hook (a fragment rerun whose
    first record is Streamlit's own error line)."""
    run = found_run(ctx)  # not current_run: its settle() could put a pending message in between
    if run is None:
        return
    if run.failure is None:
        run.failure = error_context(exc)
    import streamlit as st

    st.caption(REFERENCE_NOTE.format(run.correlation_id))


_PENDING_ERROR = "_streamlit_extension_pending_error"


def show_error(message: str) -> None:
    """One ``st.error`` on the page; never raises."""
    try:
        import streamlit as st

        st.error(message)
    except Exception:
        pass


def show_later(ctx: Any, message: str) -> None:
    """Show ``message`` once the app's ``st.set_page_config`` is no longer ahead: at the run's
    next tracked operation (``settle``), or at the latest as the run ends (the runner's event,
    still in the script thread); never from inside a logging call."""
    compat.set_tag(ctx, _PENDING_ERROR, message)


_pending_lock = threading.Lock()


def _show_pending(ctx: Any) -> None:
    with _pending_lock:  # settle() and the watching thread: one of them shows it
        message = compat.tag(ctx, _PENDING_ERROR)
        if message is None or compat.page_config_still_to_come(ctx):
            return
        compat.set_tag(ctx, _PENDING_ERROR, None)
    show_error(message)


class StreamlitRunSource:
    """The ambient source (see ``context``) backed by the current script run."""

    def fields(self) -> Mapping[str, Any] | None:
        carried = carried_fields.get()
        if carried is not None:
            return carried
        ctx = compat.script_run_ctx()
        if ctx is None:
            return None
        run = found_run(ctx)  # called from the patcher: reads, writes nothing
        return run.fields(ctx) if run is not None else None

    def settle(self) -> None:
        """Outside any logging call, in a script thread: finish what a run found by a record
        still has to do here (see ``settle``)."""
        ctx = compat.script_run_ctx()
        run = compat.tag(ctx, RUN_ATTR) if ctx is not None else None
        if run is not None and run.is_current(ctx):
            settle(run, ctx)

    def set_correlation_id(self, value: str) -> bool:
        ctx = compat.script_run_ctx()
        if ctx is None or carried_fields.get() is not None:
            return False
        run = current_run(ctx)
        if run is None:
            return False
        run.correlation_id = value
        return True
