"""``setup_logging`` and ``init_streamlit_logging``: the calls an app makes.

Every argument defaults from an environment variable. Calling again with the same settings
(each Streamlit rerun, each session, after a module reload) keeps the one installation. Each
call reads its settings (``settings``), keeps, replaces or takes over the process's
installation (``installation``), and inside a Streamlit app brings up the Streamlit side
(``integration``, imported only then).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import _report
from .installation import LoggingHandle, apply, next_generation
from .schema import DEFAULT_LOG_FILE
from .settings import EnvDefault, SettingError, read_config

# Counts up each time Streamlit's watcher re-imports this module: the newest generation's code
# takes over an installation once, and an older one calling in afterwards uses it as it is.
GENERATION: int = next_generation()


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
    failure_context: str | int | None = EnvDefault("LOG_FAILURE_CONTEXT", None),  # type: ignore[assignment]
) -> LoggingHandle:
    """Configure correlation logging; safe to call on every Streamlit rerun.

    ``log_path=None`` (or ``LOG_FILE=""``) writes no file. Each process writes its own file,
    ``<stem>.<host>-<pid><suffix>``, unless ``per_process=False`` (``LOG_PER_PROCESS=0``) pins the
    name; ``{pid}`` and ``{host}`` in the path are filled in. ``rotation``/``retention``/
    ``compression=None`` turn that feature off. ``redact_keys`` replaces the default deny-list
    (extend it with ``DEFAULT_REDACT_KEYS | {...}``). IP addresses in any text are masked unless
    ``log_ip=True``, which keeps their /24 (IPv4) or /48 (IPv6) network and adds the client's as
    ``client_ip`` in Streamlit. ``failure_context="DEBUG"`` keeps each interaction's records
    below ``level`` (down to DEBUG) and writes them to the file only if it fails (see the
    README, "Failure context"). Raises ``ValueError`` for a bad argument.
    """
    handle = _apply({
        "log_path": log_path, "level": level, "json_format": json_format, "rotation": rotation,
        "retention": retention, "compression": compression, "console": console,
        "intercept_stdlib": intercept_stdlib, "per_process": per_process, "redact_keys": redact_keys,
        "redact_emails": redact_emails, "log_ip": log_ip, "otel": otel,
        "failure_context": failure_context,
    })
    if "streamlit" in sys.modules:
        _install_streamlit(handle)
    return handle


def init_streamlit_logging(**kwargs: Any) -> LoggingHandle:
    """``setup_logging(**kwargs)`` plus the Streamlit integration; call it first in the script.

    A bad setting (``LOG_LEVEL=LOUD``) doesn't take the page down with a traceback: the page shows
    one ``st.error`` naming the variable and the fix, stderr says it once, and logging runs on
    the built-in defaults until the setting is fixed.
    """
    from .integration import show_setting_error

    def fall_back(exc: SettingError) -> Any:
        _report.notice_once(f"setting:{exc}", f"{exc}. Logging uses the default for it until this is fixed.",
                            every=3600.0)
        show_setting_error(exc)
        return fallback_setting(exc.argument)

    handle = _apply(_arguments(kwargs), on_error=fall_back)
    _install_streamlit(handle)
    return handle


def fallback_setting(argument: str) -> Any:
    """``argument``'s built-in default (its environment variable ignored)."""
    default = inspect.signature(setup_logging).parameters[argument].default
    return default.fallback if getattr(default, "is_env_default", False) else default


def _arguments(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Every ``setup_logging`` argument: ``kwargs``, and the defaults for the rest."""
    try:
        bound = inspect.signature(setup_logging).bind(**kwargs)
    except TypeError as exc:  # as the call itself would say it
        raise TypeError(f"setup_logging() {exc}") from None
    bound.apply_defaults()
    return bound.arguments


def _apply(arguments: Mapping[str, Any], on_error: Callable[[SettingError], Any] | None = None) -> LoggingHandle:
    return apply(read_config(arguments, on_error=on_error), GENERATION)


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


__all__ = ["LoggingHandle", "init_streamlit_logging", "setup_logging"]
