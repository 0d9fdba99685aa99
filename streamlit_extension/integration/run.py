"""One Streamlit script run = one interaction: its correlation id, identity and lifecycle.

Streamlit gives Python no per-run id, but ``ctx.reset()`` gives every run (reruns and fragment
reruns included) a fresh ``ctx.cursors`` dict. The first record of a run that finds a new
``cursors`` object starts a ``RunState`` (a new ``req_`` id and a ``script_run`` start record);
the runner's finish event writes ``complete`` or ``failed``. Everything is read from
``get_script_run_ctx(suppress_warning=True)``, never from ``st.session_state``/``st.user``,
which warn in bare mode and in foreign threads.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from contextvars import ContextVar
from typing import Any, Mapping, Optional

from loguru import logger
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from .. import _report, _state
from ..context import new_id
from ..errors import error_context
from ..validators import is_valid_id
from .identity import app_user_id, request_fields, user_from_info

RUN_ATTR = "_streamlit_extension_run"
HOOKED_ATTR = "_streamlit_extension_hooked"
OPERATION = "script_run"
_ANONYMOUS = "anonymous"
_STATE_LOCK_TIMEOUT = 0.05

# In a worker thread started through ``threads``: the page's fields, frozen at submit time.
carried_fields: ContextVar[Optional[Mapping[str, Any]]] = _state.persistent(
    "carried_fields", lambda: ContextVar("streamlit_extension_carried", default=None)
)
_create_lock = _state.persistent("run_create_lock", threading.Lock)


class RunState:
    """What we know about one script run."""

    __slots__ = ("cursors", "correlation_id", "operation_id", "started", "base", "page_hash", "page",
                 "failure", "finished", "__weakref__")

    def __init__(self, ctx: Any) -> None:
        self.cursors = ctx.cursors
        self.correlation_id = new_id("req")
        self.operation_id = new_id("op")
        self.started = time.perf_counter()
        self.page_hash: Optional[str] = None
        self.page: Optional[str] = None
        self.failure: Optional[dict] = None
        self.finished = False
        self.base = {
            "operation": OPERATION,
            "operation_id": self.operation_id,
            "parent_operation_id": None,
            **_connection_fields(ctx.session_id),
        }

    def page_name(self, ctx: Any) -> Optional[str]:
        page_hash = ctx.page_script_hash
        if page_hash != self.page_hash:
            info = ctx.pages_manager.get_pages().get(page_hash) or {}
            # A single-page app has no page name: call it after its script, as Streamlit does.
            name = info.get("page_name") or Path(ctx.main_script_path).stem
            self.page_hash, self.page = page_hash, name or None
        return self.page

    def fields(self, ctx: Any) -> dict[str, Any]:
        session_id, user_id = _identity(ctx)
        return {
            "correlation_id": self.correlation_id,
            "session_id": session_id,
            "user_id": user_id,
            "page": self.page_name(ctx),
            **self.base,
        }


_connections: dict[str, dict[str, str]] = {}
_CONNECTIONS_LIMIT = 4096


def _connection_fields(session_id: str) -> dict[str, str]:
    """Per session, cached: the handshake headers are fixed for the connection's life."""
    fields = _connections.get(session_id)
    if fields is None:
        fields = _read_connection_fields(session_id)
        if len(_connections) >= _CONNECTIONS_LIMIT:
            _connections.clear()
        _connections[session_id] = fields
    return fields


def _read_connection_fields(session_id: str) -> dict[str, str]:
    """``request_id``/``trace_id`` from the websocket handshake, and ``client_ip`` when IP
    logging is on (the patcher truncates it to its network)."""
    if not runtime.exists():
        return {}
    client = runtime.get_instance().get_client(session_id)
    context = getattr(client, "client_context", None)
    fields = request_fields(getattr(context, "headers", None) or ())
    config = getattr(_state.get("setup"), "config", None)
    remote_ip = getattr(context, "remote_ip", None)
    if getattr(config, "log_ip", False) and isinstance(remote_ip, str):
        fields["client_ip"] = remote_ip
    return fields


def _session_values(ctx: Any) -> tuple[Any, Any]:
    """``session_id``/``user_id`` the app put in session state, read without side effects.

    ``SafeSessionState.__getitem__`` runs Streamlit's yield callback, which can raise
    Rerun/StopException into whoever reads; the inner state under its lock cannot.
    """
    safe = ctx.session_state
    inner, lock = getattr(safe, "_state", None), getattr(safe, "_lock", None)
    if inner is None or lock is None or not lock.acquire(timeout=_STATE_LOCK_TIMEOUT):
        return None, None
    try:
        values = []
        for key in ("session_id", "user_id"):
            try:
                values.append(inner[key])
            except KeyError:
                values.append(None)
        return values[0], values[1]
    finally:
        lock.release()


def _identity(ctx: Any) -> tuple[str, str]:
    app_session, app_user = _session_values(ctx)
    session_id = ctx.session_id
    if app_session is not None:
        if is_valid_id(app_session):
            session_id = app_session
        else:  # never echoed: it may carry CR/LF, escapes or 10 KB of text
            _report.notice_once("bad-session-id", "ignored an invalid session_id in session state; using Streamlit's")
    user_id = app_user_id(app_user) or user_from_info(ctx.user_info) or _ANONYMOUS
    return session_id, user_id


