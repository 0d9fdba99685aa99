"""What reaches the collector: our OTLP exporters, counted, quiet on stderr, and bounded at exit.

``configure_sdk`` wraps each OTLP/HTTP exporter it builds in a ``BoundedExporter`` and uses a
counting batch processor, so that ``Tally`` knows how many spans and log records were queued and
how many the collector took. While the app runs, an export has the SDK's own time
(``OTEL_EXPORTER_OTLP_TIMEOUT``, 10 s by default, retries included) on the processor's thread,
never a caller's. Once ``begin_exit`` has set a deadline, each export gets only the time left (a
fresh exporter with that timeout), and nothing once it is gone.

The SDK reports every retried and failed export on its exporters' loggers (four lines or more per
outage). Inside our exports those records are not printed, and ``Collector`` says once when the
collector stops taking data and once when it takes data again; the reason comes from our exporters'
HTTP session (the SDK's own lines don't always name one). The exit line is ``shutdown``'s.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

from .. import _report
from . import _api

_SLACK = 0.05  # less time left than this: not worth opening a connection
_PHRASES = {status.phrase: status.value for status in HTTPStatus}
_FILTER_MARKER = "_streamlit_extension_otlp_reports"
# Set, the exporter loads the user's own requests.Session (auth): we must not pass ours then.
_CREDENTIAL_VARS = ("OTEL_PYTHON_EXPORTER_OTLP_HTTP_CREDENTIAL_PROVIDER",
                    "OTEL_PYTHON_EXPORTER_OTLP_HTTP_TRACES_CREDENTIAL_PROVIDER",
                    "OTEL_PYTHON_EXPORTER_OTLP_HTTP_LOGS_CREDENTIAL_PROVIDER")
_local = threading.local()  # .collector: set while one of our exports runs on this thread


class Tally:
    """Spans (or log records) queued for export, and how many the collector took."""

    def __init__(self, singular: str, plural: str) -> None:
        self.singular, self.plural = singular, plural
        self._lock = threading.Lock()
        self.accepted = 0
        self.delivered = 0

    def accept(self) -> None:
        with self._lock:  # on_end/on_emit run in every app thread
            self.accepted += 1

    def deliver(self, count: int) -> None:
        with self._lock:
            self.delivered += count

    def undelivered(self) -> int:
        with self._lock:
            return max(0, self.accepted - self.delivered)

    def reset(self) -> None:
        """After a fork: the child's queue starts empty (and a lock held by another thread at
        the fork would never be released in the child)."""
        self._lock = threading.Lock()
        self.accepted = self.delivered = 0

    def describe(self, count: int) -> str:
        return f"{count} {self.singular if count == 1 else self.plural}"


class Collector:
    """The collector as seen from this process: where it is, whether it takes data, and why not."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.reason: str | None = None  # the last failure's, for the exit line
        self.failing = False
        self.exiting = False  # from then on only the exit line speaks
        self._lock = threading.Lock()

    def reset(self) -> None:
        """After a fork: the child's own collector story starts afresh."""
        self._lock = threading.Lock()
        self.failing = self.exiting = False

    def note(self, reason: str | None) -> None:
        if reason:
            self.reason = reason

    def failed(self) -> None:
        with self._lock:
            if self.failing or self.exiting:
                return
            self.failing = True
        because = f" ({self.reason})" if self.reason else ""
        _report.notice(f"OpenTelemetry: cannot deliver to {self.where}{because}; spans and log records are "
                       "dropped until it answers (counted at exit)")

    def took(self) -> None:
        with self._lock:
            if not self.failing or self.exiting:
                return
            self.failing = False
        _report.notice(f"OpenTelemetry: {self.where} takes spans and log records again")


@contextmanager
def reporting_to(collector: Collector) -> Iterator[None]:
    """While inside, the OTLP exporters' reports on this thread go to ``collector``, not stderr."""
    previous = getattr(_local, "collector", None)
    _local.collector = collector
    try:
        yield
    finally:
        _local.collector = previous


class _ExporterReports(logging.Filter):
    """On the OTLP exporters' loggers: a record made inside one of our exports is kept as the
    failure's reason instead of printed. The app's own exporters (other threads, other calls)
    are left alone."""

    def filter(self, record: logging.LogRecord) -> bool:
        collector: Collector | None = getattr(_local, "collector", None)
        if collector is None:
            return True
        collector.note(reason_in(record))
        return False


def _noting(reason: str) -> None:
    collector: Collector | None = getattr(_local, "collector", None)
    if collector is not None:
        collector.note(reason)


_session_class: Any = None


def watched_session() -> Any:
    """A ``requests.Session`` that tells the collector why a request failed (the exporter itself
    only says FAILURE), or None when the user set a credential provider (the exporter loads its
    session then)."""
    global _session_class
    if any(os.environ.get(name) for name in _CREDENTIAL_VARS):
        return None
    if _session_class is None:
        import requests  # the OTLP/HTTP exporter's own transport

        class WatchedSession(requests.Session):
            def request(self, *args: Any, **kwargs: Any) -> Any:
                try:
                    response = super().request(*args, **kwargs)
                except Exception as exc:
                    _noting(describe_error(exc))
                    raise
                if response.status_code >= 400:
                    _noting(_status(response.status_code))
                return response

        _session_class = WatchedSession
    return _session_class()


def quiet_exporter_reports() -> None:
    """Put the filter on the OTLP exporters' loggers, once per process."""
    for name in _api.otlp_exporter_loggers():
        stdlib_logger = logging.getLogger(name)
        if not any(getattr(f, _FILTER_MARKER, False) for f in stdlib_logger.filters):
            reports = _ExporterReports()
            setattr(reports, _FILTER_MARKER, True)
            stdlib_logger.addFilter(reports)


