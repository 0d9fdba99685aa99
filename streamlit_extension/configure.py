"""``setup_logging``: one idempotent call that installs the patcher, the sinks and the stdlib
route, and returns a handle that removes exactly what it added.

Every argument defaults from an environment variable. Calling it again with the same settings
(each Streamlit rerun, each session, after a module reload) keeps the one installation.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loguru import logger

from . import _loguru, _report, _state, stdlib
from .otel import _api as _otel_api
from .otel.logs import OtlpLogSink
from .otel.logs import format_message as otel_format_message
from .otel.provider import check_mode as check_otel_mode
from .otel.provider import tracing_for
from .otel.tracing import active as active_tracing
from .otel.tracing import set_active as set_tracing
from .patcher import MARKER as PATCHER_MARKER
from .patcher import Sanitizer, build_patcher, guarded
from .patcher.redaction import DEFAULT_REDACT_KEYS, KeyRedactor
from .patcher.values import ValueRedactor
from .schema import COMPRESSIONS, DEFAULT_LOG_FILE
from .sinks import serialized
from .sinks.console import ConsoleStream, console_format
from .sinks.files import ResilientFileSink, make_file_sink
from .sinks.flat import flat_line, loguru_text_format, make_flat_format
from .sinks.naming import resolve_path

if TYPE_CHECKING:
    from loguru import Record

JSON_FORMATS = ("loguru", "flat")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")  # "" last: error messages list the others
_OFF = (*_FALSE, "none")  # a feature turned off: any false value, or "none"
_LOGURU_DEFAULT_HANDLER = 0
# Counts up each time Streamlit's watcher re-imports this module: the newest generation's code
# takes over an installation once, and an older one calling in afterwards uses it as it is.
GENERATION: int = next(_state.state().generations)


class EnvDefault:
    """A parameter default read from an environment variable when the call is made."""

    is_env_default = True  # checked by attribute: a re-imported module has a new class

    def __init__(self, env: str, fallback: Any) -> None:
        self.env = env
        self.fallback = fallback

    def __repr__(self) -> str:
        return f"${self.env} or {self.fallback!r}"


@dataclass(frozen=True)
class LoggingConfig:
    log_path: str | None
    level: str | int
    json_format: str
    rotation: Any
    retention: Any
    compression: Any
    console: bool | str  # True, False, or "json" (flat JSON lines on stdout)
    per_process: bool
    intercept_stdlib: bool
    redact_keys: frozenset
    redact_emails: bool
    log_ip: bool
    otel: str = "off"


def _from_env(value: Any, parse: Callable[[str], Any]) -> Any:
    if not getattr(value, "is_env_default", False):
        return value
    raw = os.environ.get(value.env)
    if raw is None:
        return value.fallback
    return parse(raw.strip())


def _parse_level(raw: str) -> str | int:
    return int(raw) if raw.isdigit() else raw


def _parse_optional(raw: str) -> str | int | None:
    if raw.lower() in _OFF:
        return None
    return int(raw) if raw.isdigit() else raw


def _parse_bool(raw: str) -> bool:
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ValueError(f"expected one of {', '.join(_TRUE + _FALSE[:-1])}, got {raw!r}")


def _parse_console(raw: str) -> bool | str:
    return "json" if raw.lower() == "json" else _parse_bool(raw)


def _check_console(value: Any) -> bool | str:
    if isinstance(value, str) and value.lower() == "json":
        return "json"
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected True, False or 'json', got {value!r}")


def _check_bool(value: Any) -> bool:
    if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
        return bool(value)
    raise ValueError(f"expected True or False, got {value!r}")


def _check_otel(value: Any) -> str:
    return check_otel_mode(value.lower() if isinstance(value, str) else value)


def _check_json_format(value: Any) -> str:
    value = value.lower() if isinstance(value, str) else value
    if value not in JSON_FORMATS:
        raise ValueError(f"expected one of {', '.join(JSON_FORMATS)}, got {value!r}")
    return value


class SettingError(ValueError):
    """A bad setting, named where it came from: ``LOG_LEVEL='LOUD': ...`` or ``level: ...``."""

    def __init__(self, source: str, reason: str, argument: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason
        self.argument = argument  # the setup_logging parameter


def _setting(argument: str, value: Any, parse: Callable[[str], Any], check: Callable[[Any], Any] = lambda v: v) -> Any:
    """``value`` (or its environment variable) parsed and checked; a ``SettingError`` names the
    variable and what it held when the value came from one, else the argument."""
    env = value.env if getattr(value, "is_env_default", False) else None
    raw = os.environ.get(env) if env else None
    try:
        return check(_from_env(value, parse))
    except ValueError as exc:
        raise SettingError(f"{env}={raw!r}" if raw is not None else argument, str(exc), argument) from None


def _check_level(level: Any) -> str | int:
    if isinstance(level, bool) or not isinstance(level, (str, int)):
        raise ValueError(f"expected a level name or a non-negative int, got {level!r}")
    if isinstance(level, int):
        if level < 0:
            raise ValueError(f"expected a level name or a non-negative int, got {level!r}")
        return level
    name = level.upper()
    try:
        logger.level(name)
    except ValueError:
        known = "TRACE, DEBUG, INFO, SUCCESS, WARNING, ERROR, CRITICAL"
        raise ValueError(f"expected one of {known} (or a custom loguru level), got {level!r}") from None
    return name


def _check_file_option(name: str, value: Any, accepted: str) -> Any:
    try:
        return _check_file_option_cached(name, value, accepted)
    except TypeError as exc:  # an unhashable value: validate it uncached
        if "unhashable" not in str(exc):
            raise
        return _validate_file_option(name, value, accepted)


@functools.lru_cache(maxsize=64)
def _check_file_option_cached(name: str, value: Any, accepted: str) -> Any:
    # setup_logging() runs on every Streamlit rerun; building a FileSink to validate is not free.
    return _validate_file_option(name, value, accepted)


def _validate_file_option(name: str, value: Any, accepted: str) -> Any:
    if value is None:
        return None
    if name == "compression" and isinstance(value, str) and value.strip().lstrip(".") not in COMPRESSIONS:
        raise ValueError(f"expected one of {', '.join(COMPRESSIONS)}, a callable or None; got {value!r}")
    try:
        options = {"rotation": "1 MB"} if name == "compression" else {}
        make_file_sink("validate.jsonl", **{**options, name: value})  # delayed: touches no file
    except (ValueError, TypeError) as exc:
        raise ValueError(f"cannot use {value!r}; expected {accepted} ({exc})") from None
    return value


def _std_level(level: str | int) -> int:
    return level if isinstance(level, int) else logger.level(level).no


class LoggingHandle:
    """What ``setup_logging`` installed. ``close()`` flushes and removes exactly that."""

    def __init__(self, config: LoggingConfig, sink_ids: tuple[int, ...], file_sink: ResilientFileSink | None,
                 patcher: Callable, chained: Callable | None, intercept: logging.Handler | None,
                 previous_root_level: int | None) -> None:
        self.config = config
        self.sink_ids = sink_ids
        self.file_sink = file_sink
        self._patcher = patcher
        self._chained = chained
        self._intercept = intercept
        self._previous_root_level = previous_root_level
        self.generation = GENERATION
        self.pid = os.getpid()
        self.closed = False
        self.value_redactor: ValueRedactor | None = None

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
        if _loguru.current_patcher() is self._patcher:
            # configure(patcher=None) is a no-op in loguru, so restore with a real callable.
            logger.configure(patcher=self._chained or _no_patcher)
        state = _state.state()
        if state.setup is self:
            state.setup = None
            set_tracing(None)  # no spans without an installation (the SDK, if we set it, stays)

    def __enter__(self) -> LoggingHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<LoggingHandle {state} sinks={list(self.sink_ids)} file={self.log_path!r}>"


def _no_patcher(record: Record) -> None:
    return None


def _redactors(config: LoggingConfig) -> tuple[KeyRedactor, ValueRedactor]:
    keys = KeyRedactor(config.redact_keys)
    return keys, ValueRedactor(emails=config.redact_emails, ip="truncate" if config.log_ip else "mask", keys=keys)


def _install(config: LoggingConfig) -> LoggingHandle:
    redactor, values = _redactors(config)
    previous = _loguru.current_patcher()
    chained = getattr(previous, PATCHER_MARKER) if hasattr(previous, PATCHER_MARKER) else previous
    if chained is _no_patcher:
        chained = None
    tracing = tracing_for(config.otel)
    set_tracing(tracing)
    patcher = build_patcher(Sanitizer(redactor, values), chained, trace_ids=tracing is not None)
    logger.configure(patcher=patcher)

    try:
        logger.remove(_LOGURU_DEFAULT_HANDLER)  # loguru's own stderr sink, never the app's
    except ValueError:
        pass

    common: dict[str, Any] = {
        "level": config.level, "backtrace": False, "diagnose": False, "enqueue": False, "catch": True,
    }
    sink_ids = []
    file_sink = None
    if config.log_path:
        flat = config.json_format == "flat"
        file_sink = ResilientFileSink(
            resolve_path(config.log_path, config.per_process),
            rotation=config.rotation, retention=config.retention, compression=config.compression,
            pattern=config.log_path, per_process=config.per_process,
            line_of=functools.partial(flat_line, redactor=redactor) if flat else serialized.loguru_line,
        )
        if flat:
            sink_ids.append(logger.add(file_sink, format=guarded(make_flat_format(redactor), patcher), colorize=False,
                                       **common))
        else:
            sink_ids.append(logger.add(file_sink, format=guarded(loguru_text_format, patcher), serialize=True,
                                       colorize=False, **common))
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
        intercept, previous_level = stdlib.install(_std_level(config.level))
    handle = LoggingHandle(config, tuple(sink_ids), file_sink, patcher, chained, intercept, previous_level)
    handle.value_redactor = values  # the Streamlit side registers st.secrets here
    return handle


def fallback_setting(argument: str) -> Any:
    """``argument``'s built-in default (its environment variable ignored)."""
    import inspect

    default = inspect.signature(setup_logging).parameters[argument].default
    return default.fallback if getattr(default, "is_env_default", False) else default