def current_run(ctx: Any) -> RunState:
    """The RunState of ``ctx``'s current run, starting one if the run is new."""
    run = getattr(ctx, RUN_ATTR, None)
    if run is not None and run.cursors is ctx.cursors:
        return run
    with _create_lock:
        run = getattr(ctx, RUN_ATTR, None)
        if run is not None and run.cursors is ctx.cursors:
            return run
        previous, run = run, RunState(ctx)
        setattr(ctx, RUN_ATTR, run)
    if previous is not None and not previous.finished:
        _finish(previous, ctx, None, outcome="superseded")
    _hook(ctx)
    _emit(run, ctx, "INFO", "script_run started", "start", None, True, None)
    return run


def _metadata(run: RunState, ctx: Any, outcome: Optional[str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"page": run.page_name(ctx)}
    if outcome:
        metadata["outcome"] = outcome
    return metadata


def _emit(run: RunState, ctx: Any, level: str, message: str, event: str, duration_ms: Optional[float],
          success: bool, error: Optional[dict], outcome: Optional[str] = None) -> None:
    fields = {
        **run.fields(ctx),
        "event": event,
        "duration_ms": duration_ms,
        "success": success,
        "metadata": _metadata(run, ctx, outcome),
        "error": error,
        "logger_name": "streamlit_extension.run",
    }
    try:
        logger.bind(**fields).log(level, message)
    except Exception as exc:
        _report.notice_once("run-emit", f"a script_run record failed ({_report.describe(exc)})")


def _finish(run: RunState, ctx: Any, event_name: Optional[str], outcome: Optional[str] = None,
            exception: Optional[BaseException] = None) -> None:
    if run.finished:
        return
    run.finished = True
    duration_ms = round((time.perf_counter() - run.started) * 1000, 3)
    failure = run.failure or (error_context(exception) if exception is not None else None)
    if failure is not None:
        name = failure.get("type") or "error"
        _emit(run, ctx, "ERROR", f"script_run failed: {name}", "failed", duration_ms, False, failure)
        return
    if outcome is None:
        if event_name == "SCRIPT_STOPPED_FOR_RERUN":
            outcome = "rerun"
        elif _stop_requested(ctx):
            outcome = "stop"
    message = f"script_run completed ({outcome})" if outcome else "script_run completed"
    _emit(run, ctx, "INFO", message, "complete", duration_ms, True, None, outcome)


def _stop_requested(ctx: Any) -> bool:
    state = getattr(getattr(ctx, "script_requests", None), "_state", None)
    return getattr(state, "name", None) == "STOP"


_END_EVENTS = frozenset({
    "SCRIPT_STOPPED_WITH_SUCCESS", "SCRIPT_STOPPED_FOR_RERUN", "SCRIPT_STOPPED_WITH_COMPILE_ERROR",
    "FRAGMENT_STOPPED_WITH_SUCCESS",
})


def _on_runner_event(sender: Any, event: Any = None, **payload: Any) -> None:
    """Receiver on ScriptRunner.on_event; runs in the script thread and must never raise."""
    try:
        name = getattr(event, "name", None)
        if name != "SCRIPT_STARTED" and name not in _END_EVENTS:
            return
        ctx = get_script_run_ctx(suppress_warning=True)
        if ctx is None:
            return
        if name == "SCRIPT_STARTED":
            current_run(ctx)
            return
        run = getattr(ctx, RUN_ATTR, None)
        if run is not None and run.cursors is ctx.cursors:
            _finish(run, ctx, name, exception=payload.get("exception"))
    except Exception as exc:
        _report.notice_once("runner-event", f"script_run tracking failed ({_report.describe(exc)})")


def _record_failure(ctx: Any, exc: BaseException) -> None:
    run = getattr(ctx, RUN_ATTR, None)
    if run is not None and run.cursors is ctx.cursors:
        run.failure = error_context(exc)


def _hook(ctx: Any) -> None:
    """Once per runner and per ctx: hear about run ends and uncaught page exceptions."""
    runner = getattr(getattr(threading.current_thread(), "_target", None), "__self__", None)
    signal = getattr(runner, "on_event", None)
    if signal is not None and not getattr(runner, HOOKED_ATTR, False):
        signal.connect(_on_runner_event, weak=False)
        setattr(runner, HOOKED_ATTR, True)
    if getattr(ctx, HOOKED_ATTR, False):
        return
    original = ctx.on_script_error

    def on_script_error(exc: Exception) -> Optional[bool]:
        try:
            _record_failure(ctx, exc)
        except Exception:
            pass
        # Streamlit still shows its usual error unless the app's own handler says otherwise.
        return original(exc) if original is not None else None

    ctx.on_script_error = on_script_error
    setattr(ctx, HOOKED_ATTR, True)


class StreamlitRunSource:
    """The ambient source (see ``context``) backed by the current script run."""

    def fields(self) -> Optional[Mapping[str, Any]]:
        carried = carried_fields.get()
        if carried is not None:
            return carried
        ctx = get_script_run_ctx(suppress_warning=True)
        if ctx is None:
            return None
        return current_run(ctx).fields(ctx)

    def set_correlation_id(self, value: str) -> bool:
        ctx = get_script_run_ctx(suppress_warning=True)
        if ctx is None or carried_fields.get() is not None:
            return False
        current_run(ctx).correlation_id = value
        return True
