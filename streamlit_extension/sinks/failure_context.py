"""Failure context: an interaction's records below the file's level, kept until it ends and
written only if it fails (``setup_logging(failure_context="DEBUG")``).

With it on, the file's handler admits the lower level, and ``FailureContext.filter`` decides:
a record at or above the file's level is written as always; one below it, inside an
interaction (it has a ``correlation_id``), is kept in that interaction's buffer. The first
ERROR record of the interaction (a failed operation, a failed run, ``logger.exception``)
writes the buffer first, each record with its own time, in the file's own format, marked
``failure_context: true``; later ones of that interaction are written as they come. When the
interaction ends without one (its ``script_run`` or owning operation completes, or its
``correlation_scope`` is left) the buffer is dropped.

Bounded: per interaction ``RECORDS`` records and ``BYTES`` (estimated from the message and
fields), keeping the newest; per process ``PROCESS_BYTES`` and ``INTERACTIONS`` buffers. What
is dropped is counted, and a failed interaction's file gets one ``failure_context_dropped``
record saying how many. Only the file: the console and OpenTelemetry keep their own level.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from loguru import logger

from .. import _loguru, _report
from ..context import opened_interaction
from ..schema import CORRELATION_FIELDS, END_EVENTS, EVENT_FAILURE_CONTEXT_DROPPED, FAILURE_CONTEXT, RUN_OPERATION

if TYPE_CHECKING:
    from loguru import Record

RECORDS = 200  # per interaction: the newest are kept
BYTES = 256 * 1024  # per interaction, estimated
PROCESS_BYTES = 16 * 1024 * 1024  # every interaction's buffer together
INTERACTIONS = 4096  # interactions with a buffer at once
STALE_SECONDS = 600.0  # a buffer this old may go when the process's bound is reached
_RECORD_BYTES = 320  # a line's fixed fields, beside its message and extras


class _Interaction:
    """One interaction's kept records, and what its failure context has used and dropped."""

    __slots__ = ("dropped", "failed", "held", "last_dropped", "records", "started", "written", "written_bytes")

    def __init__(self, now: float) -> None:
        self.records: deque[tuple[Record, int]] = deque()
        self.held = 0  # bytes kept (estimated)
        self.dropped = 0  # records dropped, not yet told in a note
        self.last_dropped: Record | None = None  # the newest of them: the note's time, level and ids
        self.failed = False  # an ERROR record came: records are written as they come
        self.written = 0  # records and bytes written, against the same bounds
        self.written_bytes = 0
        self.started = now  # (not per record: a clock read per kept record costs more than it tells)

    def drop(self, record: Record) -> None:
        self.dropped += 1
        self.last_dropped = record

    def take_dropped(self) -> tuple[int, Record | None]:
        """The dropped count and newest dropped record, for a note; counted afresh from here."""
        count, last = self.dropped, self.last_dropped
        self.dropped, self.last_dropped = 0, None
        return count, last


def weight(record: Record) -> int:
    """About how many bytes ``record``'s line takes: its message and top-level extras."""
    size = _RECORD_BYTES + len(record["message"])
    for key, value in record["extra"].items():
        if type(value) is str:
            size += len(key) + len(value)
        elif isinstance(value, (dict, list, tuple)):
            size += len(key) + 64 * len(value)
        else:
            size += len(key) + 16
    return size


