"""Worker threads that keep the page's correlation.

A plain ``threading.Thread`` or ``ThreadPoolExecutor`` starts with no contextvars and no
Streamlit script-run context. These helpers copy the context at submit time, attach the
script-run context (so ``st.*`` calls work), and freeze the run's fields, so a worker's records
carry the page's ``session_id``, ``correlation_id`` and operation chain even after the run ends.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ..context import adopt_correlation_id, ambient_fields, current_correlation_id
from .compat import add_script_run_ctx, script_run_ctx
from .run import carried_fields

T = TypeVar("T")


def carry(fn: Callable[..., T]) -> Callable[..., T]:
    """Wrap ``fn`` to run in a copy of the current context, whatever thread calls it."""
    snapshot = contextvars.copy_context()
    ctx = script_run_ctx()
    fields = dict(ambient_fields() or {}) or None
    correlation_id = current_correlation_id()

    def in_context(*args: Any, **kwargs: Any) -> T:
        if ctx is not None:
            add_script_run_ctx(threading.current_thread(), ctx)
        if fields is not None:
            carried_fields.set(fields)
        adopt_correlation_id(correlation_id)
        return fn(*args, **kwargs)

    def run(*args: Any, **kwargs: Any) -> T:
        # Each call gets its own copy, so one snapshot can serve several calls.
        return snapshot.copy().run(in_context, *args, **kwargs)

    return run


class ContextThreadPoolExecutor(concurrent.futures.ThreadPoolExecutor):
    """A ThreadPoolExecutor whose tasks run in the submitter's context (see module docs)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
        return super().submit(carry(fn), *args, **kwargs)


def run_in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
    """Run ``fn(*args, **kwargs)`` in a new thread with the caller's context; returns a Future."""
    future: concurrent.futures.Future[T] = concurrent.futures.Future()
    target = carry(fn)

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(target(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future
            future.set_exception(exc)

    threading.Thread(target=work, name=f"streamlit_extension:{getattr(fn, '__name__', 'worker')}", daemon=True).start()
    return future
