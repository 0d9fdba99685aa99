"""Everything the integration reads from Streamlit, public API first, in one place.

Streamlit promises ``st.context``, ``st.user`` (``st.experimental_user`` before 1.45) and
``get_script_run_ctx``/``add_script_run_ctx``. Everything else we use is internal and changes
between releases, so each internal is a *capability* here: found by looking for the feature
(never by version number), and backed by a fallback that still gives every script run its own
correlation id, ``start`` and ``complete``/``failed``. When one is missing, stderr says once
which one and what is lost.

``STREAMLIT_EXTENSION_DISABLE=name,...`` (or ``all``) turns capabilities off, exactly as if
Streamlit lacked them: an operator's escape hatch when a release breaks an internal, and how the
tests prove each fallback.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import streamlit
from streamlit import runtime

from .. import _report
from .._shared import shared

try:  # public re-export in every release we support
    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx
except ImportError:  # pragma: no cover - the module the re-export points at
    from streamlit.runtime.scriptrunner_utils.script_run_context import (
        add_script_run_ctx,
        get_script_run_ctx,
    )

DISABLE_ENV = "STREAMLIT_EXTENSION_DISABLE"

if TYPE_CHECKING:  # Streamlit's classes for annotations elsewhere: their modules are internal
    from streamlit.delta_generator import DeltaGenerator as DeltaGenerator
    from streamlit.navigation.page import StreamlitPage as StreamlitPage

STREAMLIT_VERSION = getattr(streamlit, "__version__", "?")


@dataclass(frozen=True)
class Capability:
    """One Streamlit internal we use: what it is, and what its fallback cannot do."""

    name: str
    needs: str
    lost: str


CAPABILITIES: Mapping[str, Capability] = {c.name: c for c in (
    Capability("run_boundary", "a fresh ScriptRunContext.cursors per run",
               "a run is told apart by its start event or its end instead; without both, "
               "st.rerun() runs in one script thread share a correlation id"),
    Capability("runner_events", "the script runner's on_event signal",
               "a run's end is noticed when its script thread exits (duration up to ~20 ms long), "
               "and st.rerun() ends a run as 'superseded' rather than 'rerun'"),
    Capability("uncaught_errors", "a hook for uncaught page exceptions",
               "a failed run's exception type, message and traceback"),
    Capability("run_error_flag", "the 'script ran without errors' session flag",
               "nothing unless uncaught_errors is also missing; then failed runs read as complete"),
    Capability("session_state_peek", "SafeSessionState's inner state and lock",
               "session_state['user_id'] and ['session_id'] are not read; ids come from Streamlit"),
    Capability("stop_request", "ScriptRequests' state",
               "the 'stop' outcome of a run ended by st.stop()"),
    Capability("client_lookup", "the runtime's session client",
               "the client address on releases before st.context.ip_address (1.45)"),
    Capability("streamlit_loggers", "streamlit.logger's console handlers",
               "Streamlit's own log lines stay on its console instead of our sinks"),
    Capability("error_reference", "Streamlit's display of a page's uncaught exception",
               "the interaction's reference shown with the page's error (and the exception of a "
               "fragment rerun that fails before it logs anything)"),
)}


@dataclass(eq=False)
class Findings:
    """What this process found out about its Streamlit, and the hook it left there."""

    missing: set[str] = field(default_factory=set)  # capabilities found missing, or disabled
    disabled: set[str] = field(default_factory=set)  # STREAMLIT_EXTENSION_DISABLE, as last read
    token_unreadable: bool = False  # SessionState has another shape: no session_state_token
    uncaught_listener: Callable[[Any, BaseException], None] | None = None  # see hook_uncaught_errors
    display_listener: Callable[[Any, BaseException], None] | None = None  # see hook_error_display


_found: Findings = shared(f"{__name__}.found", Findings)
_missing = _found.missing
_off = _found.disabled


def read_disabled() -> frozenset[str]:
    """Read ``STREAMLIT_EXTENSION_DISABLE`` (at install time, not per record) and name each
    disabled capability once on stderr."""
    raw = os.environ.get(DISABLE_ENV, "")
    names = {part.strip().lower() for part in raw.split(",") if part.strip()}
    if "all" in names:
        names = set(CAPABILITIES)
    unknown = names - set(CAPABILITIES)
    if unknown:
        _report.notice_once(f"compat-unknown:{sorted(unknown)}",
                            f"{DISABLE_ENV}: unknown capabilities {sorted(unknown)}; known: {', '.join(CAPABILITIES)}")
    names &= set(CAPABILITIES)
    if names != _off:
        _off.clear()
        _off.update(names)
        _missing.difference_update(CAPABILITIES)  # re-detect after a change
        for name in sorted(names):
            lose(name)
    return frozenset(_off)


def available(name: str) -> bool:
    """May ``name`` be used? False once it was found missing, or while it is disabled."""
    return name not in _missing


def lose(name: str, reason: BaseException | None = None) -> None:
    """Mark ``name`` missing for this process and say once what that costs."""
    if name in _missing:
        return
    _missing.add(name)
    cap = CAPABILITIES[name]
    why = "disabled by " + DISABLE_ENV if name in _off else "not found"
    if reason is not None:
        why = _report.describe(reason)
    _report.notice(f"Streamlit {STREAMLIT_VERSION}: {cap.needs} unavailable ({name}: {why}); lost: {cap.lost}")


def missing() -> frozenset[str]:
    """The capabilities this process runs without (found missing or disabled)."""
    return frozenset(_missing)


# --------------------------------------------------------------------------- the script run


def script_run_ctx() -> Any:
    """The current thread's ScriptRunContext, or None; never warns (bare mode, foreign threads)."""
    return get_script_run_ctx(suppress_warning=True)


