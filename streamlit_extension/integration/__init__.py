"""Streamlit integration: per-run correlation, session and user identity, Streamlit's own
logs, and worker threads.

``init_streamlit_logging()`` at the top of the entrypoint (or ``setup_logging()``, which does the
same once Streamlit is imported) is the one call an app needs. Both are idempotent across
reruns, sessions and module reloads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _report, _state
from ..configure import LoggingHandle, SettingError, fallback_setting, setup_logging
from ..context import set_ambient_source
from . import compat
from .loggers import install_config_hook, reroute_if_needed, route_streamlit_loggers
from .run import StreamlitRunSource, current_run, show_error, show_later
from .secrets import register_secrets
from .threads import ContextThreadPoolExecutor, run_in_thread


def _step(name: str, lost: str, action: Callable[[], Any]) -> None:
    """Run one install step; a failure costs only what that step gives."""
    try:
        action()
    except Exception as exc:
        _report.notice_once(f"install:{name}", f"Streamlit {compat.STREAMLIT_VERSION}: {name} failed "
                                               f"({_report.describe(exc)}); lost: {lost}")


def _install_source() -> None:
    source = _state.get("streamlit_source")
    if source is None or type(source) is not StreamlitRunSource:  # new after a module reload
        source = StreamlitRunSource()
        _state.put("streamlit_source", source)
        set_ambient_source(source)
        route_streamlit_loggers()
        install_config_hook()
    else:
        set_ambient_source(source)
        reroute_if_needed()


def install() -> None:
    """Install the Streamlit side (idempotent); a no-op cost on every later rerun. Never raises."""
    _step("reading " + compat.DISABLE_ENV, "nothing", compat.read_disabled)
    _step("the run source", "per-run correlation ids", _install_source)
    handle = _state.get("setup")
    _step("st.secrets registration", "masking of st.secrets values",
          lambda: register_secrets(getattr(handle, "value_redactor", None)))
    ctx = compat.script_run_ctx()
    if ctx is not None:  # the first run of a fresh runner starts here
        _step("starting this run", "this run's start record", lambda: current_run(ctx))


def init_streamlit_logging(**kwargs: Any) -> LoggingHandle:
    """``setup_logging(**kwargs)`` plus the Streamlit integration; call it first in the script.

    A bad setting (``LOG_LEVEL=LOUD``) doesn't take the page down with a traceback: the page shows
    one ``st.error`` naming the variable and the fix, stderr says it once, and logging runs on
    the built-in defaults until the setting is fixed.
    """
    settings = dict(kwargs)
    for _ in range(16):  # each bad setting in turn falls back to its default
        try:
            return setup_logging(**settings)
        except SettingError as exc:
            _report.notice_once(f"setting:{exc}", f"{exc}. Logging uses the default for it until this is fixed.",
                                every=3600.0)
            _show_setting_error(exc)
            settings[exc.argument] = fallback_setting(exc.argument)
    return setup_logging(**settings)


def _show_setting_error(exc: SettingError) -> None:
    ctx = compat.script_run_ctx()
    if ctx is None:  # bare mode: stderr has said it
        return
    message = (f"**Logging is misconfigured.** {exc}. Fix the setting and restart the app; until then "
               f"logs are written with the default {exc.argument}.")
    if compat.page_config_still_to_come(ctx):
        show_later(ctx, message)  # at the run's first record after the app's st.set_page_config
    else:
        show_error(message)


__all__ = ["ContextThreadPoolExecutor", "init_streamlit_logging", "install", "run_in_thread"]
