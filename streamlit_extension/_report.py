"""Notices about the logging system itself, written straight to stderr.

Logging must never raise into the app, so faults inside the pipeline (a full disk, a broken
patcher step) are reported here instead: once when a fault starts, once when it ends, never
once per record.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field

from ._shared import shared

_PREFIX = "streamlit_extension"


@dataclass(eq=False)
class Throttle:
    """When each notice key last went out (``time.monotonic()``), for the whole process."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    last: dict[str, float] = field(default_factory=dict)


_throttle: Throttle = shared(f"{__name__}.throttle", Throttle)


def notice(message: str) -> None:
    """Write one line to stderr. Never raises."""
    try:
        stream = sys.stderr or sys.__stderr__
        if stream is not None:
            stream.write(f"{_PREFIX}: {message}\n")
            stream.flush()
    except Exception:  # stderr itself is gone: nothing left to tell
        pass


def notice_once(key: str, message: str, *, every: float = 60.0) -> bool:
    """Write ``message`` unless a notice with the same ``key`` went out in the last ``every`` s."""
    now = time.monotonic()
    with _throttle.lock:
        last = _throttle.last.get(key)
        if last is not None and now - last < every:
            return False
        _throttle.last[key] = now
    notice(message)
    return True


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