def tag(ctx: Any, name: str) -> Any:
    """A value of ours kept on Streamlit's run context (None if unset): the context is unhashable,
    so it can't key a dict, and it lives exactly as long as what we keep about it."""
    return getattr(ctx, name, None)


def set_tag(ctx: Any, name: str, value: Any) -> None:
    setattr(ctx, name, value)


def run_marker(ctx: Any) -> Any:
    """An object that is replaced at the start of every run (``ctx.cursors``), or None."""
    if not available("run_boundary"):
        return None
    try:
        return ctx.cursors
    except AttributeError as exc:
        lose("run_boundary", exc)
        return None


def runner_events(listener: Callable[..., None], thread: threading.Thread) -> bool:
    """Connect ``listener`` to the ``on_event`` of the script runner of ``thread`` (a script
    thread), once per runner.

    The runner is the owner of the script thread's target (``ScriptRunner._run_script_thread``).
    Returns False when that can't be found: the caller then watches the thread instead.
    """
    if not available("runner_events"):
        return False
    try:
        runner = thread._target.__self__  # type: ignore[attr-defined]
        signal = runner.on_event
        if not getattr(runner, "_streamlit_extension_hooked", False):
            signal.connect(listener, weak=False)
            runner._streamlit_extension_hooked = True
        return True
    except Exception as exc:  # AttributeError on a changed runner; anything from the signal
        lose("runner_events", exc)
        return False


def hook_uncaught_errors(ctx: Any, listener: Callable[[Any, BaseException], None]) -> bool:
    """Call ``listener(ctx, exc)`` for an uncaught page exception, before Streamlit shows it.

    ``ctx.on_script_error`` where it exists (1.58+; the app's own handler still runs), else the
    error handler as Streamlit's exec and fragment modules imported it, wrapped once per process.
    """
    if not available("uncaught_errors"):
        return False
    if hasattr(ctx, "on_script_error"):
        return _wrap_ctx_handler(ctx, listener)
    try:
        from streamlit.runtime.scriptrunner import exec_code
    except ImportError as exc:
        lose("uncaught_errors", exc)
        return False
    for name in ("handle_uncaught_app_exception", "handle_user_script_exception"):
        if callable(getattr(exec_code, name, None)):
            _wrap_module_handler(exec_code, name, _tell_uncaught)
            # A fragment's exception is handled by the fragment module's own import of it.
            fragment = _fragment_module()
            if callable(getattr(fragment, name, None)):
                _wrap_module_handler(fragment, name, _tell_uncaught)
            _found.uncaught_listener = listener  # the newest generation after a reload
            return True
    lose("uncaught_errors")
    return False


def _fragment_module() -> Any:
    try:
        from streamlit.runtime import fragment
    except ImportError:  # no fragments: nothing of theirs to hear about
        return None
    return fragment


_HOOKED = "_streamlit_extension_hooked"


