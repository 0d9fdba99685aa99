"""The JSON log file: loguru's own file sink (rotation, retention, compression) behind a
wrapper that never raises into the app.

A failing write (disk full, quota, I/O error, file too large, folder unwritable) drops that
record, counts it, and tells stderr once; the file is reopened at most once a second until
writing works again. Once a second it also checks the file is still the one at its path (a
deleted folder would otherwise swallow every line) and was not truncated under us. Every line
in the file stays whole: a record the disk took only part of is cut off again before the next
one is written. The recovery is reported on stderr and as one ``records_lost`` record in the
file's own format, with the count and the time span of the loss.
"""

from __future__ import annotations

import datetime
import os
import time
import weakref
from collections.abc import Callable
from typing import Any

from .. import _loguru, _report
from .._loguru import FileSink
from .._shared import shared
from ..rows import iso_utc
from ..safe_open import NotRegularFile, open_regular
from ..schema import CORRELATION_FIELDS, EVENT_RECORDS_LOST
from .compression import BackgroundCompressor, remove_stale_temporaries
from .flat import flat_line
from .naming import resolve_path
from .retention import AppRetention

RETRY_SECONDS = 1.0  # how often a failing file is tried again
CHECK_SECONDS = 1.0  # how often we check the file is still the one on disk
TAIL_WINDOW = 1 << 20  # a record is capped at 512 KiB: its torn piece lies within this of the end


class SizeRotation:
    """Rotate past a size, counting what is written instead of asking the file each time.

    loguru's size rotation seeks to the end and calls ``tell()`` on every write; this does it
    once per file (its sink is the only writer: one file per process).
    """

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._file: Any = None
        self._size = 0

    def __call__(self, message: str, file: Any) -> bool:
        if file is not self._file:
            self._file, self._size = file, file.tell()
        size = len(message) if message.isascii() else len(message.encode("utf-8", "backslashreplace"))
        if self._size + size > self.limit:
            self._file = None  # the next call measures the new file
            return True
        self._size += size
        return False


def size_rotation(rotation: Any) -> Any:
    """A SizeRotation for a size ("10 MB", bytes as a number), else ``rotation`` unchanged."""
    if isinstance(rotation, bool):
        return rotation
    if isinstance(rotation, (int, float)):
        return SizeRotation(rotation)
    if isinstance(rotation, str) and _loguru.parse_size is not None:
        limit = _loguru.parse_size(rotation)
        if limit is not None:
            return SizeRotation(limit)
    return rotation  # a time, a duration, a callable: loguru's own rotation parses it


_open_sinks: weakref.WeakSet[ResilientFileSink] = shared(f"{__name__}.open_sinks", weakref.WeakSet)


def _forkable() -> weakref.WeakSet[ResilientFileSink]:
    """Every live file sink, told in a forked child that it is inherited (once per process)."""
    shared(f"{__name__}.fork_hook", _hook_forks)
    return _open_sinks


def _hook_forks() -> bool:
    if not hasattr(os, "register_at_fork"):
        return False
    os.register_at_fork(after_in_child=_inherited)
    return True


def _inherited() -> None:
    for sink in list(_open_sinks):
        sink._after_fork_in_child()


