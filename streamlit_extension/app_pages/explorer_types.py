"""The values the Log Explorer page passes between its functions: filter settings and read reports.

They live here, not in ``log_explorer.py``, because Streamlit runs a page file as a module that is
not importable (``__page__`` before 1.45, a second ``__main__`` since): a dataclass defined there
cannot be created on the older versions, nor pickled by ``st.cache_data`` on any.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TypedDict

import pandas as pd

from streamlit_extension.logs import ReadStats


@dataclass(frozen=True, slots=True)
class Filters:
    """What the filter widgets ask for; an empty text means "any"."""

    since: pd.Timestamp | None  # records at or after this (UTC) ...
    until: pd.Timestamp | None  # ... and before this
    min_level: int  # level number; 0: every record, levels unknown to the page included
    user_id: str
    session_id: str
    correlation_id: str
    text: str  # the message contains it (any case)
    hide_own: bool  # leave out the Log Explorer's own runs (unless asked for by correlation id)
    server: bool  # show the web server's lines outside any interaction
    operation: str | None = None  # chosen once the folder is read: its operations are the choices

    def ids(self) -> dict[str, str]:
        """The id filters by field name, the most selective first."""
        return {"correlation_id": self.correlation_id, "session_id": self.session_id, "user_id": self.user_id}


class ReadReport(TypedDict):
    """What reading one file saw. A plain dict at run time: ``st.cache_data`` pickles it."""

    lines: int
    records: int
    skipped: dict[str, int]  # reason -> damaged lines
    errors: list[tuple[str, str]]  # (path, why it could not be read to the end)


def read_report(stats: ReadStats) -> ReadReport:
    return {"lines": stats.lines, "records": stats.records, "skipped": dict(stats.skipped),
            "errors": list(stats.errors)}


@dataclass(slots=True)
class FolderSummary:
    """What reading a whole folder saw, file by file."""

    files: int = 0  # files read
    from_manifests: int = 0  # archives answered from their manifest, unopened
    skipped_old: int = 0  # archives not opened: their recorded time span lies outside the range
    ruled_out: int = 0  # archives not opened: their id index says the id filtered on isn't there
    lines: int = 0
    records: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> damaged lines
    skipped_by_file: Counter[str] = field(default_factory=Counter)  # file name -> damaged lines
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    not_files: list[tuple[str, str]] = field(default_factory=list)  # (path, what it is): left out

    def add(self, name: str, report: ReadReport) -> None:
        """Count one file's read (``name``: the file's name, for the damage warning)."""
        self.files += 1
        self.lines += report["lines"]
        self.records += report["records"]
        self.skipped.update(report["skipped"])
        if report["skipped"]:
            self.skipped_by_file[name] += sum(report["skipped"].values())
        self.errors.extend(report["errors"])