def _wrap_ctx_handler(ctx: Any, listener: Callable[[Any, BaseException], None]) -> bool:
    if getattr(ctx, _HOOKED, False):
        return True
    original = ctx.on_script_error

    def on_script_error(exc: BaseException) -> Any:
        try:
            listener(ctx, exc)
        except Exception:
            pass
        # Streamlit still shows its usual error unless the app's own handler says otherwise.
        return original(exc) if original is not None else None

    try:
        ctx.on_script_error = on_script_error
        setattr(ctx, _HOOKED, True)
    except Exception as exc:
        lose("uncaught_errors", exc)
        return False
    return True


def _wrap_module_handler(module: Any, name: str, tell: Callable[[BaseException], None], *,
                         after: bool = False) -> None:
    """Replace ``module.name(exc, ...)``, once per process, by a wrapper that calls ``tell(exc)``
    before it (or ``after``); whatever ``tell`` raises is swallowed."""
    original = getattr(module, name)
    if getattr(original, _HOOKED, False):
        return

    @functools.wraps(original)
    def handler(exc: BaseException, *args: Any, **kwargs: Any) -> Any:
        if not after:
            _tell(tell, exc)
        result = original(exc, *args, **kwargs)
        if after:
            _tell(tell, exc)
        return result

    setattr(handler, _HOOKED, True)
    setattr(module, name, handler)


def _tell(tell: Callable[[BaseException], None], exc: BaseException) -> None:
    try:
        tell(exc)
    except Exception:  # Streamlit's own handling goes on regardless
        pass


def _tell_uncaught(exc: BaseException) -> None:
    listener, ctx = _found.uncaught_listener, script_run_ctx()
    if listener is not None and ctx is not None:
        listener(ctx, exc)


# Where Streamlit's uncaught-exception handler puts the error on the page, in every
# ``client.showErrorDetails`` mode and for fragments too: 1.58+, and 1.40 - 1.57.
_ERROR_DISPLAYS = ("show_uncaught_app_exception", "_show_exception")


def hook_error_display(listener: Callable[[Any, BaseException], None]) -> bool:
    """Call ``listener(ctx, exc)`` right after Streamlit has shown a page's uncaught exception
    ``exc``: in the script thread, where the next element lands in the same container as the error.

    Streamlit's display function in ``streamlit.error_util`` is wrapped once per process. An
    exception from ``listener`` is swallowed; st.stop()/st.rerun() requests (BaseException)
    go on to Streamlit, as they would from its own element.
    """
    if not available("error_reference"):
        return False
    if _found.display_listener is listener:
        return True  # the common case: every run after the first
    try:
        from streamlit import error_util
    except ImportError as exc:
        lose("error_reference", exc)
        return False
    for name in _ERROR_DISPLAYS:
        if callable(getattr(error_util, name, None)):
            _wrap_module_handler(error_util, name, _tell_shown, after=True)
            _found.display_listener = listener  # the newest generation after a reload
            return True
    lose("error_reference")
    return False


def _tell_shown(exc: BaseException) -> None:
    listener, ctx = _found.display_listener, script_run_ctx()
    if listener is not None and ctx is not None and available("error_reference"):
        listener(ctx, _app_exception(exc))


def _app_exception(shown: BaseException) -> BaseException:
    """The app's own exception: on the oldest releases (1.40), ``showErrorDetails = false``
    shows it wrapped."""
    inner = getattr(shown, "exc", None) if type(shown).__name__ == "UncaughtAppException" else None
    return inner if isinstance(inner, BaseException) else shown


def run_error_flag(ctx: Any) -> bool | None:
    """True/False if Streamlit recorded that the last run raised; None if unknown."""
    if not available("run_error_flag"):
        return None
    try:
        from streamlit.runtime.scriptrunner import script_runner

        key = script_runner.SCRIPT_RUN_WITHOUT_ERRORS_KEY
    except (ImportError, AttributeError) as exc:
        lose("run_error_flag", exc)
        return None
    value = peek_session_state(ctx, (key,)).get(key)
    return None if value is None else not value


_STATE_LOCK_TIMEOUT = 0.05


def peek_session_state(ctx: Any, keys: Iterable[str]) -> dict[str, Any]:
    """``keys`` of the session state, read without running Streamlit's callbacks.

    ``SafeSessionState.__getitem__`` runs Streamlit's yield callback, which can raise
    Rerun/StopException into whoever reads; the inner state under its lock cannot.
    """
    found = try_peek_session_state(ctx, keys)
    return {} if found is None else found


