"""Retention that removes only this app's rotated files, from every process.

loguru's own retention globs around the current file name, so with one file per process a
replica's rotated files would be cleaned only by that replica, and a pinned ``app.jsonl`` would
also match other apps' ``app.*.jsonl``. This one matches rotated names exactly (see ``naming``)
and never touches a live file.
"""

from __future__ import annotations

import datetime
import os
import time
from pathlib import Path
from typing import Any

from .. import _loguru, _report
from ..safe_open import is_regular_entry
from . import manifest
from .id_index import sidecar_path
from .naming import logical_name, rotated_file_regex, rotation_stamp


class AppRetention:
    """A loguru ``retention=`` callable: keep N rotated files, or those younger than a duration."""

    def __init__(self, pattern: str, folder: str, retention: Any) -> None:
        self._folder = Path(folder)
        self._regex = rotated_file_regex(pattern)
        self.count: int | None = None
        self.seconds: float | None = None
        if isinstance(retention, bool):
            raise TypeError("retention must be a duration, a count or a callable, not a bool")
        if isinstance(retention, int):
            self.count = retention
        elif isinstance(retention, datetime.timedelta):
            self.seconds = retention.total_seconds()
        elif isinstance(retention, str):
            interval = _loguru.parse_duration(retention)
            if interval is None:
                raise ValueError(f"Cannot parse retention from: {retention!r}")
            self.seconds = interval.total_seconds()
        else:
            raise TypeError(f"Cannot infer retention for objects of type: {type(retention).__name__!r}")

    @staticmethod
    def understands(retention: Any) -> bool:
        """Can we parse ``retention``? A text needs loguru's duration parser (see ``_loguru``);
        without it the text goes to loguru's own retention."""
        return not isinstance(retention, str) or _loguru.parse_duration is not None

    def rotated_files(self) -> list[tuple[float, Path]]:
        """This app's rotated files in the folder with their mtimes, newest first.

        Only regular files: a FIFO, a directory or a symlink under such a name is not ours to
        delete (said once).
        """
        found, strangers = [], []
        for entry in os.scandir(self._folder):
            if self._regex.fullmatch(entry.name):
                if not is_regular_entry(entry):
                    strangers.append(entry.name)
                    continue
                try:
                    found.append((entry.stat().st_mtime, Path(entry.path)))
                except FileNotFoundError:  # compressed or removed by another process meanwhile
                    continue
        if strangers:
            _report.notice_once(f"retention-strangers:{self._folder}",
                                f"log retention leaves {len(strangers)} entries named like rotated logs that are "
                                f"not regular files alone (e.g. {strangers[0]!r})", every=3600.0)
        return sorted(found, reverse=True)

    def _beyond_count(self, files: list[tuple[float, Path]]) -> list[Path]:
        """Files past the newest ``count`` rotated files, ordered by the stamp in their names.

        Not by mtime: an archive's mtime is when it was compressed, so an older file compressed
        late would look newer than the one just rotated. A file caught mid-compression (both
        ``x.jsonl`` and ``x.jsonl.gz``) counts once.
        """
        by_age = sorted(files, key=lambda item: (rotation_stamp(item[1].name), item[0]), reverse=True)
        kept: set[str] = set()
        doomed = []
        for _, path in by_age:
            logical = logical_name(path.name)
            if logical in kept or len(kept) < (self.count or 0):
                kept.add(logical)
            else:
                doomed.append(path)
        return doomed

    def __call__(self, _loguru_candidates: list[str]) -> None:
        try:
            files = self.rotated_files()
            if self.count is not None:
                doomed = self._beyond_count(files)
            else:
                cutoff = time.time() - (self.seconds or 0)
                doomed = [path for mtime, path in files if mtime < cutoff]
            failures = [exc for path in doomed for exc in _remove_with_sidecars(path)]
        except OSError as exc:
            failures = [exc]
        if failures:
            _report.notice_once("retention", f"log retention failed ({_report.describe(failures[0])})")


def _remove_with_sidecars(path: Path) -> list[OSError]:
    """Remove a rotated file and what was written beside it (its id index and manifest); each on
    its own, so one that can't be removed keeps no other from going."""
    failures = []
    for doomed in (path, sidecar_path(path), manifest.sidecar_path(path)):
        try:
            doomed.unlink(missing_ok=True)
        except OSError as exc:  # e.g. a directory under the index's name
            failures.append(exc)
    return failures
