"""A bounded exit for the providers we configured: what is queued goes to the collector within a
budget, the rest is counted and named in one line on stderr.

Left to itself, the SDK shuts its providers down at interpreter exit and waits on a dead
collector: each queued batch is retried with back-off for up to ``OTEL_EXPORTER_OTLP_TIMEOUT``
(10 s), and a processor waits up to 30 s for its thread; a process took 20 to 30 s to end. So our
providers are built with ``shutdown_on_exit=False`` and shut down here, from our own ``atexit``
hook (on ``streamlit run``, after Ctrl-C or SIGTERM has stopped the server).

**The budget.** ``OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`` / ``OTEL_EXPORTER_OTLP_LOGS_TIMEOUT``, else
``OTEL_EXPORTER_OTLP_TIMEOUT`` (seconds, as the Python SDK reads them) when set, else 2 s. Both
signals flush at once, each within its own budget; then exit goes on whatever the network does.

Each provider's shutdown runs on a daemon thread started when the SDK is configured: at exit a
new thread can't be started (Python 3.12), and a request stuck on a silent collector must not hold
the process (a daemon thread doesn't).
"""

from __future__ import annotations

import atexit
import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from .. import _report
from .delivery import BoundedExporter, Collector, Tally

DEFAULT_BUDGET = 2.0
_GRACE = 0.25  # of the budget, kept after the exports' deadline for those cut at it to return and be counted


def budget(signal: str) -> float:
    """Seconds the exit may spend delivering ``signal`` (``traces``, ``logs``)."""
    raw = os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_TIMEOUT") or os.environ.get("OTEL_EXPORTER_OTLP_TIMEOUT")
    if not raw:
        return DEFAULT_BUDGET
    try:
        seconds = float(raw)
    except ValueError:  # the SDK warns about it and uses its default; we keep ours
        return DEFAULT_BUDGET
    return max(0.0, seconds) if math.isfinite(seconds) else DEFAULT_BUDGET


class _Closer:
    """A daemon thread, waiting from the start, that shuts one provider down when asked."""

    def __init__(self, name: str, provider: Any) -> None:
        self._provider = provider
        self._go = threading.Event()
        self.done = threading.Event()
        threading.Thread(target=self._run, name=f"streamlit_extension-otel-exit-{name}", daemon=True).start()

    def _run(self) -> None:
        self._go.wait()
        try:
            self._provider.shutdown()  # the batch processor's last export, through our exporter
        except Exception:
            pass
        finally:
            self.done.set()

    def close(self) -> None:
        self._go.set()


@dataclass
class _Signal:
    name: str  # traces, logs
    provider: Any
    exporter: BoundedExporter
    tally: Tally
    budget: float
    closer: _Closer | None = None


class Exit:
    """Our providers, and the hook that delivers what they hold within the budget at exit."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector
        self._signals: list[_Signal] = []
        self._lock = threading.Lock()
        self._done = False

    def add(self, name: str, provider: Any, exporter: BoundedExporter, tally: Tally) -> None:
        """Bound ``provider``'s exit (one we built with ``shutdown_on_exit=False``)."""
        self._signals.append(_Signal(name, provider, exporter, tally, budget(name), _Closer(name, provider)))
        if len(self._signals) == 1:
            self._register()

    def _register(self) -> None:
        """Run ``finish`` at interpreter exit; after a fork, the child gets its own."""
        atexit.register(self.finish)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        # Only the forking thread survives (locks are made anew), and the SDK empties the child's queues.
        self._lock = threading.Lock()
        self._done = False
        self.collector.reset()
        for signal in self._signals:
            signal.tally.reset()
            signal.closer = _Closer(signal.name, signal.provider)

    def finish(self) -> None:
        """Deliver what is queued, each signal within its budget, then say what never arrived."""
        with self._lock:
            if self._done:
                return
            self._done = True
        started = time.monotonic()
        self.collector.exiting = True
        for signal in self._signals:
            signal.exporter.begin_exit(started + max(0.0, signal.budget - _GRACE))
            if signal.closer is not None:
                signal.closer.close()
        finished = True
        for signal in self._signals:
            if signal.closer is not None:
                left = started + signal.budget - time.monotonic()
                finished = signal.closer.done.wait(max(0.0, left)) and finished
        line = self.summary(finished)
        if line:
            _report.notice(line)

    def summary(self, finished: bool) -> str | None:
        """"OpenTelemetry: 12 spans and 340 log records could not be delivered to URL (why)", or
        None when everything arrived."""
        counts = [(signal.tally, signal.tally.undelivered()) for signal in self._signals]
        if not any(count for _, count in counts):
            return None
        what = " and ".join(tally.describe(count) for tally, count in counts)
        why = self.collector.reason
        if why is None and not finished:
            why = f"no answer within {max(signal.budget for signal in self._signals):g} s"
        because = f" ({why})" if why else ""
        return f"OpenTelemetry: {what} could not be delivered to {self.collector.where}{because}"
