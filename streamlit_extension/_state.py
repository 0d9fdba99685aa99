"""State that must outlive a re-import of this package.

Streamlit's file watcher evicts modules under the app folder from ``sys.modules`` and imports
them again, so a module-level registry would forget the sinks it added and the context
variables it set. Everything here is stored on loguru's ``logger`` object, which is never
reloaded, under one attribute.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from loguru import logger

_ATTR = "_streamlit_extension_state"

T = TypeVar("T")


def _store() -> dict[str, Any]:
    store = getattr(logger, _ATTR, None)
    if store is None:
        store = {}
        setattr(logger, _ATTR, store)
    return store


def persistent(key: str, factory: Callable[[], T]) -> T:
    """Return the object stored under ``key``, creating it with ``factory`` the first time."""
    store = _store()
    try:
        return store[key]
    except KeyError:
        return store.setdefault(key, factory())


def get(key: str, default: Any = None) -> Any:
    return _store().get(key, default)


def put(key: str, value: Any) -> None:
    _store()[key] = value
