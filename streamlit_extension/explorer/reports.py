"""What reading the Log Explorer's folders saw: per file (``ReadReport``) and over a folder
(``FolderSummary``), for the page's damage warnings and its "Read N file(s)" caption.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TypedDict

from streamlit_extension.logs import ReadStats


class ReadReport(TypedDict):
    """What reading one file saw (a plain dict at run time)."""

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
