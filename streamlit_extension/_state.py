"""What is left of the one ``State`` object: fields of modules not yet moved to ``_shared``.

Every other piece of process state is declared by its owner with ``_shared.shared``. These
fields belong to ``context`` and ``integration.run``/``integration.threads`` and move there
next (issue 23); each is typed here without importing its owner, whose own annotation says
what it holds.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ._shared import shared


@dataclass(eq=False)
class State:
    # context: correlation and operation scopes, ambient sources, operations ended elsewhere.
    correlation_id_var: ContextVar[str | None] = field(
        default_factory=lambda: ContextVar("streamlit_extension_correlation_id", default=None))
    operation_var: ContextVar[Any] = field(
        default_factory=lambda: ContextVar("streamlit_extension_operation", default=None))
    ambient_sources: list[Any] = field(default_factory=list)
    stale_operations: dict[str, str | None] = field(default_factory=dict)
    # integration.run/threads: the installation's log_ip (set by integration.install), fields
    # carried into worker threads, the lock that starts a run, the fallback watcher of run ends.
    log_client_ip: bool = False
    carried_fields: ContextVar[Any] = field(
        default_factory=lambda: ContextVar("streamlit_extension_carried", default=None))
    run_create_lock: threading.Lock = field(default_factory=threading.Lock)
    run_end_watcher: Any = None  # integration.compat.ThreadWatcher, made on first import


_state: State = shared(f"{__name__}.state", State)


def state() -> State:
    """The process's ``State``."""
    return _state
