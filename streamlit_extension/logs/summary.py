"""Answers about whole folders: each archive's manifest, plus a scan of only what has none.

``st-logs stats`` and the Log Explorer ask what happened across every file: counts, failures and
durations per operation, counts by level, the newest errors, the recent interactions. Each
archive's manifest (``sinks.manifest``) already holds its part, computed when it was written.
The live files, archives without a usable manifest, and archives a time range only partly
covers are read here and counted by the same collector, so both paths give the same numbers.
Percentiles are exact while every duration was read, and within the sketch's 1 % once an
archive's manifest is part of the answer (``OperationTally.approximate``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..sinks.manifest import InteractionTally, Manifest, ManifestCollector, load_interactions, load_manifest
from .reader import ReadStats, file_records


@dataclass(frozen=True)
class TimeRange:
    """Records at or after ``since`` and before ``until`` (flat ISO timestamps; None: open)."""

    since: str | None = None
    until: str | None = None

    def holds(self, stamp: object) -> bool:
        if self.since is None and self.until is None:
            return True
        if not isinstance(stamp, str):
            return False
        return (self.since is None or stamp >= self.since) and (self.until is None or stamp < self.until)

    def covers(self, manifest: Manifest) -> bool | None:
        """True: every record of the archive is inside; False: none is; None: some are."""
        if manifest.first is None or manifest.last is None:
            return False  # no records at all
        if (self.since is not None and manifest.last < self.since) or (
                self.until is not None and manifest.first >= self.until):
            return False
        if (self.since is None or manifest.first >= self.since) and (self.until is None or manifest.last < self.until):
            return True
        return None


ALL_TIME = TimeRange()


@dataclass
class Plan:
    """Which files answer from their manifest, which must be read, and which lie outside the range."""

    manifests: list[tuple[Path, Manifest]] = field(default_factory=list)  # oldest first
    to_read: list[Path] = field(default_factory=list)
    outside: int = 0  # archives whose recorded time span lies outside the range: not opened


def plan(files: Iterable[Path], span: TimeRange = ALL_TIME, *, need_operations: bool = True) -> Plan:
    """Sort ``files`` (as ``find_log_files`` lists them) by how they can be answered.

    An archive whose manifest is usable answers from it if the range covers it whole, is left
    out if the range misses it, and is read if the range cuts it (or if its manifest had to
    leave operations out and ``need_operations``). Plain files are always read.
    """
    found = Plan()
    for path in files:
        manifest = load_manifest(path) if path.suffix == ".gz" else None
        if manifest is None:
            found.to_read.append(path)
            continue
        covered = span.covers(manifest)
        if covered is False:
            found.outside += 1
        elif covered is None or (need_operations and not manifest.operations_complete):
            found.to_read.append(path)
        else:
            found.manifests.append((path, manifest))
    found.manifests.sort(key=lambda item: item[1].first or "")
    return found


@dataclass
class Digest:
    """What a set of files holds, merged: a ``Manifest`` of all of them, and how it was made."""

    total: Manifest = field(default_factory=Manifest)
    from_manifests: int = 0  # archives answered from their manifest
    read: int = 0  # files read
    outside: int = 0  # archives outside the time range
    interactions: list[InteractionTally] = field(default_factory=list)  # of the files read (if asked)

    @property
    def approximate(self) -> bool:
        return any(t.approximate for t in (*self.total.operations.values(), *self.total.own_operations.values()))


def read_file(path: Path, span: TimeRange, stats: ReadStats, *, operations_only: bool = False,
              ) -> tuple[Manifest, list[InteractionTally]]:
    """One file counted as its manifest would count it, within ``span`` (``operations_only``:
    counts and operations, no interactions or errors: what ``stats`` needs)."""
    collector = ManifestCollector(exact=True, operations_only=operations_only)
    for record in file_records(path, stats):
        if span.holds(record.get("timestamp")):
            collector.add(record)
    return collector.finish()


def digest(files: Sequence[Path], span: TimeRange = ALL_TIME, *, stats: ReadStats | None = None,
           operations_only: bool = False, on_file_done: Callable[[], None] | None = None) -> Digest:
    """Everything ``files`` hold within ``span``: manifests where they answer, reads elsewhere."""
    stats = stats if stats is not None else ReadStats()
    chosen = plan(files, span, need_operations=True)
    result = Digest(from_manifests=len(chosen.manifests), read=len(chosen.to_read), outside=chosen.outside)
    for _, manifest in chosen.manifests:
        result.total.merge(manifest)
        if on_file_done is not None:
            on_file_done()
    for path in chosen.to_read:
        counted, interactions = read_file(path, span, stats, operations_only=operations_only)
        result.total.merge(counted)
        if not operations_only:
            result.interactions.extend(interactions)
        if on_file_done is not None:
            on_file_done()
    for _ in range(chosen.outside):
        if on_file_done is not None:
            on_file_done()
    return result


def merge_interactions(parts: Iterable[InteractionTally]) -> dict[str, InteractionTally]:
    """One summary per correlation id: an interaction cut by a rotation (or spread over
    processes) is in several files. The parts are not changed."""
    merged: dict[str, InteractionTally] = {}
    for part in parts:
        known = merged.get(part.correlation_id)
        if known is None:
            merged[part.correlation_id] = InteractionTally(part.correlation_id).merge(part)
        else:
            known.merge(part)
    return merged


def newest_interactions(manifests: Sequence[tuple[Path, Manifest]], read: Iterable[InteractionTally],
                        keep: Callable[[InteractionTally], bool],
                        limit: int) -> tuple[list[InteractionTally], list[Path]]:
    """The ``limit`` newest interactions (by first record) that ``keep`` accepts, newest first,
    from what was read plus the archives' summaries, opening summaries newest archive first and
    stopping once no older archive can hold a newer one. Also the archives whose summaries
    could not be used (missing, or cut to their newest part): the caller reads those."""
    pool = list(read)
    unusable: list[Path] = []
    for path, manifest in sorted(manifests, key=lambda item: item[1].last or "", reverse=True):
        found = sorted((i for i in merge_interactions(pool).values() if keep(i)), key=lambda i: i.first, reverse=True)
        if len(found) >= limit and found[limit - 1].first > (manifest.last or ""):
            break  # everything in this archive (and older ones) started before the limit-th newest
        summaries = load_interactions(path)
        if summaries is None or not manifest.interactions_complete:
            unusable.append(path)
        if summaries is not None:
            pool.extend(summaries)
    found = sorted((i for i in merge_interactions(pool).values() if keep(i)), key=lambda i: i.first, reverse=True)
    return found[:limit], unusable
