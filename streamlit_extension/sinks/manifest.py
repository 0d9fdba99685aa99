"""Archive manifests: what readers ask of an archive, computed once, when it is written.

The background compressor reads each rotated file once anyway; while it does, it parses every
line and writes ``<archive>.manifest`` beside the archive (after the id index, before the plain
file goes). ``st-logs stats`` and the Log Explorer then answer from the manifests and read only
the live files and the archives without one, instead of parsing every record of every archive
on every question.

A manifest holds, for its archive: the first and last record time; counts of records, lines
and damaged lines, by level; per operation the finished count, failures, expected failures and
a ``DurationSketch`` of ``duration_ms`` (percentiles within 1 %), apart for the Log Explorer's
own interactions; how many records carry an error and the newest of them; and a summary of each
interaction (id, session, user, page, first and last time, duration and outcome of its run,
failures, refusals, operations).

Format: gzip-compressed JSON lines: the header (everything but the interactions) on the first
line, the interactions on the second, so a reader that needs only counts reads one line. Each
part is bounded (operations, interactions, errors, traceback length); a part that was cut says
so, and a reader then scans that archive for what it needs. A manifest that is missing,
unreadable, of another version, or written for an archive of another size is ignored: the
archive is scanned, so a manifest can make a reader faster, never wrong.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..rows import DAMAGE, from_line, loads
from ..safe_open import create_new, open_regular
from ..schema import END_EVENTS, EVENT_FAILED, EXPLORER_OPERATION, RUN_OPERATION, is_expected
from .sketch import DurationSketch

SUFFIX = ".manifest"
VERSION = 1
MAX_BYTES = 64 << 20  # a bigger "manifest" is damage: don't read it
MAX_OPERATIONS = 2_000  # distinct operation names kept; past it the archive is scanned for stats
MAX_INTERACTIONS = 5_000  # the newest interactions kept; the Explorer's list needs the newest 50
MAX_ERRORS = 25  # the newest error records kept (the Explorer's Errors panel lists 25)
MAX_TEXT = 8_000  # characters of a traceback or message kept in an error row


def sidecar_path(archive: str | Path) -> Path:
    return Path(f"{archive}{SUFFIX}")


@dataclass
class OperationTally:
    """One operation's finished calls: mergeable across archives.

    ``values`` keeps every duration while all of them come from a scan (``exact``), so a
    percentile is exact until a manifest's sketch is merged in; then it is the sketch's.
    """

    count: int = 0
    errors: int = 0  # failures that are faults
    expected: int = 0  # failures the operation declared expected
    durations: DurationSketch = field(default_factory=DurationSketch)
    values: list[float] | None = None

    @classmethod
    def exact(cls) -> OperationTally:
        return cls(values=[])

    def add(self, record: dict[str, Any]) -> None:
        self.count += 1
        if record.get("event") == EVENT_FAILED:
            if is_expected(record.get("error")):
                self.expected += 1
            else:
                self.errors += 1
        duration = record.get("duration_ms")
        if isinstance(duration, (int, float)) and not isinstance(duration, bool):
            self.durations.add(float(duration))
            if self.values is not None:
                self.values.append(float(duration))

    def merge(self, other: OperationTally) -> OperationTally:
        self.count += other.count
        self.errors += other.errors
        self.expected += other.expected
        self.durations.merge(other.durations)
        if self.values is not None and other.values is not None:
            self.values.extend(other.values)
        else:
            self.values = None
        return self

    def copy(self) -> OperationTally:
        return OperationTally().merge(self) if self.values is None else OperationTally.exact().merge(self)

    @property
    def approximate(self) -> bool:
        """Percentiles come from the sketch (within ``RELATIVE_ERROR``), not from every value."""
        return self.values is None and self.durations.count > 0

    def percentile(self, q: float) -> float | None:
        """The nearest-rank ``q``-th percentile of the durations: exact, or the sketch's."""
        if self.values is None:
            return self.durations.percentile(q)
        if not self.values:
            return None
        ordered = sorted(self.values)
        return ordered[min(max(1, math.ceil(q * len(ordered) / 100)), len(ordered)) - 1]

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "errors": self.errors, "expected": self.expected,
                "durations": self.durations.to_json()}

    @classmethod
    def from_json(cls, data: Any) -> OperationTally:
        if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in ("count", "errors", "expected")):
            raise ValueError("not an operation tally")
        return cls(data["count"], data["errors"], data["expected"], DurationSketch.from_json(data["durations"]))


def _text(value: Any) -> Any:
    return value[:MAX_TEXT] if isinstance(value, str) else value


