"""Public names imported from their owner module on first use (a package's ``__getattr__``).

A package that re-exports its modules' names would import them all with the package: reading
the logs (``st-logs``) would pay for the logging side, and the core for Streamlit.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def exports(package: str, owners: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``owners`` maps each name to its module,
    relative to the package; once imported, a name is set on the package."""

    def lookup(name: str) -> Any:
        owner = owners.get(name)
        if owner is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{owner}", package), name)
        setattr(sys.modules[package], name, value)  # once: later lookups don't come here
        return value

    return lookup
