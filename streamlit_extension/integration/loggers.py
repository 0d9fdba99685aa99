"""Streamlit's own loggers, routed into our sinks exactly once.

``streamlit.logger.get_logger`` gives each ``streamlit.*`` logger (and uvicorn's) its own console
handler and ``propagate=False``, so a root handler never sees them. We remove that handler and
let them propagate to the root, where the InterceptHandler takes them. Streamlit re-adds the
handlers whenever its config is parsed, and creates loggers lazily, so this runs again then.
"""

from __future__ import annotations

import logging
from typing import Iterator

import streamlit.logger as st_logger

from .. import _state


def _streamlit_loggers() -> Iterator[logging.Logger]:
    seen = set()
    for log in list(getattr(st_logger, "_loggers", {}).values()):
        seen.add(log.name)
        yield log
    for name, log in list(logging.root.manager.loggerDict.items()):
        if name not in seen and (name == "streamlit" or name.startswith("streamlit.")) and isinstance(log, logging.Logger):
            yield log


def route_streamlit_loggers() -> int:
    """Detach Streamlit's console handlers and let its loggers propagate; returns how many."""
    count = 0
    for log in _streamlit_loggers():
        handler = getattr(log, "streamlit_console_handler", None)
        if handler is not None and handler in log.handlers:
            log.removeHandler(handler)
        if not log.propagate:
            log.propagate = True
        count += 1
    _state.put("routed_logger_count", len(getattr(st_logger, "_loggers", {})))
    return count


def reroute_if_needed() -> None:
    """Cheap per-run check: route again only if Streamlit created loggers since last time."""
    if len(getattr(st_logger, "_loggers", {})) != _state.get("routed_logger_count"):
        route_streamlit_loggers()


def install_config_hook() -> None:
    """Route again after every config parse (it re-adds Streamlit's handlers). Once per process."""
    if _state.get("config_hook"):
        return
    from streamlit import config

    config.on_config_parsed(_on_config_parsed, force_connect=True)
    _state.put("config_hook", True)


def _on_config_parsed() -> None:
    route_streamlit_loggers()