def error_row(record: dict[str, Any]) -> dict[str, Any]:
    """What the Errors panel shows of a record with an ``error``, bounded."""
    error = record["error"]
    slim = {key: _text(error.get(key)) for key in ("type", "message", "traceback")}
    if is_expected(error):
        slim["expected"] = True
    metadata = record.get("metadata")
    return {"timestamp": record.get("timestamp"), "level": record.get("level"), "message": _text(record.get("message")),
            "operation": record.get("operation"), "error": slim, "correlation_id": record.get("correlation_id"),
            "session_id": record.get("session_id"), "user_id": record.get("user_id"), "page": record.get("page"),
            "metadata": None if metadata is None else _text(orjson.dumps(metadata, default=str).decode())}


class InteractionTally:
    """One correlation id's records in one file: mergeable with its records in other files."""

    __slots__ = ("correlation_id", "duration_ms", "errors", "failed", "first", "last", "operations", "outcome",
                 "own", "page", "records", "refused", "session_id", "user_id")

    def __init__(self, correlation_id: str) -> None:
        self.correlation_id = correlation_id
        self.session_id: str | None = None
        self.user_id: str | None = None
        self.page: str | None = None
        self.first = self.last = ""
        self.duration_ms: float | None = None  # of its run (script_run), when its end is here
        self.outcome: str | None = None  # likewise
        self.failed = 0  # failed operations (faults), the run included
        self.errors = 0  # ... of them nested inside another operation
        self.refused = 0  # expected failures
        self.records = 0
        self.operations: list[str] = []  # distinct, in order of first appearance
        self.own = False  # the Log Explorer's own run

    def add(self, record: dict[str, Any]) -> None:
        stamp = record.get("timestamp") or ""
        if not self.first or stamp < self.first:
            self.first = stamp
        self.last = max(self.last, stamp)
        self.records += 1
        for name in ("session_id", "user_id", "page"):
            if getattr(self, name) is None and isinstance(record.get(name), str):
                setattr(self, name, record[name])
        operation = record.get("operation")
        if isinstance(operation, str) and operation and operation not in self.operations:
            if operation == EXPLORER_OPERATION:
                self.own = True
            if len(self.operations) < 12:
                self.operations.append(operation)
        if record.get("event") in END_EVENTS:
            self._end(record, operation)

    def _end(self, record: dict[str, Any], operation: Any) -> None:
        if record.get("event") == EVENT_FAILED:
            if is_expected(record.get("error")):
                self.refused += 1
            else:
                self.failed += 1
                self.errors += record.get("parent_operation_id") is not None
        if operation == RUN_OPERATION:
            duration = record.get("duration_ms")
            self.duration_ms = float(duration) if isinstance(duration, (int, float)) else None
            metadata = record.get("metadata")
            if record.get("event") == EVENT_FAILED:
                self.outcome = "refused" if is_expected(record.get("error")) else "failed"
            else:
                self.outcome = (metadata.get("outcome") if isinstance(metadata, dict) else None) or "complete"
            if self.page is None and isinstance(metadata, dict) and isinstance(metadata.get("page"), str):
                self.page = metadata["page"]

    def merge(self, other: InteractionTally) -> InteractionTally:
        """Add the same interaction's records from another file."""
        self.first = min(filter(None, (self.first, other.first)), default="")
        self.last = max(self.last, other.last)
        self.records += other.records
        self.failed += other.failed
        self.errors += other.errors
        self.refused += other.refused
        self.own = self.own or other.own
        for name in ("session_id", "user_id", "page", "duration_ms", "outcome"):
            if getattr(self, name) is None:
                setattr(self, name, getattr(other, name))
        self.operations.extend(op for op in other.operations if op not in self.operations)
        return self

    def to_json(self) -> list[Any]:
        return [self.correlation_id, self.session_id, self.user_id, self.page, self.first, self.last,
                self.duration_ms, self.outcome, self.failed, self.errors, self.refused, self.records,
                self.operations, self.own]

    @classmethod
    def from_json(cls, row: Any) -> InteractionTally:
        if not (isinstance(row, list) and len(row) == 14 and isinstance(row[0], str)):
            raise ValueError("not an interaction summary")
        tally = cls(row[0])
        (tally.session_id, tally.user_id, tally.page, tally.first, tally.last, tally.duration_ms, tally.outcome,
         tally.failed, tally.errors, tally.refused, tally.records, tally.operations, tally.own) = row[1:]
        if not (isinstance(tally.first, str) and isinstance(tally.operations, list) and isinstance(tally.records, int)):
            raise ValueError("not an interaction summary")
        return tally