def make_file_sink(path: str, *, rotation: Any = None, retention: Any = None, compression: Any = None,
                   pattern: str | None = None) -> FileSink:
    """loguru's FileSink, opened on first write; raises ValueError/TypeError on bad options.

    ``pattern`` is the name before per-process resolution: retention covers every process's
    rotated files of it.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if rotation is None:
        # Compression would only run on close and gzip the live file whenever setup reruns.
        compression = None
    rotation = size_rotation(rotation)
    if retention is not None and not callable(retention) and AppRetention.understands(retention):
        retention = AppRetention(pattern or path, folder, retention)
    return FileSink(path, rotation=rotation, retention=retention, compression=compression,
                    delay=True, errors="backslashreplace")


def end_on_a_line(path: str) -> int:
    """Cut off a last line that has no newline (what a write the disk took only part of leaves),
    so the next record starts on a line of its own; the number of bytes cut. Only in a regular
    file: a log path may also be a device or a FIFO an app set up on purpose (``/dev/stdout``)."""
    try:
        handle = open_regular(path, writable=True)
    except (FileNotFoundError, NotRegularFile):
        return 0
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            return 0
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return 0
        start = max(0, size - TAIL_WINDOW)
        handle.seek(start)
        cut = handle.read(size - start).rfind(b"\n")
        if cut == -1 and start > 0:  # no line end within reach: end the line rather than cut blind
            handle.seek(size)
            handle.write(b"\n")
            return 0
        handle.truncate(start + cut + 1)
        return size - (start + cut + 1)


class Loss:
    """Records dropped while the file could not be written: how many, and when."""

    __slots__ = ("count", "first", "last")

    def __init__(self) -> None:
        self.count = 0
        self.first: datetime.datetime | None = None
        self.last: datetime.datetime | None = None

    def add(self, count: int = 1, since: datetime.datetime | None = None) -> None:
        now = datetime.datetime.now(datetime.timezone.utc)
        self.count += count
        if self.first is None:
            self.first = since or now
        self.last = now

    def record(self, path: str) -> dict[str, Any]:
        """The ``records_lost`` record as loguru would have made it (see ``_loguru.make_record``)."""
        first = self.first or datetime.datetime.now(datetime.timezone.utc)
        last = self.last or first
        extra: dict[str, Any] = dict.fromkeys(CORRELATION_FIELDS)
        extra.update(event=EVENT_RECORDS_LOST, lost=self.count, lost_from=iso_utc(first), lost_to=iso_utc(last))
        message = f"{self.count} log records were lost while {path} could not be written"
        # Timed at the last loss: the file stays in time order (the next record is later).
        return _loguru.make_record("WARNING", message, extra, moment=last, name=__name__, function="write")


class ResilientFileSink:
    """A loguru sink object (``write``/``stop``) around a FileSink.

    ``line_of`` turns a record into a line of the file's format (``flat_line``, or
    ``serialized.loguru_line`` for loguru's): the sink writes its own ``records_lost`` record
    with it. After ``fork()`` the child writes its own file (the path is resolved again for its
    pid, unless the name is pinned), with its own compressor and counters; the parent's file,
    its pending compressions and its counters are left to the parent.
    """

    def __init__(self, path: str, *, pattern: str | None = None, per_process: bool = False,
                 line_of: Callable[[Any], str] = flat_line, **options: Any) -> None:
        self.path = path
        self._pattern = pattern
        self._per_process = per_process
        self._line_of = line_of
        self._options = options
        self._open_for_this_process()
        _forkable().add(self)

    def _open_for_this_process(self) -> None:
        folder = os.path.dirname(os.path.abspath(self.path))
        remove_stale_temporaries(folder)
        options = self._options
        # One worker for this file, kept across reopenings so close() can wait for it.
        self.compressor = (BackgroundCompressor.for_option(options.get("compression")) if options.get("rotation")
                           else None)
        if self.compressor is not None:  # rotated files a full disk or a crash left uncompressed
            self.compressor.adopt_leftovers(folder, self._pattern or self.path)
        self._sink_options = {**options, "compression": self.compressor or options.get("compression"),
                              "pattern": self._pattern}
        self._sink: FileSink | None = None  # opened by the first write (see _reopen)
        self._pid = os.getpid()
        self._forked = False
        self._failing = False
        self._retry_at = 0.0
        self._check_at = 0.0
        self._since_check = 0  # records written since the last check ...
        self._chars_since_check = 0  # ... and their characters (never more than their bytes)
        self._checked: tuple[int, int] | None = None  # (inode, size) of our file at the last check
        self._checked_wall: datetime.datetime | None = None
        self._loss = Loss()

    @property
    def dropped(self) -> int:
        """Records dropped since the file last worked (0 once a ``records_lost`` line is written)."""
        return self._loss.count

    def _after_fork_in_child(self) -> None:
        """Called in a forked child (see ``_forkable``): switch at the next write, not here."""
        self._forked = True

    def _leave_parents_file(self) -> None:
        # Close only this process's copy of the descriptor: no flush of the parent's data (the
        # file is line-buffered, so nothing is pending), no rotation, no compression of it.
        if self._sink is not None:
            self._close_quietly(self._sink)
            self._sink = None
        if self._pattern is not None and (self._per_process or "{pid}" in self._pattern):
            self.path = resolve_path(self._pattern, self._per_process)
        self._open_for_this_process()

    def write(self, message: str) -> None:
        if self._forked:
            self._leave_parents_file()
        if "\x85" in message or "\u2028" in message or "\u2029" in message:
            # Valid inside JSON strings, but line-oriented readers (str.splitlines, editors)
            # break lines there; escaping them is lossless and keeps one record per line.
            message = message.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        sink = self._sink
        try:
            if sink is None:
                if time.monotonic() < self._retry_at:
                    self._loss.add()
                    return
                sink = self._reopen()
            now = time.monotonic()
            if now >= self._check_at:
                self._check_at = now + CHECK_SECONDS
                if self._moved(sink):
                    sink = self._reopen()
            if self._failing:
                self._resume(sink)
            sink.write(message)
        except Exception as exc:
            self._fail(sink, exc)
            return
        self._since_check += 1
        self._chars_since_check += len(message)

    def _reopen(self) -> FileSink:
        """A new FileSink at our path (it opens the file at its first write), appending after a
        whole line: a torn last one (a crash, or a failed write) is cut off first."""
        end_on_a_line(self.path)
        self._sink = make_file_sink(self.path, **self._sink_options)
        return self._sink

    def _resume(self, sink: FileSink) -> None:
        """The first write after a failure: the ``records_lost`` record (``_reopen`` has cut any
        torn line). Raises (and the caller keeps failing) if the file still can't take it."""
        sink.write(self._line_of(self._loss.record(self.path)))
        lost, self._loss, self._failing = self._loss.count, Loss(), False
        _report.notice(f"log file {self.path} is writable again; {lost} records were lost")

    def _moved(self, sink: FileSink) -> bool:
        """Is our file no longer the one at our path? Then it must be reopened.

        Renamed away (logrotate's rename-then-create, another tool moving it): the records since
        the last check are in the renamed file, nothing is lost. Deleted (no name left on our
        descriptor): those records went nowhere, and are counted. Truncated under us to the
        middle of a line: that piece is cut off, so the next record starts a line.
        """
        handle = _loguru.open_file(sink)
        written, self._since_check = self._since_check, 0
        chars, self._chars_since_check = self._chars_since_check, 0
        since, self._checked_wall = self._checked_wall, datetime.datetime.now(datetime.timezone.utc)
        if handle is None:
            return False
        try:
            ours = os.fstat(handle.fileno())
        except (OSError, ValueError):
            return False
        previous, self._checked = self._checked, (ours.st_ino, ours.st_size)
        try:
            if os.stat(self.path).st_ino == ours.st_ino:
                # Smaller than what we wrote since (characters never outnumber bytes): truncated.
                if previous is not None and previous[0] == ours.st_ino and ours.st_size < previous[1] + chars:
                    end_on_a_line(self.path)
                return False
        except OSError:
            pass  # gone from the path, or its folder is
        self._close_quietly(sink)
        self._sink = None
        if ours.st_nlink == 0:
            if written:
                self._loss.add(written, since)
            self._failing = True
            _report.notice(f"log file {self.path} was deleted; reopening it")
        else:
            _report.notice_once(f"renamed:{self.path}", f"log file {self.path} was renamed away (logrotate?); "
                                                        "writing a new one", every=3600.0)
        return True

    @staticmethod
    def _close_quietly(sink: FileSink, *, discard: bool = False) -> None:
        """Close the sink's file; ``discard``: without writing what a failed write left buffered
        (the rest of a torn record, which the next write would glue to the new line)."""
        handle = _loguru.open_file(sink)
        if handle is None:
            return
        if discard:
            try:
                handle.buffer.raw.close()
            except Exception:
                pass
        try:
            handle.close()
        except Exception:
            pass

    def _fail(self, sink: FileSink | None, exc: BaseException) -> None:
        self._loss.add()
        self._sink = None
        self._retry_at = time.monotonic() + RETRY_SECONDS
        if sink is not None:
            self._close_quietly(sink, discard=True)
        if not self._failing:
            self._failing = True
            _report.notice(
                f"cannot write log file {self.path} ({_report.describe(exc)}); "
                "records are dropped until it works again"
            )

    def stop(self) -> None:
        """Close the file, then wait (bounded) for rotated files still being compressed."""
        if self._forked:  # inherited and never written in this process: the file is the parent's
            if self._sink is not None:
                self._close_quietly(self._sink)
                self._sink = None
            return
        if self._sink is not None:
            try:
                self._sink.stop()
            except Exception as exc:
                _report.notice(f"closing log file {self.path} failed ({_report.describe(exc)})")
            self._sink = None
        if self._failing:  # the file never took the records_lost record: leave it whole at least
            try:
                end_on_a_line(self.path)
            except OSError:
                pass
            _report.notice(f"log file {self.path}: {self._loss.count} records were lost at the end, "
                           "and the file could not take a records_lost record")
        if self.compressor is not None and not self.compressor.drain():
            _report.notice(f"compression of rotated {self.path} files did not finish; they are compressed "
                           "at the next start")

    def __repr__(self) -> str:
        return f"ResilientFileSink({self.path!r})"
