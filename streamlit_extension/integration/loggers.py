"""Streamlit's own loggers, and its web server's, routed into our sinks exactly once.

``streamlit.logger.get_logger`` gives each ``streamlit.*`` logger its own console handler and
``propagate=False``, so a root handler never sees them. We remove that handler and let them
propagate to the root, where the InterceptHandler takes them. Streamlit re-adds the handlers
whenever its config is parsed, and creates loggers lazily, so this runs again then. Where
Streamlit's handler can't be told apart (see ``compat``), its loggers are left alone: routing
them anyway would print every line twice.

From 1.57 Streamlit serves through uvicorn, whose own logging config puts a console handler on
``uvicorn``: every access line was printed raw (client address and all) besides our record.
Handlers with uvicorn's formatters are removed the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .._shared import shared
from . import compat


@dataclass(eq=False)
class Routing:
    logger_count: int | None = None  # Streamlit's loggers when last routed: see ``reroute_if_needed``
    config_hook: bool = False  # ``install_config_hook`` done


_routing: Routing = shared(f"{__name__}.routing", Routing)


def route_streamlit_loggers() -> int:
    """Detach Streamlit's console handlers and let its loggers propagate; returns how many."""
    count = 0
    for log in compat.streamlit_loggers():
        handler = compat.console_handler(log)
        if handler is None:
            continue
        if handler in log.handlers:
            log.removeHandler(handler)
        if not log.propagate:
            log.propagate = True
        count += 1
    if count == 0 and compat.available("streamlit_loggers"):
        compat.lose("streamlit_loggers")
    count += route_server_loggers()
    _routing.logger_count = compat.streamlit_logger_count()
    return count


def route_server_loggers() -> int:
    """Take uvicorn's own console handlers off its loggers (they propagate to ours), and
    demote its access lines for static files and health checks to DEBUG."""
    count = 0
    for name in [n for n in logging.root.manager.loggerDict if n == "uvicorn" or n.startswith("uvicorn.")]:
        log = logging.getLogger(name)
        for handler in list(log.handlers):
            if type(handler.formatter).__module__.startswith("uvicorn"):
                log.removeHandler(handler)
                count += 1
        log.propagate = True
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AssetRequests) or getattr(f, _ASSET_FILTER, False) for f in access.filters):
        access.addFilter(AssetRequests())
    return count


_ASSET_FILTER = "_streamlit_extension_asset_filter"  # survives a re-import of this module
_ASSET_PREFIXES = ("/static/", "/_stcore/health", "/_stcore/script-health-check", "/_stcore/host-config",
                   "/favicon", "/-/build/", "/app/static/")
_ASSET_SUFFIXES = (".js", ".css", ".map", ".png", ".svg", ".ico", ".woff", ".woff2", ".ttf", ".webp", ".jpg")


def is_asset_request(path: str) -> bool:
    """A browser fetching Streamlit's own files, or a load balancer's health check."""
    path = path.split("?", 1)[0]
    return path.startswith(_ASSET_PREFIXES) or path.endswith(_ASSET_SUFFIXES)


class AssetRequests(logging.Filter):
    """Static-file and health-check access lines at DEBUG, not INFO: they were 4 in 5 records of a
    demo session, and say nothing about what a user did. Requests to the app stay at INFO."""

    def __init__(self) -> None:
        super().__init__()
        setattr(self, _ASSET_FILTER, True)

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access record: (client, method, path, http version, status)
        if record.levelno == logging.INFO and isinstance(args, tuple) and len(args) == 5 \
                and isinstance(args[2], str) and is_asset_request(args[2]):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


def reroute_if_needed() -> None:
    """Cheap per-run check: route again only if Streamlit created loggers since last time."""
    if compat.streamlit_logger_count() != _routing.logger_count:
        route_streamlit_loggers()


def install_config_hook() -> None:
    """Route again after every config parse (it re-adds Streamlit's handlers). Once per process."""
    if _routing.config_hook:
        return
    if compat.on_config_parsed(_on_config_parsed):
        _routing.config_hook = True


def _on_config_parsed() -> None:
    route_streamlit_loggers()
