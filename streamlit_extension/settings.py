"""``setup_logging``'s settings: each argument, or the environment variable it defaults from,
parsed and checked into one ``LoggingConfig``.

A bad value is a ``SettingError`` naming where it came from (``LOG_LEVEL='LOUD': ...`` or
``level: ...``). ``read_config`` raises the first one, or, given ``on_error``, hands each one
over in turn and goes on with the value it returns (``init_streamlit_logging``: report it, use
the default).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from loguru import logger

from .otel.provider import check_mode as check_otel_mode
from .patcher.redaction import DEFAULT_REDACT_KEYS, KeyRedactor
from .schema import COMPRESSIONS
from .sinks.files import make_file_sink

JSON_FORMATS = ("loguru", "flat")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")  # "" last: error messages list the others
_OFF = (*_FALSE, "none")  # a feature turned off: any false value, or "none"
_SIZES = ("a size ('10 MB'), a duration ('1 day'), a time ('18:00'), 'daily'/'weekly', bytes as int, a timedelta, "
          "a callable or None")
_DURATIONS = "a duration ('14 days'), a file count as int, a timedelta, a callable or None"


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
    failure_context: str | int | None = None  # a level below ``level`` kept per interaction, or None


class SettingError(ValueError):
    """A bad setting, named where it came from: ``LOG_LEVEL='LOUD': ...`` or ``level: ...``."""

    def __init__(self, source: str, reason: str, argument: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason
        self.argument = argument  # the setup_logging parameter


def read_config(arguments: Mapping[str, Any], *,
                on_error: Callable[[SettingError], Any] | None = None) -> LoggingConfig:
    """``arguments`` (every ``setup_logging`` parameter; an ``EnvDefault`` is read from its
    variable now) as one checked ``LoggingConfig``.

    A bad value raises ``SettingError``. With ``on_error``, each bad value in turn is handed to
    it instead, and the value it returns (checked the same way) takes its place.
    """

    def setting(argument: str, parse: Callable[[str], Any], check: Callable[[Any], Any] = _unchecked) -> Any:
        try:
            return _setting(argument, arguments[argument], parse, check)
        except SettingError as exc:
            if on_error is None:
                raise
            return _setting(argument, on_error(exc), parse, check)

    log_path = _from_env(arguments["log_path"], lambda raw: raw or None)
    if log_path is not None:
        log_path = os.fspath(log_path) or None
    redact = setting("redact_keys", str, _check_redact_keys)
    accepted = f"one of {', '.join(COMPRESSIONS)}, a callable or None"
    return LoggingConfig(
        log_path=log_path,
        level=setting("level", _parse_level, _check_level),
        json_format=setting("json_format", str, _check_json_format),
        rotation=setting("rotation", _parse_optional, lambda v: _check_file_option("rotation", v, _SIZES)),
        retention=setting("retention", _parse_optional, lambda v: _check_file_option("retention", v, _DURATIONS)),
        compression=setting("compression", _parse_optional,
                            lambda v: _check_file_option("compression", v, accepted)),
        console=setting("console", _parse_console, _check_console),
        per_process=setting("per_process", _parse_bool, _check_bool),
        intercept_stdlib=bool(arguments["intercept_stdlib"]),
        redact_keys=redact,
        redact_emails=setting("redact_emails", _parse_bool, _check_bool),
        log_ip=setting("log_ip", _parse_bool, _check_bool),
        otel=setting("otel", str, _check_otel),
        failure_context=setting("failure_context", _parse_failure_context, _check_failure_context),
    )


def _unchecked(value: Any) -> Any:
    return value


def _from_env(value: Any, parse: Callable[[str], Any]) -> Any:
    if not getattr(value, "is_env_default", False):
        return value
    raw = os.environ.get(value.env)
    if raw is None:
        return value.fallback
    return parse(raw.strip())


def _setting(argument: str, value: Any, parse: Callable[[str], Any], check: Callable[[Any], Any]) -> Any:
    """``value`` (or its environment variable) parsed and checked; a ``SettingError`` names the
    variable and what it held when the value came from one, else the argument."""
    env = value.env if getattr(value, "is_env_default", False) else None
    raw = os.environ.get(env) if env else None
    try:
        return check(_from_env(value, parse))
    except ValueError as exc:
        raise SettingError(f"{env}={raw!r}" if raw is not None else argument, str(exc), argument) from None


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


def _parse_failure_context(raw: str) -> str | int | None:
    return None if raw.lower() in _OFF else _parse_level(raw)


def _check_failure_context(value: Any) -> str | int | None:
    """A level (as for ``level``), or None/False: off."""
    if value is None or value is False:
        return None
    try:
        return _check_level(value)
    except ValueError as exc:
        raise ValueError(f"{exc}; or None to turn it off") from None


def _check_otel(value: Any) -> str:
    return check_otel_mode(value.lower() if isinstance(value, str) else value)


def _check_json_format(value: Any) -> str:
    value = value.lower() if isinstance(value, str) else value
    if value not in JSON_FORMATS:
        raise ValueError(f"expected one of {', '.join(JSON_FORMATS)}, got {value!r}")
    return value


def _check_redact_keys(keys: Any) -> frozenset:
    try:
        return frozenset(KeyRedactor(DEFAULT_REDACT_KEYS if keys is None else keys).keys)
    except ValueError as exc:
        raise ValueError(str(exc).removeprefix("redact_keys: ")) from None


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