def _adopt(old: LoggingHandle) -> LoggingHandle:
    """This generation's patcher and stdlib route over the sinks ``old`` installed.

    The sinks stay (no file is closed or reopened), loguru's patcher slot is swapped in one step,
    and the new stdlib handler goes on before the old one comes off: no record is lost or doubled.
    """
    config = old.config
    redactor, values = _redactors(config)
    patcher = build_patcher(Sanitizer(redactor, values), old._chained, trace_ids=active_tracing() is not None)
    logger.configure(patcher=patcher)
    intercept, previous_level = None, old._previous_root_level
    if config.intercept_stdlib:
        intercept, _ = stdlib.install(_std_level(config.level))
    handle = LoggingHandle(config, old.sink_ids, old.file_sink, patcher, old._chained, intercept, previous_level)
    handle.value_redactor = values
    old.closed = True  # its sinks, patcher slot and stdlib route now belong to ``handle``
    return handle


_lock: threading.RLock = _state.state().setup_lock


def setup_logging(
    *,
    log_path: str | None = EnvDefault("LOG_FILE", DEFAULT_LOG_FILE),  # type: ignore[assignment]
    level: str | int = EnvDefault("LOG_LEVEL", "INFO"),  # type: ignore[assignment]
    json_format: str = EnvDefault("LOG_FORMAT", "loguru"),  # type: ignore[assignment]
    rotation: Any = EnvDefault("LOG_ROTATION", "10 MB"),
    retention: Any = EnvDefault("LOG_RETENTION", "14 days"),
    compression: Any = EnvDefault("LOG_COMPRESSION", "gz"),
    console: bool = EnvDefault("LOG_CONSOLE", True),  # type: ignore[assignment]
    intercept_stdlib: bool = True,
    per_process: bool = EnvDefault("LOG_PER_PROCESS", True),  # type: ignore[assignment]
    redact_keys: Iterable[str] | None = None,
    redact_emails: bool = EnvDefault("LOG_REDACT_EMAILS", True),  # type: ignore[assignment]
    log_ip: bool = EnvDefault("LOG_IP", False),  # type: ignore[assignment]
    otel: str = EnvDefault("LOG_OTEL", "auto"),  # type: ignore[assignment]
) -> LoggingHandle:
    """Configure correlation logging; safe to call on every Streamlit rerun.

    ``log_path=None`` (or ``LOG_FILE=""``) writes no file. Each process writes its own file,
    ``<stem>.<host>-<pid><suffix>``, unless ``per_process=False`` (``LOG_PER_PROCESS=0``) pins the
    name; ``{pid}`` and ``{host}`` in the path are filled in. ``rotation``/``retention``/
    ``compression=None`` turn that feature off. ``redact_keys`` replaces the default deny-list
    (extend it with ``DEFAULT_REDACT_KEYS | {...}``). IP addresses in any text are masked unless
    ``log_ip=True``, which keeps their /24 (IPv4) or /48 (IPv6) network and adds the client's as
    ``client_ip`` in Streamlit. Raises ``ValueError`` for a bad argument.
    """
    log_path = _from_env(log_path, lambda raw: raw or None)
    if log_path is not None:
        log_path = os.fspath(log_path) or None
    sizes = ("a size ('10 MB'), a duration ('1 day'), a time ('18:00'), 'daily'/'weekly', bytes as int, a timedelta, "
             "a callable or None")
    durations = "a duration ('14 days'), a file count as int, a timedelta, a callable or None"
    try:
        redact = frozenset(KeyRedactor(DEFAULT_REDACT_KEYS if redact_keys is None else redact_keys).keys)
    except ValueError as exc:
        raise SettingError("redact_keys", str(exc).removeprefix("redact_keys: "), "redact_keys") from None
    config = LoggingConfig(
        log_path=log_path,
        level=_setting("level", level, _parse_level, _check_level),
        json_format=_setting("json_format", json_format, str, _check_json_format),
        rotation=_setting("rotation", rotation, _parse_optional, lambda v: _check_file_option("rotation", v, sizes)),
        retention=_setting("retention", retention, _parse_optional,
                           lambda v: _check_file_option("retention", v, durations)),
        compression=_setting("compression", compression, _parse_optional, lambda v: _check_file_option(
            "compression", v, f"one of {', '.join(COMPRESSIONS)}, a callable or None")),
        console=_setting("console", console, _parse_console, _check_console),
        per_process=_setting("per_process", per_process, _parse_bool, _check_bool),
        intercept_stdlib=bool(intercept_stdlib),
        redact_keys=redact,
        redact_emails=_setting("redact_emails", redact_emails, _parse_bool, _check_bool),
        log_ip=_setting("log_ip", log_ip, _parse_bool, _check_bool),
        otel=_setting("otel", otel, str, _check_otel),
    )
    with _lock:
        state = _state.state()
        handle = state.setup
        if handle is None or not handle.is_current(config):
            if handle is not None:
                handle.close()
            handle = state.setup = _install(config)
        elif getattr(handle, "generation", 0) < GENERATION:
            handle = state.setup = _adopt(handle)  # once per re-import; older code calling in keeps the newer one
    if "streamlit" in sys.modules:
        _install_streamlit(handle)
    return handle