class FailureContext:
    """The file's loguru sink (``write``/``stop`` around ``sink``) and its ``filter``.

    ``line_of`` makes a line of the file's format from a record (as for ``records_lost``);
    ``file_level`` is the file's own level number.
    """

    def __init__(self, sink: Any, line_of: Callable[[Any], str], file_level: int) -> None:
        self._sink = sink
        self._line_of = line_of
        self._file_level = file_level
        self._error_level = logger.level("ERROR").no
        self._interactions: dict[str, _Interaction] = {}
        self._held = 0  # bytes in every buffer
        self._lock = threading.Lock()  # the buffers
        self._write_lock = threading.Lock()  # the file: loguru's lines and ours, one at a time
        self.dropped_unowned = 0  # records dropped with no buffer to count them in

    # -- the loguru sink ---------------------------------------------------------------------

    def write(self, message: str) -> None:
        with self._write_lock:
            self._sink.write(message)

    def stop(self) -> None:
        self._sink.stop()

    # -- the handler's filter ------------------------------------------------------------------

    def filter(self, record: Record) -> bool:
        """Write ``record`` now (True), or keep or drop it here (False). Never raises."""
        level = record["level"].no
        try:
            extra = record["extra"]
            cid = extra.get("correlation_id")
            if cid is None:  # in no interaction: nothing to keep it for
                return level >= self._file_level
            if level >= self._error_level:
                self._fail(cid)
            if level < self._file_level:
                self._keep(cid, record)
            if extra.get("event") in END_EVENTS and (extra.get("operation") == RUN_OPERATION
                                                      or opened_interaction(extra.get("operation_id"))):
                self.end(cid)
        except Exception as exc:
            _report.notice_once("failure-context", f"failure context skipped a record ({_report.describe(exc)})")
        return level >= self._file_level

    def end(self, cid: str) -> None:
        """The interaction ``cid`` ended: its buffer goes, and a failed one's note is written."""
        with self._write_lock:
            with self._lock:
                state = self._interactions.pop(cid, None)
                if state is None:
                    return
                self._held -= state.held
                count, last = state.take_dropped()
            if state.failed and count:
                self._write([self._note(count, last)])

    def pending(self) -> int:
        """Records kept now, in every interaction's buffer."""
        with self._lock:
            return sum(len(state.records) for state in self._interactions.values())

    # -- inside ------------------------------------------------------------------------------

    def _fail(self, cid: str) -> None:
        """An ERROR record of ``cid``: write what it kept (before that record), then go on writing."""
        with self._write_lock:  # a record of the same interaction from another thread waits for these
            with self._lock:
                state = self._interactions.get(cid)
                if state is None:  # nothing kept, but what comes next of it is written
                    now = time.monotonic()
                    if len(self._interactions) >= INTERACTIONS and not self._evict_stale(now):
                        return
                    state = self._interactions[cid] = _Interaction(now)
                if state.failed:
                    return
                state.failed = True
                kept = list(state.records)
                state.records.clear()
                self._held -= state.held
                state.written, state.written_bytes, state.held = len(kept), state.held, 0
                count, last = state.take_dropped()
            lines = [self._note(count, last)] if count else []
            lines.extend(self._line(record) for record, _ in kept)
            self._write(lines)

    def _keep(self, cid: str, record: Record) -> None:
        size = weight(record)
        with self._lock:
            state = self._interactions.get(cid)
            if state is None:
                now = time.monotonic()
                if len(self._interactions) >= INTERACTIONS and not self._evict_stale(now):
                    self.dropped_unowned += 1
                    self._full(f"{INTERACTIONS} interactions")
                    return
                state = self._interactions[cid] = _Interaction(now)
            if state.failed:
                if state.written >= RECORDS or state.written_bytes + size > BYTES:
                    state.drop(record)
                    return
                state.written += 1
                state.written_bytes += size
            else:
                if self._held + size > PROCESS_BYTES and not self._evict_stale(time.monotonic()):
                    state.drop(record)
                    self._full(f"{PROCESS_BYTES >> 20} MiB")
                    return
                state.records.append((record, size))
                state.held += size
                self._held += size
                while len(state.records) > RECORDS or state.held > BYTES:
                    old, old_size = state.records.popleft()
                    state.held -= old_size
                    self._held -= old_size
                    state.drop(old)
                return
        with self._write_lock:
            self._write([self._line(record)])

    def _evict_stale(self, now: float) -> bool:
        """Drop buffers begun ``STALE_SECONDS`` ago (interactions whose end never came); any?"""
        stale = [cid for cid, state in self._interactions.items() if now - state.started >= STALE_SECONDS]
        for cid in stale:
            self._held -= self._interactions.pop(cid).held
        return bool(stale)

    @staticmethod
    def _full(bound: str) -> None:
        _report.notice_once("failure-context-full", f"failure context is at its process bound ({bound}); "
                                                    "records below the file's level are dropped", every=60.0)

    def _line(self, record: Record) -> str:
        marked: dict[str, Any] = {**record, "extra": {**record["extra"], FAILURE_CONTEXT: True}}
        return self._line_of(marked)

    def _note(self, count: int, last: Record | None) -> str:
        """One record: ``count`` of this interaction's failure-context records were dropped;
        at the time, level and ids of ``last``, the newest of them."""
        assert last is not None
        extra: dict[str, Any] = {key: last["extra"].get(key) for key in CORRELATION_FIELDS}
        extra.update(event=EVENT_FAILURE_CONTEXT_DROPPED, dropped=count)
        extra[FAILURE_CONTEXT] = True
        message = f"{count} more failure-context records dropped (bound: {RECORDS} records, {BYTES >> 10} KiB)"
        note = _loguru.make_record(last["level"].name, message, extra, moment=last["time"], name=__name__,
                                   function="failure_context")
        return self._line_of(note)

    def _write(self, lines: list[str]) -> None:
        """Lines to the file (the write lock held); a failing write is the sink's to count."""
        for line in lines:
            try:
                self._sink.write(line)
            except Exception as exc:
                _report.notice_once("failure-context-write", f"failure context not written ({_report.describe(exc)})")
