"""State that must outlive a re-import of this package.

Streamlit's file watcher evicts modules under the app folder from ``sys.modules`` and imports
them again, so a module-level registry would forget the sinks it added and the context
variables it set. Everything here lives in one ``State`` object stored on loguru's ``logger``,
which is never reloaded. Each field belongs to the module named in its comment; ``state()``
returns the process's object.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loguru import logger

if TYPE_CHECKING:
    from .context import AmbientSource, OperationFrame
    from .installation import LoggingHandle
    from .otel.tracing import Tracing
    from .patcher.values import ValueRedactor
    from .sinks.compression import BackgroundCompressor
    from .sinks.files import ResilientFileSink

_ATTR = "_streamlit_extension_state"


@dataclass(eq=False)
class State:
    # configure: the installation, its lock, and a counter of this package's imports.
    setup: LoggingHandle | None = None
    setup_lock: threading.RLock = field(default_factory=threading.RLock)
    generations: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    # context: correlation and operation scopes, ambient sources, operations ended elsewhere.
    correlation_id_var: ContextVar[str | None] = field(
        default_factory=lambda: ContextVar("streamlit_extension_correlation_id", default=None))
    operation_var: ContextVar[OperationFrame | None] = field(
        default_factory=lambda: ContextVar("streamlit_extension_operation", default=None))
    ambient_sources: list[AmbientSource] = field(default_factory=list)
    stale_operations: dict[str, str | None] = field(default_factory=dict)
    # pseudonyms: the HMAC salt, read or created on first use.
    user_salt: bytes | None = None
    salt_lock: threading.Lock = field(default_factory=threading.Lock)
    # sinks: open file sinks (re-opened after a fork) and compressors to drain at exit.
    file_sinks: weakref.WeakSet[ResilientFileSink] = field(default_factory=weakref.WeakSet)
    fork_hook: bool = False
    compressors: set[BackgroundCompressor] = field(default_factory=set)
    compression_atexit: bool = False
    # otel: the active Tracing, and the pid that configured the SDK.
    tracing: Tracing | None = None
    otel_sdk_pid: int | None = None
    # integration: the run source, Streamlit's loggers, st.secrets, runs and capabilities.
    streamlit_source: Any = None
    log_client_ip: bool = False  # the installation's log_ip: add client_ip to records
    routed_logger_count: int | None = None
    config_hook: bool = False
    secrets_lock: threading.Lock = field(default_factory=threading.Lock)
    secrets_registered: ValueRedactor | None = None
    carried_fields: ContextVar[Mapping[str, Any] | None] = field(
        default_factory=lambda: ContextVar("streamlit_extension_carried", default=None))
    run_create_lock: threading.Lock = field(default_factory=threading.Lock)
    run_end_watcher: Any = None  # integration.compat.ThreadWatcher, made on first import
    compat_missing: set[str] = field(default_factory=set)
    compat_disabled: set[str] = field(default_factory=set)
    uncaught_listener: Any = None


def state() -> State:
    """The process's ``State``, created on first use."""
    found: State | None = getattr(logger, _ATTR, None)  # after a re-import: the first import's State
    if found is None:
        found = vars(logger).setdefault(_ATTR, State())  # atomic: two first callers get one object
    return found