def try_peek_session_state(ctx: Any, keys: Iterable[str]) -> dict[str, Any] | None:
    """``peek_session_state``, but None when the state's lock was busy (the values are unknown,
    not absent): what is derived from them then must not be kept."""
    if not available("session_state_peek"):
        return {}
    safe = ctx.session_state
    try:
        inner, lock = safe._state, safe._lock
    except AttributeError as exc:
        lose("session_state_peek", exc)
        return {}
    if not lock.acquire(timeout=_STATE_LOCK_TIMEOUT):
        return None
    try:
        found = {}
        for key in keys:
            try:
                found[key] = inner[key]
            except KeyError:
                pass
        return found
    finally:
        lock.release()


_ABSENT: Any = object()
_PLAIN_TYPES = (str, int, type(None))


def session_state_token(ctx: Any, keys: tuple[str, ...]) -> tuple | None:
    """A cheap stand-in for ``peek_session_state(ctx, keys)``: while two tokens are equal
    (``==``), so are the values, and whatever was derived from them can be reused.

    A key no widget holds gets its value from what the app set this run
    (``_new_session_state``) or else what earlier runs left (``_old_state``): both are read
    here, without the lock (one dict lookup is atomic), and without Streamlit's ``__getitem__``
    and the KeyError it raises for a missing key (most of a peek's cost). None means "can't
    tell, peek": a widget holds one of the keys (its value lives in widget state), a value
    isn't a str/int/None (it could change in place), or this Streamlit's state has another
    shape.
    """
    if not available("session_state_peek"):
        return ()  # peek_session_state then always answers {}
    if _found.token_unreadable:
        return None
    try:
        inner = ctx.session_state._state
        new, old, mapper = inner._new_session_state, inner._old_state, inner._key_id_mapper
        token = []
        for key in keys:
            if mapper.get_id_from_key(key, None) is not None:
                return None
            current, earlier = new.get(key, _ABSENT), old.get(key, _ABSENT)
            if (current is not _ABSENT and type(current) not in _PLAIN_TYPES) or \
                    (earlier is not _ABSENT and type(earlier) not in _PLAIN_TYPES):
                return None
            token.append(current)
            token.append(earlier)
        return tuple(token)
    except Exception:  # not a capability: peeking still works, only without this shortcut
        _found.token_unreadable = True  # SessionState has another shape
        return None


def stop_requested(ctx: Any) -> bool:
    """Did the run end because of ``st.stop()``?"""
    if not available("stop_request"):
        return False
    try:
        state = ctx.script_requests._state
    except AttributeError as exc:
        lose("stop_request", exc)
        return False
    return getattr(state, "name", None) == "STOP"


class ThreadWatcher:
    """Fallback end of a run without runner events: call ``on_end`` when its thread exits.

    One daemon thread polls ``Thread.is_alive()`` every ``interval`` seconds while any run is
    open, and sleeps otherwise.
    """

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self._pending: list[tuple[threading.Thread, Callable[[], None]]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, thread: threading.Thread, on_end: Callable[[], None]) -> None:
        with self._lock:
            self._pending.append((thread, on_end))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="streamlit_extension:run-end", daemon=True)
                self._thread.start()
        self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self.interval)
            with self._lock:
                ended = [item for item in self._pending if not item[0].is_alive()]
                self._pending = [item for item in self._pending if item[0].is_alive()]
                if not self._pending:
                    self._wake.clear()
            for _, on_end in ended:
                try:
                    on_end()
                except Exception as exc:
                    _report.notice_once("run-end-watch", f"a run end could not be logged ({_report.describe(exc)})")


def page_config_still_to_come(ctx: Any) -> bool:
    """Before 1.46 ``st.set_page_config`` must be a page's first command: is that still ahead?
    (Anything we render before it would make the app's own call fail.)"""
    return getattr(ctx, "_set_page_config_allowed", False) is True


# --------------------------------------------------------------------------- page and identity


def page_name(ctx: Any) -> str | None:
    """The running page's name (``st.navigation``/``pages/``), or None outside a page.

    The page whose script runs now (``active_script_hash``) first: some runners (AppTest) keep
    ``page_script_hash`` on the main script while a page runs.
    """
    try:
        pages = ctx.pages_manager.get_pages()
        for key in (getattr(ctx, "active_script_hash", None), ctx.page_script_hash):
            name = (pages.get(key) or {}).get("page_name")
            if name:
                return name
    except Exception:  # a pages manager of another shape: the script name still says a lot
        pass
    return None