@dataclass
class Manifest:
    """An archive's header: everything but the interaction summaries (``load_interactions``)."""

    records: int = 0
    lines: int = 0
    damaged: int = 0
    first: str | None = None  # the earliest record's timestamp (flat ISO form) ...
    last: str | None = None  # ... and the latest
    levels: Counter[str] = field(default_factory=Counter)
    operations: dict[str, OperationTally] = field(default_factory=dict)  # outside the Explorer's own runs
    own_operations: dict[str, OperationTally] = field(default_factory=dict)  # inside them
    operations_complete: bool = True  # False: past MAX_OPERATIONS names, scan for stats
    error_records: int = 0
    own_error_records: int = 0  # ... of them in the Explorer's own runs
    errors: list[dict[str, Any]] = field(default_factory=list)  # the newest MAX_ERRORS, oldest first
    interactions: int = 0
    interactions_complete: bool = True  # False: only the newest MAX_INTERACTIONS are summarised

    def merge(self, other: Manifest) -> Manifest:
        """Add another file's counts (the other is not changed)."""
        self.records += other.records
        self.lines += other.lines
        self.damaged += other.damaged
        self.first = min(filter(None, (self.first, other.first)), default=None)
        self.last = max(filter(None, (self.last, other.last)), default=None)
        self.levels.update(other.levels)
        for mine, theirs in ((self.operations, other.operations), (self.own_operations, other.own_operations)):
            for name, tally in theirs.items():
                if name in mine:
                    mine[name].merge(tally)
                else:
                    mine[name] = tally.copy()
        self.operations_complete = self.operations_complete and other.operations_complete
        self.error_records += other.error_records
        self.own_error_records += other.own_error_records
        newest = sorted([*self.errors, *other.errors], key=lambda row: str(row.get("timestamp") or ""))
        self.errors = newest[-MAX_ERRORS:]
        self.interactions += other.interactions
        self.interactions_complete = self.interactions_complete and other.interactions_complete
        return self

    def to_json(self, archive: dict[str, Any]) -> dict[str, Any]:
        return {"version": VERSION, "archive": archive, "records": self.records, "lines": self.lines,
                "damaged": self.damaged, "first": self.first, "last": self.last, "levels": dict(self.levels),
                "operations": {k: v.to_json() for k, v in self.operations.items()},
                "own_operations": {k: v.to_json() for k, v in self.own_operations.items()},
                "operations_complete": self.operations_complete, "error_records": self.error_records,
                "own_error_records": self.own_error_records, "errors": self.errors, "interactions": self.interactions,
                "interactions_complete": self.interactions_complete}

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        if not isinstance(data, dict):
            raise ValueError("not a manifest")
        try:
            manifest = cls(
                records=data["records"], lines=data["lines"], damaged=data["damaged"], first=data["first"],
                last=data["last"], levels=Counter(data["levels"]),
                operations={str(k): OperationTally.from_json(v) for k, v in data["operations"].items()},
                own_operations={str(k): OperationTally.from_json(v) for k, v in data["own_operations"].items()},
                operations_complete=data["operations_complete"] is True, error_records=data["error_records"],
                own_error_records=data["own_error_records"], errors=list(data["errors"]),
                interactions=data["interactions"], interactions_complete=data["interactions_complete"] is True)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a manifest: {exc}") from None
        counts = (manifest.records, manifest.lines, manifest.damaged, manifest.error_records,
                  manifest.own_error_records, manifest.interactions)
        if not all(isinstance(n, int) and n >= 0 for n in counts):
            raise ValueError("not a manifest: bad counts")
        if manifest.records and not (isinstance(manifest.first, str) and isinstance(manifest.last, str)):
            raise ValueError("not a manifest: no time span")
        return manifest


