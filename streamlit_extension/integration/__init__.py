"""Streamlit integration: per-run correlation, session and user identity, Streamlit's own
logs, and worker threads.

``init_streamlit_logging()`` at the top of the entrypoint (or ``setup_logging()``, which does the
same once Streamlit is imported) is the one call an app needs. Both are idempotent across
reruns, sessions and module reloads.
"""

from __future__ import annotations

from typing import Any

from streamlit.runtime.scriptrunner import get_script_run_ctx

from .. import _state
from ..configure import LoggingHandle, setup_logging
from ..context import set_ambient_source
from .loggers import install_config_hook, reroute_if_needed, route_streamlit_loggers
from .run import StreamlitRunSource, current_run
from .secrets import register_secrets
from .threads import ContextThreadPoolExecutor, run_in_thread


def install() -> None:
    """Install the Streamlit side (idempotent); a no-op cost on every later rerun."""
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
    handle = _state.get("setup")
    register_secrets(getattr(handle, "value_redactor", None))
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is not None:
        current_run(ctx)  # the first run of a fresh runner starts here


def init_streamlit_logging(**kwargs: Any) -> LoggingHandle:
    """``setup_logging(**kwargs)`` plus the Streamlit integration; call it first in the script."""
    return setup_logging(**kwargs)


__all__ = ["ContextThreadPoolExecutor", "init_streamlit_logging", "install", "run_in_thread"]