def script_name(ctx: Any) -> str | None:
    """The main script's stem: what a single-page app is called."""
    path = getattr(ctx, "main_script_path", None)
    return os.path.splitext(os.path.basename(path))[0] if path else None


def page_key(ctx: Any) -> Any:
    """Changes (``!=``) whenever the page name may have: the page, or the pages ``st.navigation`` set.

    The registry itself where the pages manager keeps one (1.45+: ``st.navigation`` replaces
    it), compared by identity first; else ``get_pages()``, compared by content (some releases
    return a fresh dict from every call, so its ``id`` says nothing).
    """
    manager = getattr(ctx, "pages_manager", None)
    pages = getattr(manager, "_pages", _ABSENT)
    if pages is _ABSENT:
        try:
            pages = manager.get_pages()  # type: ignore[union-attr]  # None raises, caught below
        except Exception:
            pages = None
    return getattr(ctx, "page_script_hash", None), getattr(ctx, "active_script_hash", None), pages


# Streamlit's local-development stand-in identity (no login, no trusted header): not a person.
PLACEHOLDER_EMAIL = "test@example.com"


@functools.cache
def _secrets_load_is_racy() -> bool:
    """Before 1.44, loading ``st.secrets`` flips a shared "suppress errors" flag without a lock,
    so two sessions loading at once can show "No secrets found" as an error on a page."""
    # vars(), not hasattr(): a missing attribute of st.secrets is looked up as a secret.
    return "_suppress_print_error_on_exception" in vars(streamlit.secrets)


def secrets() -> dict[str, Any]:
    """``st.secrets`` as a dict: empty when the app has no secrets file; raises what Streamlit
    raises for a malformed one. ``load_if_toml_exists`` (not public) loads the file if there is
    one and says whether there was."""
    loaded = streamlit.secrets
    if not loaded.load_if_toml_exists():
        return {}
    return loaded.to_dict()


def user_info(ctx: Any) -> Mapping[str, Any]:
    """The current user's claims: ``st.user`` (1.45+), else ``st.experimental_user``.

    Where that proxy would load ``st.secrets`` racily (1.42 - 1.43), the claims it wraps,
    ``ctx.user_info``, are read directly. Streamlit's local stand-in e-mail is dropped: it names
    no one, and every session has it. Only called with a script-run context on this thread, so
    nothing warns.
    """
    proxy = getattr(streamlit, "user", None)
    if proxy is None:
        proxy = getattr(streamlit, "experimental_user", None)
    try:
        if proxy is None or _secrets_load_is_racy():
            info = getattr(ctx, "user_info", None)
        else:
            info = proxy.to_dict()
    except Exception:  # an auth config Streamlit can't read: its own page will say so
        info = getattr(ctx, "user_info", None)
    if not isinstance(info, Mapping):
        return {}
    if info.get("email") == PLACEHOLDER_EMAIL:
        info = {key: value for key, value in info.items() if key != "email"}
    return info


def request_headers(ctx: Any) -> list[tuple[str, str]]:
    """The websocket handshake's headers (``st.context.headers``), every value of each."""
    headers = getattr(getattr(streamlit, "context", None), "headers", None)
    if headers is None:
        client = _client_context(ctx)
        headers = getattr(client, "headers", None)
    if headers is None:
        return []
    try:
        get_all = headers.get_all
        return [(key, value) for key in list(headers) for value in get_all(key)]
    except AttributeError:
        return [(str(key), str(value)) for key, value in dict(headers).items()]


_LOOPBACK = ("127.0.0.1", "::1")


def client_address(ctx: Any) -> str | None:
    """The client's IP, None on localhost: ``st.context.ip_address`` (1.45+), else the
    handshake's address with the same rule."""
    context = getattr(streamlit, "context", None)
    if context is not None and hasattr(type(context), "ip_address"):
        address = context.ip_address
        return address if isinstance(address, str) else None
    if not available("client_lookup"):
        return None
    address = getattr(_client_context(ctx), "remote_ip", None)
    return address if isinstance(address, str) and address not in _LOOPBACK else None