class ManifestCollector:
    """Builds a manifest from a file's bytes, fed in chunks of any size (complete lines are
    parsed), or from flat records (``add``). ``exact``: keep every duration too (a reader's scan);
    ``operations_only``: skip interactions and errors (what ``st-logs stats`` needs)."""

    def __init__(self, *, exact: bool = False, operations_only: bool = False) -> None:
        self._new_tally = OperationTally.exact if exact else OperationTally
        self._operations_only = operations_only
        self.manifest = Manifest()
        self._interactions: OrderedDict[str, InteractionTally] = OrderedDict()
        self._errors: deque[dict[str, Any]] = deque(maxlen=MAX_ERRORS)
        self._dropped_interactions = False
        self._pending = b""

    def feed(self, chunk: bytes) -> None:
        block = self._pending + chunk
        cut = block.rfind(b"\n") + 1
        self._pending = block[cut:]
        for line in block[:cut].split(b"\n")[:-1]:
            self._line(line)

    def _line(self, line: bytes) -> None:
        manifest = self.manifest
        manifest.lines += 1
        if not line.strip():
            return
        try:
            record = from_line(loads(line))  # the readers' own parsing and rows: the same as a scan
        except DAMAGE:  # as the reader counts damage
            record = None
        if record is None:
            manifest.damaged += 1
            return
        self.add(record)

    def add(self, record: dict[str, Any]) -> None:
        """Count one flat record (as ``logs.reader`` yields them)."""
        manifest = self.manifest
        manifest.records += 1
        stamp = record.get("timestamp")
        if isinstance(stamp, str):
            manifest.first = stamp if manifest.first is None else min(manifest.first, stamp)
            manifest.last = stamp if manifest.last is None else max(manifest.last, stamp)
        manifest.levels[str(record.get("level"))] += 1
        interaction = None
        if not self._operations_only:
            cid = record.get("correlation_id")
            interaction = self._interaction(cid) if isinstance(cid, str) and cid else None
            if interaction is not None:
                interaction.add(record)
            if isinstance(record.get("error"), dict):
                own = interaction is not None and interaction.own
                manifest.error_records += 1
                manifest.own_error_records += own
                self._errors.append({**error_row(record), "own": own})
        operation = record.get("operation")
        if record.get("event") in END_EVENTS and isinstance(operation, str) and operation:
            tallies = manifest.own_operations if interaction is not None and interaction.own else manifest.operations
            tally = tallies.get(operation)
            if tally is None:
                if len(manifest.operations) + len(manifest.own_operations) >= MAX_OPERATIONS:
                    manifest.operations_complete = False
                    return
                tally = tallies[operation] = self._new_tally()
            tally.add(record)

    def _interaction(self, cid: str) -> InteractionTally:
        found = self._interactions.get(cid)
        if found is None:
            found = self._interactions[cid] = InteractionTally(cid)
            if len(self._interactions) > MAX_INTERACTIONS:
                self._interactions.popitem(last=False)  # the oldest to start: the list shows the newest
                self._dropped_interactions = True
        return found

    def finish(self) -> tuple[Manifest, list[InteractionTally]]:
        if self._pending:
            self._line(self._pending)
            self._pending = b""
        manifest = self.manifest
        manifest.errors = list(self._errors)
        interactions = sorted(self._interactions.values(), key=lambda i: i.first)
        manifest.interactions = len(interactions)
        manifest.interactions_complete = not self._dropped_interactions
        return manifest, interactions


def archive_identity(archive: str | Path) -> dict[str, Any]:
    """What ties a manifest to its archive: the name, the size, and the gzip trailer (the CRC-32
    and length of everything in it), read from the last 8 bytes: a manifest copied beside another
    archive of the same size is still told apart."""
    with open_regular(archive) as handle:
        size = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, size - 8))
        trailer = handle.read(8)
    return {"name": Path(archive).name, "size": size, "trailer": trailer.hex()}


def write_manifest(archive: str | Path, manifest: Manifest, interactions: list[InteractionTally]) -> Path:
    """Write ``archive``'s manifest atomically (a temporary name, then a rename)."""
    header = orjson.dumps(manifest.to_json(archive_identity(archive)))
    body = orjson.dumps([i.to_json() for i in interactions])
    target = sidecar_path(archive)
    temporary = Path(f"{target}.tmp")
    with create_new(temporary) as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as out:
        out.write(header + b"\n" + body + b"\n")
    os.replace(temporary, target)
    return target


def _read_line(archive: str | Path, number: int) -> bytes | None:
    """Line ``number`` (1-based) of ``archive``'s manifest, or None if there is no such whole line."""
    try:
        with open_regular(sidecar_path(archive)) as raw, gzip.GzipFile(fileobj=raw) as packed:
            line = b""
            for _ in range(number):
                line = packed.readline(MAX_BYTES + 1)
                if len(line) > MAX_BYTES or not line.endswith(b"\n"):
                    return None
            return line
    except (OSError, EOFError, zlib.error):  # missing, not a regular file, not gzip, cut short
        return None


def load_manifest(archive: str | Path) -> Manifest | None:
    """``archive``'s manifest header, or None when there is no usable one (then scan the archive)."""
    line = _read_line(archive, 1)
    if line is None:
        return None
    try:
        data = orjson.loads(line)
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return None
        if data.get("archive") != archive_identity(archive):
            return None  # written for another file (another name, size or content)
        return Manifest.from_json(data)
    except (OSError, ValueError):
        return None


def load_interactions(archive: str | Path) -> list[InteractionTally] | None:
    """``archive``'s interaction summaries (oldest first), or None when unusable (scan instead).
    Only call it for an archive whose header ``load_manifest`` accepted."""
    line = _read_line(archive, 2)
    if line is None:
        return None
    try:
        rows = orjson.loads(line)
        if not isinstance(rows, list):
            return None
        return [InteractionTally.from_json(row) for row in rows]
    except ValueError:
        return None
