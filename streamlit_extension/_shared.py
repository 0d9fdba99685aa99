"""Process state that must outlive a re-import of this package, each piece declared by its owner.

Streamlit's file watcher evicts changed modules under the app folder from ``sys.modules`` and
imports them again, so state kept in a module global would be lost with it: the sinks it
added, the hooks it registered, the notices it already gave. A module keeps such state with a
declaration at its top level::

    _open_sinks = shared(f"{__name__}.open_sinks", weakref.WeakSet)

The first import's ``factory()`` makes the object, once per process, and every later import of
the module gets that same object back. A key is its owner's module name (or starts with it and
a dot), so a module declares only its own state and no module needs another's types. The
objects live on loguru's ``logger`` (``_loguru.process_store``), which is never re-imported.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TypeVar, cast

from . import _loguru

T = TypeVar("T")
_LOCK = f"{__name__}.lock"


def shared(key: str, factory: Callable[[], T]) -> T:
    """The process's object for ``key``, made by ``factory()`` on the first call only.

    Raises ValueError unless ``key`` is the calling module's name or starts with it and a dot.
    """
    owner = sys._getframe(1).f_globals.get("__name__", "")
    if key != owner and not key.startswith(f"{owner}."):
        raise ValueError(f"shared({key!r}) called from {owner!r}: a key starts with its owner's module name")
    store = _loguru.process_store()
    try:
        return cast(T, store[key])
    except KeyError:
        pass
    with store.setdefault(_LOCK, threading.RLock()):  # one factory() call, even for two first callers
        if key not in store:
            store[key] = factory()
        return cast(T, store[key])
