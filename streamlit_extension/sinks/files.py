"""The JSON log file: loguru's own file sink (rotation, retention, compression) behind a
wrapper that never raises into the app.

A failing write (disk full, folder unwritable) drops that record, counts it, and tells stderr
once; the file is reopened at most once a second until writing works again. Once a second it
also checks the file is still there (a deleted folder would otherwise swallow every line). The
recovery is reported on stderr and as a ``records_lost`` line in the file, with the count.
"""

from __future__ import annotations

import datetime
import json
import os
import time
import weakref
from typing import Any

from .. import _loguru, _report, _state
from .._loguru import FileSink
from .compression import BackgroundCompressor, remove_stale_temporaries
from .flat import iso_utc
from .naming import resolve_path
from .retention import AppRetention

RETRY_SECONDS = 1.0  # how often a failing file is tried again
CHECK_SECONDS = 1.0  # how often we check the file is still the one on disk


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


def _forkable() -> weakref.WeakSet[ResilientFileSink]:
    """Every live file sink, told in a forked child that it is inherited (once per process)."""
    state = _state.state()
    sinks = state.file_sinks
    if not state.fork_hook and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_inherited)
        state.fork_hook = True
    return sinks


def _inherited() -> None:
    for sink in list(_state.state().file_sinks):
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


class ResilientFileSink:
    """A loguru sink object (``write``/``stop``) around a FileSink.

    After ``fork()`` the child writes its own file (the path is resolved again for its pid, unless
    the name is pinned), with its own compressor and counters; the parent's file, its pending
    compressions and its counters are left to the parent.
    """

    def __init__(self, path: str, *, pattern: str | None = None, per_process: bool = False, **options: Any) -> None:
        self.path = path
        self._pattern = pattern
        self._per_process = per_process
        self._options = options
        self._open_for_this_process()
        _forkable().add(self)

    def _open_for_this_process(self) -> None:
        remove_stale_temporaries(os.path.dirname(os.path.abspath(self.path)))
        options = self._options
        # One worker for this file, kept across reopenings so close() can wait for it.
        self.compressor = (BackgroundCompressor.for_option(options.get("compression")) if options.get("rotation")
                           else None)
        self._sink_options = {**options, "compression": self.compressor or options.get("compression"),
                              "pattern": self._pattern}
        self._sink: FileSink | None = make_file_sink(self.path, **self._sink_options)
        self._pid = os.getpid()
        self._forked = False
        self._failing = False
        self._retry_at = 0.0
        self._check_at = 0.0
        self._since_check = 0
        self.dropped = 0

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
        if sink is None:
            if time.monotonic() < self._retry_at:
                self.dropped += 1
                return
            sink = self._sink = make_file_sink(self.path, **self._sink_options)
        now = time.monotonic()
        if now >= self._check_at:
            self._check_at = now + CHECK_SECONDS
            if self._vanished(sink):
                sink = self._sink = make_file_sink(self.path, **self._sink_options)
        try:
            sink.write(message)
        except Exception as exc:
            self._fail(sink, exc)
            return
        self._since_check += 1
        if self._failing:
            self._recovered(sink)

    def _vanished(self, sink: FileSink) -> bool:
        """Is our file no longer the one at our path? Then reopen it.

        Renamed away (logrotate's rename-then-create, another tool moving it): the records since
        the last check are in the renamed file, nothing is lost. Deleted (no name left on our
        descriptor): those records went nowhere, and are counted.
        """
        handle = getattr(sink, "_file", None)
        written, self._since_check = self._since_check, 0
        if handle is None:
            return False
        try:
            ours = os.fstat(handle.fileno())
        except (OSError, ValueError):
            return False
        try:
            if os.stat(self.path).st_ino == ours.st_ino:
                return False
        except OSError:
            pass  # gone from the path, or its folder is
        self._close_quietly(sink)
        if ours.st_nlink == 0:
            self.dropped += written
            self._failing = True
            _report.notice(f"log file {self.path} was deleted; reopening it")
        else:
            _report.notice_once(f"renamed:{self.path}", f"log file {self.path} was renamed away (logrotate?); "
                                                        "writing a new one", every=3600.0)
        return True

    def _recovered(self, sink: FileSink) -> None:
        self._failing = False
        lost, self.dropped = self.dropped, 0
        _report.notice(f"log file {self.path} is writable again; {lost} records were lost")
        # The gap is recorded in the file too, so a reader of the logs sees it.
        notice = {
            "timestamp": iso_utc(datetime.datetime.now(datetime.timezone.utc)), "level": "WARNING",
            "message": f"{lost} log records were lost while {self.path} could not be written",
            "correlation_id": None, "session_id": None, "user_id": None, "operation": None,
            "event": "records_lost", "logger": "streamlit_extension.sinks.files", "lost": lost,
        }
        try:
            sink.write(json.dumps(notice) + "\n")
        except Exception:
            pass

    @staticmethod
    def _close_quietly(sink: FileSink) -> None:
        handle = getattr(sink, "_file", None)
        if handle is not None:
            try:
                handle.close()
            except Exception:
                pass

    def _fail(self, sink: FileSink, exc: BaseException) -> None:
        self.dropped += 1
        self._sink = None
        self._retry_at = time.monotonic() + RETRY_SECONDS
        self._close_quietly(sink)
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
        if self.compressor is not None and not self.compressor.drain():
            _report.notice(f"compression of rotated {self.path} files did not finish; they stay uncompressed")

    def __repr__(self) -> str:
        return f"ResilientFileSink({self.path!r})"
