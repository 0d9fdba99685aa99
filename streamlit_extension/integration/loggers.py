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

A page load is one INFO line, the request for the page; the rest of what the web server logs
for it is DEBUG (``RoutineLines``), so with ``LOG_LEVEL=DEBUG`` the file still has every request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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
    """Take uvicorn's own console handlers off its loggers (they propagate to ours), and make
    a page load one INFO line: the request for the page (see ``RoutineLines``)."""
    count = 0
    for name in [n for n in logging.root.manager.loggerDict if n == "uvicorn" or n.startswith("uvicorn.")]:
        log = logging.getLogger(name)
        for handler in list(log.handlers):
            if type(handler.formatter).__module__.startswith("uvicorn"):
                log.removeHandler(handler)
                count += 1
        log.propagate = True
    for name, routine in _ROUTINE.items():
        log = logging.getLogger(name)
        if not any(getattr(f, _ROUTINE_FILTER, False) for f in log.filters):
            log.addFilter(RoutineLines(routine))
    return count


def _routine_uvicorn_access(record: logging.LogRecord) -> bool:
    args = record.args  # uvicorn's access record: (client, method, path, http version, status)
    return isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) \
        and compat.is_routine_request(args[2])


_WEBSOCKET_LINES = frozenset({'%s - "WebSocket %s" [accepted]', "connection open", "connection closed"})


def _routine_uvicorn_error(record: logging.LogRecord) -> bool:
    # uvicorn's websocket accept, and the websockets library's own open/close (it logs on
    # uvicorn's logger): the page's GET already said someone came. A refusal stays INFO.
    return isinstance(record.msg, str) and record.msg in _WEBSOCKET_LINES


def _routine_tornado_access(record: logging.LogRecord) -> bool:
    args = record.args  # Tornado's access record (to 1.56): (status, "GET /path (client)", ms)
    if not (isinstance(args, tuple) and len(args) == 3 and isinstance(args[1], str)):
        return False
    parts = args[1].split(" ", 2)
    return len(parts) > 1 and (compat.is_routine_request(parts[1]) or compat.is_stream_request(parts[1]))


_ROUTINE: dict[str, Callable[[logging.LogRecord], bool]] = {
    "uvicorn.access": _routine_uvicorn_access,
    "uvicorn.error": _routine_uvicorn_error,
    "tornado.access": _routine_tornado_access,  # Streamlit shows it only in development mode
}
_ROUTINE_FILTER = "_streamlit_extension_asset_filter"  # survives a re-import of this module


class RoutineLines(logging.Filter):
    """A page load is one line at INFO, the request for the page; what the browser fetches for
    itself around it (Streamlit's files, its health and host-config probes, under any page
    prefix, found or not) and the websocket's accept, open and close are DEBUG lines. They were
    nearly every record of a demo session and say nothing about what a user did. Errors (5xx)
    keep their level."""

    def __init__(self, routine: Callable[[logging.LogRecord], bool]) -> None:
        super().__init__()
        self.routine = routine
        setattr(self, _ROUTINE_FILTER, True)

    def filter(self, record: logging.LogRecord) -> bool:
        if logging.INFO <= record.levelno < logging.ERROR and self.routine(record):
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