def _client_context(ctx: Any) -> Any:
    """The session's handshake data: ``client_context`` (1.56+) or Tornado's request."""
    if not available("client_lookup") or not runtime.exists():
        return None
    try:
        client = runtime.get_instance().get_client(ctx.session_id)
    except Exception as exc:
        lose("client_lookup", exc)
        return None
    if client is None:
        return None
    return getattr(client, "client_context", None) or getattr(client, "request", None)


# --------------------------------------------------------------------------- Streamlit's loggers


def streamlit_loggers() -> Iterator[logging.Logger]:
    """Every ``streamlit.*`` logger: Streamlit's registry where it has one, then the stdlib's."""
    import streamlit.logger as st_logger

    seen = set()
    for log in list(getattr(st_logger, "_loggers", {}).values()):
        seen.add(log.name)
        yield log
    for name, log in list(logging.root.manager.loggerDict.items()):
        ours = name == "streamlit" or name.startswith("streamlit.")
        if ours and name not in seen and isinstance(log, logging.Logger):
            yield log


def streamlit_logger_count() -> int:
    """A cheap change detector: how many loggers Streamlit's registry holds."""
    import streamlit.logger as st_logger

    registry = getattr(st_logger, "_loggers", None)
    return len(registry) if registry is not None else len(logging.root.manager.loggerDict)


def console_handler(log: logging.Logger) -> logging.Handler | None:
    """The console handler Streamlit attached to ``log``; None if it has none we can tell apart."""
    if not available("streamlit_loggers"):
        return None
    return getattr(log, "streamlit_console_handler", None)


def on_config_parsed(callback: Callable[[], None]) -> bool:
    """Run ``callback`` after every config parse (Streamlit re-adds its handlers then)."""
    from streamlit import config

    try:
        config.on_config_parsed(callback, force_connect=True)
    except Exception as exc:
        lose("streamlit_loggers", exc)
        return False
    return True


# --------------------------------------------------------------------------- Streamlit's web server

# What a browser fetches for itself, under any base URL or page prefix (a page load of
# ``/clients`` first asks ``/clients/_stcore/health`` and ``/clients/_stcore/host-config``, 404,
# then the root ones): the probes, Streamlit's bundled files, components' files, the media of
# elements, the app's static folder. The same routes in the Tornado (to 1.56) and uvicorn servers.
_ROUTINE_PATH = re.compile(
    r"(?:^|/)(?:_stcore/(?:health|script-health-check|host-config|metrics)/?$"
    r"|_stcore/bidi-components/|static/|component/|media/|-/build/|favicon\.|manifest\.json$)"
)
_ROUTINE_SUFFIXES = (".js", ".mjs", ".css", ".map", ".png", ".svg", ".ico", ".woff", ".woff2", ".ttf", ".webp",
                     ".jpg")
_STREAM_PATH = "/_stcore/stream"  # the websocket a page's session talks over


def is_routine_request(path: str) -> bool:
    """A request a browser makes for Streamlit's own files or a load balancer's health check,
    not for a page of the app: ``/_stcore/health``, ``/clients/_stcore/host-config``,
    ``/static/js/index.js``..."""
    path = path.split("?", 1)[0]
    return path.endswith(_ROUTINE_SUFFIXES) or _ROUTINE_PATH.search(path) is not None


def is_stream_request(path: str) -> bool:
    """The websocket a session opens after its page loaded (under any base URL)."""
    return path.split("?", 1)[0].rstrip("/").endswith(_STREAM_PATH)


__all__ = [
    "CAPABILITIES",
    "DISABLE_ENV",
    "PLACEHOLDER_EMAIL",
    "STREAMLIT_VERSION",
    "ThreadWatcher",
    "add_script_run_ctx",
    "available",
    "client_address",
    "console_handler",
    "hook_error_display",
    "hook_uncaught_errors",
    "is_routine_request",
    "is_stream_request",
    "lose",
    "missing",
    "on_config_parsed",
    "page_key",
    "page_name",
    "peek_session_state",
    "read_disabled",
    "request_headers",
    "run_error_flag",
    "run_marker",
    "runner_events",
    "script_name",
    "script_run_ctx",
    "secrets",
    "session_state_token",
    "set_tag",
    "stop_requested",
    "streamlit_logger_count",
    "streamlit_loggers",
    "tag",
    "try_peek_session_state",
    "user_info",
]