def _install_streamlit(handle: LoggingHandle) -> None:
    """Inside a Streamlit app: per-run correlation, identity and Streamlit's own loggers.

    ``install`` reports each step that fails with what it costs; core logging works regardless.
    """
    try:
        from .integration import install
    except Exception as exc:  # a Streamlit we can't import from at all
        _report.notice_once("streamlit-import", f"Streamlit support unavailable ({_report.describe(exc)}); "
                                                "lost: per-run correlation, session and user ids")
        return
    install(handle)


def init_streamlit_logging(**kwargs: Any) -> LoggingHandle:
    """``setup_logging(**kwargs)`` plus the Streamlit integration; call it first in the script.

    A bad setting (``LOG_LEVEL=LOUD``) doesn't take the page down with a traceback: the page shows
    one ``st.error`` naming the variable and the fix, stderr says it once, and logging runs on
    the built-in defaults until the setting is fixed.
    """
    from .integration import show_setting_error

    settings = dict(kwargs)
    for _ in range(16):  # each bad setting in turn falls back to its default
        try:
            return _with_streamlit(setup_logging(**settings))
        except SettingError as exc:
            _report.notice_once(f"setting:{exc}", f"{exc}. Logging uses the default for it until this is fixed.",
                                every=3600.0)
            show_setting_error(exc)
            settings[exc.argument] = fallback_setting(exc.argument)
    return _with_streamlit(setup_logging(**settings))


def _with_streamlit(handle: LoggingHandle) -> LoggingHandle:
    if "streamlit" not in sys.modules:  # setup_logging installs it only when Streamlit is imported
        _install_streamlit(handle)
    return handle
