"""Which files a command reads, reading them with a progress bar, and what to say about damage.

A path the user can fix is a ``UsageError``, an id that isn't there a ``NotFoundError`` (see
``errors``). Damage in files that were read is only one ``warning:`` line on stderr.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ..reader import LogPathError, ReadStats, find_log_files, records_with_id
from .errors import NotFoundError, UsageError
from .rendering import Progress, safe


def log_files(paths: Sequence[str], stats: ReadStats | None = None) -> list[Path]:
    """The files to read; a missing path or a folder without log files is a UsageError. Entries
    named like logs that aren't regular files are noted in ``stats`` (see ``warn_damage``)."""
    try:
        files = find_log_files(paths, stats)
    except LogPathError as exc:
        raise UsageError(str(exc)) from None
    if not files:
        # find_log_files returns [] for a folder without *.jsonl[.gz]: say so rather than "not found".
        skipped = f" ({_not_files(stats.not_files)})" if stats is not None and stats.not_files else ""
        raise UsageError(f"no log files (*.jsonl, *.jsonl.gz) in {', '.join(paths)}{skipped}")
    unique: dict[Path, Path] = {}
    for path in files:  # ``logs logs/app.jsonl`` must not count a record twice
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def records_with(field: str, value: str, paths: list[str], command: str) -> list[dict[str, Any]]:
    """The records whose ``field`` equals ``value``; ``NotFoundError``, naming the id, if none."""
    label = field.replace("_", " ")
    if not value.strip():
        raise UsageError(f"the {label} is empty")
    stats = ReadStats()
    files = log_files(paths, stats)
    progress = Progress(len(files), command)
    try:
        records = records_with_id(files, field, value, stats=stats, on_file_done=progress.advance, processes=True)
    finally:
        progress.close()
    finish_scan(files, stats)
    if not records:
        raise NotFoundError(f"{label} {safe(value)} not found in {safe(', '.join(paths))} "
                       f"({len(files)} file{'s' if len(files) != 1 else ''})")
    return records


def damage_summary(stats: ReadStats) -> str | None:
    """One line about what the reader had to skip or could not read, or None."""
    damaged: Counter[str] = Counter(stats.skipped_by_file)
    parts = []
    if damaged:
        total = sum(damaged.values())
        where = _some_files(damaged.items(), lambda path, n: f"{safe(path)}: {n}")
        parts.append(f"skipped {total} damaged line{'s' if total != 1 else ''} in {where}")
    if stats.errors:
        parts.append("could not read " + _some_files(stats.errors, lambda path, why: f"{safe(path)} ({safe(why)})"))
    if stats.not_files:
        parts.append(_not_files(stats.not_files))
    return "warning: " + "; ".join(parts) if parts else None


def _not_files(entries: list[tuple[str, str]]) -> str:
    return "skipped what is not a regular file: " + _some_files(entries, lambda path, what: f"{safe(path)} ({what})")


def _some_files(items: Iterable[tuple[str, Any]], describe: Callable[[str, Any], str], limit: int = 3) -> str:
    items = list(items)
    if len(items) == 1:
        path, value = items[0]
        return safe(path) if isinstance(value, int) else describe(path, value)
    shown = ", ".join(describe(path, value) for path, value in items[:limit])
    more = f", and {len(items) - limit} more" if len(items) > limit else ""
    return f"{len(items)} files ({shown}{more})"


def check_readable(files: Sequence[Path], stats: ReadStats) -> None:
    """A UsageError when not one of ``files`` could be read (damage elsewhere is only a warning)."""
    unreadable = {path for path, _ in stats.errors}
    if files and stats.lines == 0 and stats.records == 0 and all(str(path) in unreadable for path in files):
        reasons = "; ".join(f"{safe(path)} ({safe(why)})" for path, why in stats.errors[:3])
        raise UsageError(f"could not read any log file: {reasons}")


def warn_damage(stats: ReadStats) -> None:
    """Print ``damage_summary`` to stderr, if there is anything to say."""
    warning = damage_summary(stats)
    if warning:
        print(warning, file=sys.stderr)


def finish_scan(files: Sequence[Path], stats: ReadStats) -> None:
    """After a scan: fail when no file could be read at all, else warn once about damage."""
    check_readable(files, stats)
    warn_damage(stats)
