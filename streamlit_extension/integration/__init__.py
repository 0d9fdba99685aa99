"""Streamlit integration: per-run correlation, session and user identity, Streamlit's own
logs, and worker threads.

``setup_logging()`` (or ``init_streamlit_logging()``) calls ``install(handle)`` here once
Streamlit is imported; it is idempotent across reruns, sessions and module reloads. This package
never imports ``configure``: the installation is handed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import _report
from .._shared import shared
from ..context import set_ambient_source
from . import compat
from .loggers import install_config_hook, reroute_if_needed, route_streamlit_loggers
from .run import StreamlitRunSource, current_run, set_log_client_ip, show_error, show_later
from .secrets import register_secrets
from .threads import ContextThreadPoolExecutor, run_in_thread

if TYPE_CHECKING:
    from ..installation import LoggingHandle
    from ..settings import SettingError


def _step(name: str, lost: str, action: Callable[[], Any]) -> None:
    """Run one install step; a failure costs only what that step gives."""
    try:
        action()
    except Exception as exc:
        _report.notice_once(f"install:{name}", f"Streamlit {compat.STREAMLIT_VERSION}: {name} failed "
                                               f"({_report.describe(exc)}); lost: {lost}")


@dataclass(eq=False)
class Installed:
    source: StreamlitRunSource | None = None  # the ambient source, Streamlit's loggers routed with it


_installed: Installed = shared(f"{__name__}.installed", Installed)


def _install_source() -> None:
    source = _installed.source
    if source is None or type(source) is not StreamlitRunSource:  # new after a module reload
        source = _installed.source = StreamlitRunSource()
        set_ambient_source(source)
        route_streamlit_loggers()
        install_config_hook()
    else:
        set_ambient_source(source)
        reroute_if_needed()


def install(handle: LoggingHandle) -> None:
    """Install the Streamlit side for ``handle`` (idempotent); a no-op cost on every later rerun.
    Never raises."""
    _step("reading " + compat.DISABLE_ENV, "nothing", compat.read_disabled)
    set_log_client_ip(bool(handle.config.log_ip))
    _step("the run source", "per-run correlation ids", _install_source)
    _step("st.secrets registration", "masking of st.secrets values",
          lambda: register_secrets(handle.value_redactor))
    ctx = compat.script_run_ctx()
    if ctx is not None:  # the first run of a fresh runner starts here
        _step("starting this run", "this run's start record", lambda: current_run(ctx))


def show_setting_error(exc: SettingError) -> None:
    """Show a bad setting on the page (once the app's ``st.set_page_config`` has run)."""
    ctx = compat.script_run_ctx()
    if ctx is None:  # bare mode: stderr has said it
        return
    message = (f"**Logging is misconfigured.** {exc}. Fix the setting and restart the app; until then "
               f"logs are written with the default {exc.argument}.")
    if compat.page_config_still_to_come(ctx):
        show_later(ctx, message)  # at the run's first record after the app's st.set_page_config
    else:
        show_error(message)


__all__ = ["ContextThreadPoolExecutor", "install", "run_in_thread", "show_setting_error"]
