"""The JSON log file: loguru's own file sink (rotation, retention, compression) behind a
wrapper that never raises into the app.

A failing write (disk full, folder unwritable) drops that record, counts it, and tells stderr
once; the file is reopened at most once a second until writing works again, and the recovery
is reported with the number of records lost meanwhile.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from loguru._file_sink import FileSink  # the one private import: loguru has no public file sink

from .. import _report

RETRY_SECONDS = 1.0


def make_file_sink(path: str, **options: Any) -> FileSink:
    """loguru's FileSink, opened on first write; raises ValueError/TypeError on bad options."""
    # Without rotation, compression would only run on close and gzip the live file each
    # time setup runs again.
    if options.get("rotation") is None:
        options["compression"] = None
    return FileSink(path, delay=True, errors="backslashreplace", **options)


class ResilientFileSink:
    """A loguru sink object (``write``/``stop``) around a FileSink."""

    def __init__(self, path: str, **options: Any) -> None:
        self.path = path
        self._options = options
        self._sink: Optional[FileSink] = make_file_sink(path, **dict(options))
        self._failing = False
        self._retry_at = 0.0
        self.dropped = 0

    def write(self, message: str) -> None:
        sink = self._sink
        if sink is None:
            if time.monotonic() < self._retry_at:
                self.dropped += 1
                return
            sink = self._sink = make_file_sink(self.path, **dict(self._options))
        try:
            sink.write(message)
        except Exception as exc:
            self._fail(sink, exc)
            return
        if self._failing:
            self._failing = False
            _report.notice(f"log file {self.path} is writable again; {self.dropped} records were lost")
            self.dropped = 0

    def _fail(self, sink: FileSink, exc: BaseException) -> None:
        self.dropped += 1
        self._sink = None
        self._retry_at = time.monotonic() + RETRY_SECONDS
        handle = getattr(sink, "_file", None)
        if handle is not None:
            try:
                handle.close()
            except Exception:
                pass
        if not self._failing:
            self._failing = True
            _report.notice(
                f"cannot write log file {self.path} ({_report.describe(exc)}); "
                "records are dropped until it works again"
            )

    def stop(self) -> None:
        if self._sink is not None:
            try:
                self._sink.stop()
            except Exception as exc:
                _report.notice(f"closing log file {self.path} failed ({_report.describe(exc)})")
            self._sink = None

    def __repr__(self) -> str:
        return f"ResilientFileSink({self.path!r})"
