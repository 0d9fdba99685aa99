"""The process's one installation: the patcher, the sinks and the stdlib route that
``setup_logging`` put in place, and the ``LoggingHandle`` that removes exactly those.

``apply(config, generation)`` keeps the installation when it is still exactly what ``config``
asks for, replaces it when not, and hands it over to a newer generation of the calling code
(Streamlit's watcher re-imported it) without closing a file or losing or doubling a record.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loguru import logger

from . import _loguru, stdlib
from ._shared import shared
from .context import on_interaction_end
from .otel import _api as _otel_api
from .otel.logs import OtlpLogSink
from .otel.logs import format_message as otel_format_message
from .otel.provider import tracing_for
from .otel.tracing import active as active_tracing
from .otel.tracing import set_active as set_tracing
from .patcher import MARKER as PATCHER_MARKER
from .patcher import Sanitizer, build_patcher, guarded
from .patcher.redaction import KeyRedactor
from .patcher.values import ValueRedactor
from .settings import LoggingConfig
from .sinks import serialized
from .sinks.console import ConsoleStream, console_format
from .sinks.failure_context import FailureContext
from .sinks.files import ResilientFileSink
from .sinks.flat import flat_line, loguru_text_format, make_flat_format
from .sinks.naming import resolve_path

if TYPE_CHECKING:
    from loguru import Record

_LOGURU_DEFAULT_HANDLER = 0


class LoggingHandle:
    """What ``setup_logging`` installed. ``close()`` flushes and removes exactly that."""

    def __init__(self, config: LoggingConfig, sink_ids: tuple[int, ...], file_sink: ResilientFileSink | None,
                 patcher: Callable, chained: Callable | None, intercept: logging.Handler | None,
                 previous_root_level: int | None, value_redactor: ValueRedactor, generation: int,
                 failure_context: FailureContext | None = None) -> None:
        self.config = config
        self.sink_ids = sink_ids
        self.file_sink = file_sink
        self._patcher = patcher
        self._chained = chained
        self._intercept = intercept
        self._previous_root_level = previous_root_level
        self.value_redactor = value_redactor  # the Streamlit side registers st.secrets here
        self.generation = generation  # of the code that made it: see ``apply``
        self.failure_context = failure_context  # the file's, when ``failure_context`` is on
        self.pid = os.getpid()
        self.closed = False

    @property
    def log_path(self) -> str | None:
        """The configured path (a pattern: per-process tag and placeholders not applied)."""
        return self.config.log_path

    @property
    def file_path(self) -> str | None:
        """The file this process writes to (before rotation renames it)."""
        return self.file_sink.path if self.file_sink is not None else None

    def is_current(self, config: LoggingConfig) -> bool:
        """Still installed, exactly as ``config`` asks?"""
        # By value: after a re-import, two generations' LoggingConfig classes differ.
        if self.closed or vars(config) != vars(self.config) or self.pid != os.getpid():
            return False  # (a forked child installs its own: see ResilientFileSink)
        handler_ids = _loguru.installed_handler_ids()
        if handler_ids is None:  # loguru won't say: trust our own record of what we added
            return True
        if _loguru.current_patcher() is not self._patcher:
            return False
        if any(sink_id not in handler_ids for sink_id in self.sink_ids):
            return False
        return self._intercept is None or self._intercept in logging.getLogger().handlers

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for sink_id in self.sink_ids:
            try:
                logger.remove(sink_id)  # stops the sink: flushes and closes the file
            except ValueError:
                pass  # already removed by someone else
        stdlib.uninstall(self._intercept, self._previous_root_level)
        if self.failure_context is not None:
            on_interaction_end(None)
        if _loguru.current_patcher() is self._patcher:
            # configure(patcher=None) is a no-op in loguru, so restore with a real callable.
            logger.configure(patcher=self._chained or _no_patcher)
        if _installation.handle is self:
            _installation.handle = None
            set_tracing(None)  # no spans without an installation (the SDK, if we set it, stays)
            _loguru.uninstall_clock()

    def __enter__(self) -> LoggingHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        # The file written to, host and pid in its name: the configured pattern is ``log_path``.
        return f"<LoggingHandle {state} sinks={list(self.sink_ids)} file={self.file_path!r}>"


@dataclass(eq=False)
class Installation:
    handle: LoggingHandle | None = None  # the current one: what ``apply`` keeps, replaces or adopts
    lock: threading.RLock = field(default_factory=threading.RLock)
    generations: Iterator[int] = field(default_factory=lambda: itertools.count(1))  # see ``next_generation``


_installation: Installation = shared(f"{__name__}.installation", Installation)


def next_generation() -> int:
    """A number higher than any before it in this process: each import of the calling module
    takes one, so the newest code can tell an installation older code made."""
    return next(_installation.generations)


def apply(config: LoggingConfig, generation: int) -> LoggingHandle:
    """The installation ``config`` asks for: the current one if it still is exactly that, else a
    new one in its place. Code of a newer ``generation`` takes an older one's installation over
    once; older code calling in afterwards gets the newer handle as it is."""
    with _installation.lock:
        handle = _installation.handle
        if handle is None or not handle.is_current(config):
            if handle is not None:
                handle.close()
            handle = _installation.handle = _install(config, generation)
        elif getattr(handle, "generation", 0) < generation:
            handle = _installation.handle = _adopt(handle, generation)
    return handle


def _no_patcher(record: Record) -> None:
    return None


def _redactors(config: LoggingConfig) -> tuple[KeyRedactor, ValueRedactor]:
    keys = KeyRedactor(config.redact_keys)
    return keys, ValueRedactor(emails=config.redact_emails, ip="truncate" if config.log_ip else "mask", keys=keys)


def _std_level(level: str | int) -> int:
    return level if isinstance(level, int) else logger.level(level).no


def _kept_level(config: LoggingConfig) -> int | None:
    """The failure context's level number, when it is on and below the file's level."""
    if config.failure_context is None or not config.log_path:
        return None
    kept = _std_level(config.failure_context)
    return kept if kept < _std_level(config.level) else None


def _install(config: LoggingConfig, generation: int) -> LoggingHandle:
    redactor, values = _redactors(config)
    previous = _loguru.current_patcher()
    chained = getattr(previous, PATCHER_MARKER) if hasattr(previous, PATCHER_MARKER) else previous
    if chained is _no_patcher:
        chained = None
    tracing = tracing_for(config.otel)
    sanitizer = Sanitizer(redactor, values)
    set_tracing(tracing, sanitizer)  # spans redact as the file does
    patcher = build_patcher(sanitizer, chained, trace_ids=tracing is not None)
    logger.configure(patcher=patcher)
    _loguru.install_clock()

    try:
        logger.remove(_LOGURU_DEFAULT_HANDLER)  # loguru's own stderr sink, never the app's
    except ValueError:
        pass

    common: dict[str, Any] = {
        "level": config.level, "backtrace": False, "diagnose": False, "enqueue": False, "catch": True,
    }
    sink_ids = []
    file_sink = failure = None
    kept = _kept_level(config)
    if config.log_path:
        flat = config.json_format == "flat"
        line_of = functools.partial(flat_line, redactor=redactor) if flat else serialized.loguru_line
        file_sink = ResilientFileSink(
            resolve_path(config.log_path, config.per_process),
            rotation=config.rotation, retention=config.retention, compression=config.compression,
            pattern=config.log_path, per_process=config.per_process, line_of=line_of,
        )
        target: Any = file_sink
        options = common
        if kept is not None:  # the handler admits the lower level; the filter keeps or writes
            target = failure = FailureContext(file_sink, line_of, _std_level(config.level))
            options = {**common, "level": kept, "filter": failure.filter}
            on_interaction_end(failure.end)
        if flat:
            sink_ids.append(logger.add(target, format=guarded(make_flat_format(redactor), patcher), colorize=False,
                                       **options))
        else:
            sink_ids.append(logger.add(target, format=guarded(loguru_text_format, patcher), serialize=True,
                                       colorize=False, **options))
            serialized.install(sink_ids[-1])  # loguru's schema, encoded by orjson
    if config.console == "json":  # what container log collectors read: one flat JSON line each
        sink_ids.append(logger.add(ConsoleStream("stdout"), format=guarded(make_flat_format(redactor), patcher),
                                   colorize=False, **common))
    elif config.console:
        sink_ids.append(logger.add(ConsoleStream(), format=guarded(console_format, patcher), colorize=None, **common))
    if tracing is not None and _otel_api.sdk_logger_provider_installed():
        sink_ids.append(logger.add(OtlpLogSink(_otel_api.get_logger_provider()),
                                   format=guarded(otel_format_message, patcher), colorize=False, **common))

    intercept, previous_level = None, None
    if config.intercept_stdlib:
        intercept, previous_level = stdlib.install(_root_level(config))
    return LoggingHandle(config, tuple(sink_ids), file_sink, patcher, chained, intercept, previous_level, values,
                         generation, failure)


def _root_level(config: LoggingConfig) -> int:
    """The stdlib root logger's level: the lowest our sinks take (stdlib records are failure
    context too)."""
    level = _std_level(config.level)
    kept = _kept_level(config)
    return level if kept is None else min(level, kept)


def _adopt(old: LoggingHandle, generation: int) -> LoggingHandle:
    """This generation's patcher and stdlib route over the sinks ``old`` installed.

    The sinks stay (no file is closed or reopened), loguru's patcher slot is swapped in one step,
    and the new stdlib handler goes on before the old one comes off: no record is lost or doubled.
    """
    config = old.config
    redactor, values = _redactors(config)
    sanitizer = Sanitizer(redactor, values)
    set_tracing(active_tracing(), sanitizer)  # this generation's redactors (st.secrets go to ``values``)
    patcher = build_patcher(sanitizer, old._chained, trace_ids=active_tracing() is not None)
    logger.configure(patcher=patcher)
    intercept, previous_level = None, old._previous_root_level
    if config.intercept_stdlib:
        intercept, _ = stdlib.install(_root_level(config))
    handle = LoggingHandle(config, old.sink_ids, old.file_sink, patcher, old._chained, intercept, previous_level,
                           values, generation, getattr(old, "failure_context", None))
    old.closed = True  # its sinks, patcher slot and stdlib route now belong to ``handle``
    return handle