def reason_in(record: logging.LogRecord) -> str | None:
    """The reason an exporter's log record gives: an error, an HTTP status, or None."""
    args = record.args if isinstance(record.args, tuple) else ()
    for arg in args:
        if isinstance(arg, BaseException):
            return describe_error(arg)
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and 100 <= arg < 600:
            return _status(arg)
    for arg in args:
        if isinstance(arg, str) and arg in _PHRASES:  # a retried status gives only its phrase
            return f"HTTP {_PHRASES[arg]} {arg}"
    return None


def _status(code: int) -> str:
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:  # a code with no standard phrase
        return f"HTTP {code}"


def describe_error(exc: BaseException) -> str:
    """The innermost cause, in a few words: "connection refused", "timed out"."""
    chain = [exc]
    while len(chain) < 10:
        inner = _cause(chain[-1])
        if inner is None or inner in chain:
            break
        chain.append(inner)
    root = chain[-1]
    if isinstance(root, OSError) and root.errno:
        return os.strerror(root.errno).lower()
    return str(root) or type(root).__name__


def _cause(exc: BaseException) -> BaseException | None:
    # requests wraps urllib3's error in args[0]; urllib3's MaxRetryError keeps it in .reason.
    for inner in (exc.__cause__, getattr(exc, "reason", None), *exc.args, exc.__context__):
        if isinstance(inner, BaseException):
            return inner
    return None


class BoundedExporter:
    """The exporter a batch processor of ours calls: counts what the collector took, keeps the
    SDK's reports off stderr, and after ``begin_exit`` spends no more than the time left."""

    def __init__(self, make: Callable[[float | None, Any], Any], results: Any, tally: Tally,
                 collector: Collector) -> None:
        self._make = make  # (timeout in s or None for the SDK's own, session) -> a new OTLP exporter
        self._success, self._failure = results.SUCCESS, results.FAILURE
        self._tally = tally
        self._collector = collector
        with reporting_to(collector):
            self._running = make(None, watched_session())
        self._running_closed = False
        self._lock = threading.Lock()
        self._deadline: float | None = None  # time.monotonic() by which exit wants to be done

    def export(self, batch: Sequence[Any]) -> Any:
        with reporting_to(self._collector):
            delivered = self._export(batch)
        if delivered:
            self._tally.deliver(len(batch))
            self._collector.took()
            return self._success
        self._collector.failed()
        return self._failure

    def _export(self, batch: Sequence[Any]) -> bool:
        if self._deadline is None:
            if self._send(self._running, batch):
                return True
            if self._deadline is None:
                return False
            # Exit began during this export and cut its back-off short: one more try in the time left.
        return self._send_before_deadline(batch)

    def _send_before_deadline(self, batch: Sequence[Any]) -> bool:
        assert self._deadline is not None
        left = self._deadline - time.monotonic()
        if left < _SLACK:
            return False  # dropped: counted as not delivered
        exporter = self._make(left, watched_session())  # its request and retries end by the deadline
        try:
            return self._send(exporter, batch)
        finally:
            exporter.shutdown()

    def _send(self, exporter: Any, batch: Sequence[Any]) -> bool:
        try:
            return bool(exporter.export(batch) == self._success)
        except Exception as exc:  # an exporter may raise; the processor would print a traceback
            self._collector.note(describe_error(exc))
            return False

    def begin_exit(self, deadline: float) -> None:
        """From now on, exports end by ``deadline``; a retry's back-off waiting now is cut short
        (a request in flight keeps its socket until its own timeout, on a daemon thread)."""
        self._deadline = deadline
        self._close_running()

    def _close_running(self) -> None:
        with self._lock:
            if self._running_closed:
                return
            self._running_closed = True
        with reporting_to(self._collector):
            try:
                self._running.shutdown()
            except Exception:
                pass

    def shutdown(self) -> None:
        self._close_running()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True  # nothing is buffered here


if _api.SDK:

    class CountingSpanProcessor(_api.BatchSpanProcessor):
        """The SDK's ``BatchSpanProcessor``, counting the spans it queues (the sampled ones)."""

        def __init__(self, exporter: BoundedExporter, tally: Tally) -> None:
            super().__init__(exporter)  # type: ignore[arg-type]  # it has what the processor calls
            self._tally = tally

        def on_end(self, span: Any) -> None:
            if span.context and span.context.trace_flags.sampled:  # what the SDK queues
                self._tally.accept()
            super().on_end(span)

    class CountingLogRecordProcessor(_api.BatchLogRecordProcessor):
        """The SDK's ``BatchLogRecordProcessor``, counting the log records it queues."""

        def __init__(self, exporter: BoundedExporter, tally: Tally) -> None:
            super().__init__(exporter)  # type: ignore[arg-type]
            self._tally = tally

        def on_emit(self, log_record: Any) -> None:
            self._tally.accept()
            super().on_emit(log_record)


def endpoint(signal: str) -> str:
    """Where the OTLP/HTTP exporter for ``signal`` (``traces``, ``logs``) posts: the spec's rule."""
    specific = os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    if specific:
        return specific
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "http://localhost:4318"
    return f"{base.removesuffix('/')}/v1/{signal}"


def where(signals: Sequence[str]) -> str:
    """The collector's address for a line on stderr: the base URL when every signal shares it."""
    urls = [endpoint(signal) for signal in signals]
    bases = {url.removesuffix(f"/v1/{signal}") for url, signal in zip(urls, signals, strict=True)}
    return bases.pop() if len(bases) == 1 else " and ".join(urls)
