"""Reading log folders for the Log Explorer: the work and the memory it takes are bounded,
whatever the folder's size.

The page (``page``) renders; this module reads, and keeps what it read between runs in the
process-wide ``file_cache()``.

The Explorer runs inside the app's own server, so it never loads the whole folder:

* Every archive has a manifest (``sinks.manifest``): its time span, counts by level, per-operation
  counts and duration sketches, its newest errors and a summary of each interaction. The
  durations table, the error count, the operation choices and the interaction list come from the
  manifests of the archives inside the time range, merged with what the files that must be read
  hold: the live files, archives without a usable manifest, and archives the range only cuts.
* The records table wants the newest matching records: files are read newest first (by their
  recorded time span) until the table is full and no unread file can hold a newer record. A time
  range opens only the archives whose recorded span overlaps it (never by file date: a restored
  folder keeps old dates); a minimum level skips archives whose manifest has no such record; an
  id filter skips archives whose id index rules the id out, and parses only lines holding it.
* What is read is cached between runs in ``FileCache``, bounded by rows over all files
  (``MAX_CACHED_ROWS``, least recently used out first); a live file is read on from where it
  was, so a rerun reads only what was appended. Merged manifests are cached per set of archives.
* The interaction drawn on the timeline is read by its id alone (the id index picks the files).

Secrets are already ``"[REDACTED]"`` in the files; nothing here reads a file any other way than
through ``streamlit_extension.logs``.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from streamlit_extension.explorer.access import inside
from streamlit_extension.explorer.filters import Filters
from streamlit_extension.explorer.reports import FolderSummary, ReadReport, read_report
from streamlit_extension.logs import LogPathError, ReadStats, find_log_files
from streamlit_extension.logs.follow import GrowingFile
from streamlit_extension.logs.reader import SERVER_LOGGERS, file_records, json_escaped, records_with_id
from streamlit_extension.logs.summary import TimeRange, newest_interactions
from streamlit_extension.rows import iso_utc
from streamlit_extension.safe_open import is_regular
from streamlit_extension.schema import (
    CORRELATION_FIELDS,
    END_EVENTS,
    EXPLORER_OPERATION,
    LEVELS,
    RUN_OPERATION,
    is_expected,
    level_number,
)
from streamlit_extension.sinks.id_index import may_hold
from streamlit_extension.sinks.manifest import InteractionTally, Manifest, OperationTally, load_manifest

OWN_OPERATION = EXPLORER_OPERATION  # the page's own runs, tracked under this name

# What the cached frames keep (everything else in a record is dropped after parsing).
TEXT_COLUMNS = ("level", *CORRELATION_FIELDS, "page", "operation", "event", "operation_id", "parent_operation_id",
                "logger")
CATEGORY_COLUMNS = ("level", *CORRELATION_FIELDS, "page", "operation", "event", "logger")
MAX_MESSAGE_CHARS = 4000
MAX_CACHED_ROWS = 100_000  # records kept in frames between runs, every file together (a few dozen MB)
TABLE_READ_SECONDS = 0.25  # a run reads archives for the records table this long, then shows what it has
READ_PIECE = 1 << 20  # bytes of a plain file turned into records at a time
MAX_CACHED_DIGESTS = 16  # merged manifests kept, one per set of archives and "hide own"


# -- frames -------------------------------------------------------------------------------------


def level_no(name: object) -> int:
    """A record's level number; 0 for a level the vocabulary doesn't know (shown at every minimum level)."""
    return level_number(name) or 0


def _str_or_none(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _error(value: object) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    slim: dict[str, Any] = {key: _str_or_none(value.get(key)) for key in ("type", "message", "traceback")}
    if is_expected(value):
        slim["expected"] = True
    return slim


def _metadata(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # already JSON text (a manifest's error row)
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return str(value)


def records_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """The page's slim frame of flat records (from ``read_records``)."""
    names = ("timestamp", "message", "duration_ms", "metadata", "error", *TEXT_COLUMNS)
    columns: dict[str, list] = {name: [] for name in names}
    append = {name: values.append for name, values in columns.items()}
    for r in records:
        append["timestamp"](r.get("timestamp"))
        message = _str_or_none(r.get("message"))
        append["message"](message[:MAX_MESSAGE_CHARS] if message else message)
        append["duration_ms"](_number(r.get("duration_ms")))
        append["metadata"](_metadata(r.get("metadata")))
        append["error"](_error(r.get("error")))
        for name in TEXT_COLUMNS:
            append[name](_str_or_none(r.get(name)))
    frame = pd.DataFrame(columns)
    frame.insert(0, "ts", pd.to_datetime(frame.pop("timestamp"), utc=True, format="ISO8601", errors="coerce"))
    frame["duration_ms"] = frame["duration_ms"].astype("float64")
    frame["level_no"] = frame["level"].map(level_no).fillna(0).astype("int16")
    for name in CATEGORY_COLUMNS:
        frame[name] = frame[name].astype("category")
    return frame


def concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames, keeping categoricals (concat alone turns differing ones into strings)."""
    frames = [frame for frame in frames if len(frame)] or frames[:1]
    if not frames:
        return records_frame(())
    if len(frames) == 1:
        return frames[0]
    frames = [frame.copy(deep=False) for frame in frames]
    for name in CATEGORY_COLUMNS:
        # Index.union sorts, as astype("category") does, and keeps its dtype (str on pandas 3), so a
        # grown file's frame equals one read afresh.
        categories = frames[0][name].cat.categories
        for frame in frames[1:]:
            categories = categories.union(frame[name].cat.categories)
        for frame in frames:
            own = frame[name].cat.categories
            if not (own.equals(categories) and own.dtype == categories.dtype):  # most gain no new value
                frame[name] = frame[name].cat.set_categories(categories)
    return pd.concat(frames, ignore_index=True)


# -- files and what is cached of them -------------------------------------------------------------


@dataclass(frozen=True)
class FileRef:
    """A log file as it was when listed: an archive never changes, a plain file grows."""

    path: Path
    size: int
    mtime_ns: int
    inode: int

    @property
    def archive(self) -> bool:
        return self.path.suffix == ".gz"


def safe_needle(value: str) -> str | None:
    """``value`` if its bytes appear verbatim in a JSON line (no escaping), else None."""
    if value and value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return value
    return None


Prefilter = tuple[str, str] | None  # ("id" | "text" | "level", value): which lines a read parses


def prefilter_for(filters: Filters) -> Prefilter:
    """The most selective filter that can be searched in raw lines: an id, the message text, or
    the minimum level."""
    for value in filters.ids().values():
        if safe_needle(value):
            return ("id", value)
    if filters.text and filters.text.isascii():  # a raw search can fold ASCII case only
        return ("text", filters.text)
    if filters.min_level > 0:
        return ("level", str(filters.min_level))
    return None


def _level_pattern(min_level: int) -> re.Pattern[bytes]:
    """Lines with a level at or above ``min_level`` in either format (flat ``"level":"ERROR"``,
    loguru's ``"level":{..."name":"ERROR"...}``); a line with an unknown level is left out, as
    the page's filter leaves it out."""
    names = b"|".join(name.encode() for name, number in LEVELS.items() if number >= min_level)
    return re.compile(rb'"(?:level|name)": ?"(?:' + names + rb')"')


def _read(path: Path, prefilter: Prefilter, stats: ReadStats) -> Iterable[dict[str, Any]]:
    if prefilter is None:
        return file_records(path, stats)
    kind, value = prefilter
    if kind == "id":
        return file_records(path, stats, needle=value)
    if kind == "level":
        return file_records(path, stats, pattern=_level_pattern(int(value)))
    return file_records(path, stats, pattern=re.compile(re.escape(json_escaped(value)), re.IGNORECASE))


class LiveFile:
    """One plain file's frame, extended with what was appended since the last run.

    Sessions are threads: the lock makes one of them read while the others wait for its result.
    The frame is replaced, never changed in place, so a session still using the previous one is
    unaffected.
    """

    def __init__(self, path: str, needle: str | None) -> None:
        self.lock = threading.Lock()
        self.source = GrowingFile(path, needle)
        self.frame = records_frame(())

    def load(self) -> tuple[pd.DataFrame, ReadReport]:
        with self.lock:
            pieces = [] if self.source.identity is None else [self.frame]
            while True:  # piece by piece: a file's worth of record dicts would weigh ~20x its frame
                increment = self.source.update(READ_PIECE)
                if increment.fresh:
                    pieces = []
                if increment.records:
                    pieces.append(records_frame(increment.records))
                if not increment.more:
                    break
            self.frame = concat_frames(pieces) if pieces else records_frame(())
            return self.frame, read_report(self.source.report())


class FileCache:
    """Process-wide frames of the files the page read, bounded by ``max_rows`` over all of them.

    An archive's frame is keyed by the file as listed and what was searched for; a plain file
    keeps a ``LiveFile`` that reads on from where it was (an id prefilter reads it the same way;
    a text prefilter reads it afresh). The least recently used entries go first once the rows
    add up past the bound; the entry in use is never dropped.
    """

    def __init__(self, max_rows: int = MAX_CACHED_ROWS) -> None:
        self.max_rows = max_rows
        self.lock = threading.Lock()
        self.entries: OrderedDict[tuple, tuple[pd.DataFrame, ReadReport] | LiveFile] = OrderedDict()
        self.digests: OrderedDict[tuple, Manifest] = OrderedDict()
        self.manifests: dict[FileRef, Manifest | None] = {}
        self.tally_memo: dict[tuple, tuple[pd.DataFrame, pd.DataFrame, tuple]] = {}
        self.table_reads: dict[tuple, set[FileRef]] = {}

    @property
    def rows(self) -> int:
        return sum(len(entry.frame if isinstance(entry, LiveFile) else entry[0]) for entry in self.entries.values())

    def frame(self, ref: FileRef, prefilter: Prefilter) -> tuple[pd.DataFrame, ReadReport]:
        if not ref.archive and (prefilter is None or prefilter[0] == "id"):
            key: tuple = (ref.path, prefilter)
            with self.lock:
                live = self.entries.pop(key, None)
                live = live if isinstance(live, LiveFile) else LiveFile(str(ref.path), prefilter and prefilter[1])
                self.entries[key] = live
            loaded = live.load()
        else:
            key = (ref, prefilter)
            with self.lock:
                cached = self.entries.pop(key, None)
                if isinstance(cached, tuple):
                    self.entries[key] = cached
                    return cached
            stats = ReadStats()
            loaded = (records_frame(_read(ref.path, prefilter, stats)), read_report(stats))
            with self.lock:
                self.entries[key] = loaded
        self._trim(key)
        return loaded

    def _trim(self, keep: tuple) -> None:
        with self.lock:
            rows = self.rows
            for key in list(self.entries):
                if rows <= self.max_rows:
                    break
                if key == keep:
                    continue
                entry = self.entries.pop(key)
                rows -= len(entry.frame if isinstance(entry, LiveFile) else entry[0])

    def remember_table(self, key: tuple, refs: set[FileRef]) -> None:
        """Which archives the records table read for these filters and archives."""
        with self.lock:
            self.table_reads.pop(key, None)
            self.table_reads[key] = refs
            while len(self.table_reads) > 32:
                self.table_reads.pop(next(iter(self.table_reads)))

    def refresh(self) -> None:
        """Let the next run read further back than the last one did (the page's Refresh)."""
        with self.lock:
            self.table_reads.clear()

    def holds(self, ref: FileRef, prefilter: Prefilter) -> bool:
        """Is this archive's frame (for this prefilter) in the cache?"""
        with self.lock:
            return (ref, prefilter) in self.entries

    def counted(self, ref: FileRef, frame: pd.DataFrame, filters: Filters) -> tuple[pd.DataFrame, tuple]:
        """``frame``'s rows that match ``filters``, and their ``tallies_from``: computed once per
        frame read and filters, so a rerun that changed nothing reuses them. Callers must not
        change what they get."""
        key = (ref.path, filters)
        with self.lock:
            found = self.tally_memo.get(key)
        if found is not None and found[0] is frame:
            return found[1], found[2]
        view = apply_filters(frame, filters)
        made = tallies_from(view)
        with self.lock:
            self.tally_memo[key] = (frame, view, made)
            while len(self.tally_memo) > 32:
                self.tally_memo.pop(next(iter(self.tally_memo)))
        return view, made

    def manifest(self, ref: FileRef) -> Manifest | None:
        """The archive's manifest header without its sketches and error rows (what planning needs;
        loaded once per file as listed, and small, so a large folder costs little to remember)."""
        if ref not in self.manifests:
            found = load_manifest(ref.path) if ref.archive else None
            if found is not None:
                found = dataclasses.replace(found, operations={}, own_operations={}, errors=[])
            with self.lock:
                if len(self.manifests) > 4096:  # listings of files long gone
                    self.manifests.clear()
                self.manifests[ref] = found
        return self.manifests[ref]

    def digest(self, key: tuple, build: Callable[[], Manifest]) -> Manifest:
        """A merge of manifests, built once per ``key`` (the archives and "hide own")."""
        with self.lock:
            found = self.digests.pop(key, None)
        if found is None:
            found = build()
        with self.lock:
            self.digests[key] = found
            while len(self.digests) > MAX_CACHED_DIGESTS:
                self.digests.popitem(last=False)
        return found

    def forget_gone(self, listed: set[Path]) -> None:
        """Drop what belongs to files no longer listed (compressed, removed by retention)."""
        with self.lock:
            for key in [key for key in self.entries if (key[0].path if isinstance(key[0], FileRef) else key[0])
                        not in listed]:
                del self.entries[key]
            for ref in [ref for ref in self.manifests if ref.path not in listed]:
                del self.manifests[ref]


@st.cache_resource
def file_cache() -> FileCache:
    return FileCache()


def list_files(folders: list[Path], summary: FolderSummary) -> list[FileRef]:
    """The log files in ``folders`` (``access.checked_folders``); raises LogPathError if a
    folder is missing. What is not a regular file, or a symlink leading out of its folder, is
    left out and counted in ``summary``."""
    listing = ReadStats()
    refs = []
    for path in find_log_files(folders, listing):
        if not inside(path, folders):
            summary.not_files.append((str(path), "a link out of the folder"))
            continue
        try:
            info = path.stat()
        except OSError:  # rotated or compressed away since it was listed
            continue
        refs.append(FileRef(path, info.st_size, info.st_mtime_ns, info.st_ino))
    summary.not_files[:0] = listing.not_files
    return refs


def unreadable_archives(folders: list[Path]) -> list[str]:
    """Compressed logs the reader does not open (it reads plain and ``.gz`` files)."""
    found: list[str] = []
    for path in folders:
        if path.is_dir():
            found.extend(p.name for p in path.glob("*.jsonl*.*")
                         if p.suffix in {".bz2", ".xz", ".lzma", ".zip", ".tar"} and is_regular(p))
    return sorted(found)


# -- filtering ----------------------------------------------------------------------------------


def own_interactions(frame: pd.DataFrame) -> set[str]:
    """Correlation ids of this page's own runs (it logs into the folder it reads)."""
    return set(frame.loc[frame["operation"] == OWN_OPERATION, "correlation_id"].dropna())


def apply_filters(frame: pd.DataFrame, f: Filters) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    if f.since is not None:
        mask &= frame["ts"] >= f.since
    if f.until is not None:
        mask &= frame["ts"] < f.until
    if f.min_level > 0:
        mask &= frame["level_no"] >= f.min_level
    for column, value in f.ids().items():
        if value:
            mask &= frame[column] == value
    if f.operation:
        mask &= frame["operation"] == f.operation
    if f.text:
        mask &= frame["message"].str.contains(f.text, case=False, regex=False, na=False)
    if f.hide_own and not f.correlation_id:
        own = own_interactions(frame)
        if own:
            mask &= ~frame["correlation_id"].isin(own)
    if not f.server:  # the same rule as is_server_line, over the whole frame
        server = frame["logger"].astype(object).fillna("").str.startswith(SERVER_LOGGERS)
        mask &= ~(server & frame["correlation_id"].isna())
    return frame[mask]


def record_filters(f: Filters) -> bool:
    """Filters a manifest can't answer: they pick records, not archives."""
    return bool(f.min_level > 0 or f.text or any(f.ids().values()) or f.operation)


def span_of(f: Filters) -> TimeRange:
    def iso(moment: pd.Timestamp | None) -> str | None:
        return None if moment is None else iso_utc(moment.to_pydatetime())

    return TimeRange(iso(f.since), iso(f.until))


def _iso(stamps: pd.Series) -> pd.Series:
    return stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _run_outcome(event: object, error: object, metadata: object) -> str:
    """A run end's outcome, as ``InteractionTally`` reads it from a record."""
    if event == "failed":
        return "refused" if is_expected(error) else "failed"
    try:
        parsed = json.loads(metadata) if isinstance(metadata, str) else None
    except ValueError:
        parsed = None
    return (parsed.get("outcome") if isinstance(parsed, dict) else None) or "complete"


def operation_tallies(frame: pd.DataFrame) -> dict[str, OperationTally]:
    """Per-operation tallies of the rows of ``frame``, exact (every duration kept)."""
    ends = frame[frame["event"].isin(END_EVENTS) & frame["operation"].notna()]
    tallies = {}
    for name, rows in ends.groupby(ends["operation"].astype(object), sort=False):
        failed = rows["event"] == "failed"
        expected = int(rows.loc[failed, "error"].map(is_expected).sum())
        values = [float(v) for v in rows["duration_ms"].dropna()]
        tally = OperationTally(len(rows), int(failed.sum()) - expected, expected, values=values)
        tally.durations.update(values)
        tallies[str(name)] = tally
    return tallies


def _by_cid(rows: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in rows.groupby(rows["correlation_id"].astype(object)).size().items()}


def interaction_tallies(frame: pd.DataFrame) -> list[InteractionTally]:
    """One summary per correlation id among the rows of ``frame`` (the same as
    ``InteractionTally.add`` over them, grouped in pandas)."""
    rows = frame[frame["correlation_id"].notna()]
    if rows.empty:
        return []
    grouped = rows.groupby(rows["correlation_id"].astype(object), sort=False)
    first, last = _iso(grouped["ts"].min()).to_dict(), _iso(grouped["ts"].max()).to_dict()
    counts = grouped.size().to_dict()
    firsts = {name: grouped[name].first().to_dict() for name in ("session_id", "user_id", "page")}
    operations: dict[str, list[str]] = {}
    pairs = rows.loc[rows["operation"].notna(), ["correlation_id", "operation"]].astype(object).drop_duplicates()
    for cid, operation in zip(pairs["correlation_id"], pairs["operation"], strict=True):
        known = operations.setdefault(cid, [])
        if len(known) < 12:
            known.append(str(operation))
    own = set(pairs.loc[pairs["operation"] == OWN_OPERATION, "correlation_id"])
    ends = rows[rows["event"] == "failed"]
    expected = ends["error"].map(is_expected).astype(bool)
    faults = ends[~expected]
    failed, refused = _by_cid(faults), _by_cid(ends[expected])
    nested = _by_cid(faults[faults["parent_operation_id"].notna()])
    runs = rows[(rows["operation"] == RUN_OPERATION) & rows["event"].isin(END_EVENTS)]
    run_ends = {str(c): (d, _run_outcome(e, err, m)) for c, d, e, err, m in zip(
        runs["correlation_id"].astype(object), runs["duration_ms"], runs["event"].astype(object), runs["error"],
        runs["metadata"], strict=True)}
    out = []
    for cid, count in counts.items():
        tally = InteractionTally(str(cid))
        tally.first, tally.last, tally.records = first[cid], last[cid], int(count)
        tally.session_id, tally.user_id, tally.page = (
            None if is_missing(values.get(cid)) else str(values[cid]) for values in firsts.values())
        tally.operations = operations.get(cid, [])
        tally.own = cid in own
        tally.failed, tally.errors, tally.refused = failed.get(cid, 0), nested.get(cid, 0), refused.get(cid, 0)
        if cid in run_ends:
            duration, tally.outcome = run_ends[cid]
            tally.duration_ms = None if is_missing(duration) else float(duration)
        out.append(tally)
    return out


def tallies_from(frame: pd.DataFrame) -> tuple[dict[str, OperationTally], list[InteractionTally]]:
    """Per-operation tallies (exact) and interaction summaries of the rows of ``frame``."""
    return operation_tallies(frame), interaction_tallies(frame)


# -- the view -----------------------------------------------------------------------------------


@dataclass
class ExplorerView:
    """What the page shows for one set of filters.

    The records table and the errors follow every filter; the durations, the interaction list
    and the operation choices follow the time range, the ids, the operation and "hide own" (a
    level or a text picks records, not whole operations or interactions).
    """

    records: pd.DataFrame  # the newest matching records (at most the table's size), in time order
    complete: bool  # ``records`` holds every matching record
    cut_short: bool  # older files that may hold newer matches were left unread for lack of time
    in_range: int  # records in the time range (what the manifests and the files read hold)
    operations: dict[str, OperationTally]  # finished operations
    interactions: list[InteractionTally]  # the newest matching interactions, newest first
    errors: pd.DataFrame  # the newest matching records with an error (refusals too), in time order
    error_count: int | None  # how many matching records carry an error that is a fault, when known
    operation_names: list[str]  # every operation in range (the filter's choices)
    summary: FolderSummary = field(default_factory=FolderSummary)
    refusal_count: int | None = None  # ... and a refusal (an expected failure, not an error), when known

    @property
    def approximate(self) -> bool:
        return any(tally.approximate for tally in self.operations.values())


@dataclass
class _Planned:
    ref: FileRef
    manifest: Manifest | None
    whole: bool  # answers from its manifest: inside the range, no id filter, nothing left out


def _newest_first(refs: list[FileRef], cache: FileCache) -> list[tuple[FileRef, Manifest | None]]:
    """Files by their newest record, newest first: plain files and archives without a manifest
    first (their span is unknown), then archives by their manifest's last record."""
    found = [(ref, cache.manifest(ref)) for ref in refs]
    return sorted(found, key=lambda item: (item[1] is None, "" if item[1] is None else item[1].last or ""),
                  reverse=True)


def _plan(refs: list[FileRef], f: Filters, span: TimeRange, cache: FileCache,
          summary: FolderSummary) -> list[_Planned]:
    by_id = any(f.ids().values())
    planned = []
    for ref, manifest in _newest_first(refs, cache):
        covered = span.covers(manifest) if manifest is not None else None
        if covered is False:
            summary.skipped_old += 1  # its recorded span lies outside the range: never opened
            continue
        if by_id and ref.archive and not all(not v or may_hold(ref.path, v) for v in f.ids().values()):
            summary.ruled_out += 1  # its id index rules the id out
            continue
        whole = manifest is not None and covered is True and not by_id and manifest.operations_complete
        planned.append(_Planned(ref, manifest, whole))
    return planned


def _has_level(manifest: Manifest, min_level: int) -> bool:
    return min_level <= 0 or any(count and (level_no(name) >= min_level or level_no(name) == 0)
                                 for name, count in manifest.levels.items())


class _Newest:
    """The newest ``size`` rows of the frames added, and the time before which nothing counts.

    Only the timestamps are merged as frames come in (to know that time); the rows are put
    together once, at the end.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.parts: list[pd.DataFrame] = []
        self.stamps = pd.Series([], dtype="datetime64[ns, UTC]")
        self.read_all = True  # no file that could hold a match was left unread
        self.cut_short = False  # files that could add rows were left for lack of time

    def wants(self, last: str | None) -> bool:
        """Could a file whose newest record is at ``last`` still add a row?"""
        if len(self.stamps) < self.size or last is None:
            return True
        return last >= iso_utc(self.stamps.iloc[0].to_pydatetime())

    def add(self, view: pd.DataFrame) -> None:
        if len(view):
            tail = view.tail(self.size)
            self.parts.append(tail)
            self.stamps = pd.concat([self.stamps, tail["ts"]], ignore_index=True).dropna().sort_values(
                kind="stable", ignore_index=True).tail(self.size).reset_index(drop=True)

    @property
    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return records_frame(())
        if len(self.parts) == 1:
            merged = self.parts[0]
        else:  # plain strings: merging many files' categories costs more than the table's rows
            plain = {name: object for name in CATEGORY_COLUMNS}
            horizon = self.stamps.iloc[0]
            merged = pd.concat([part[part["ts"] >= horizon].astype(plain) for part in self.parts], ignore_index=True)
        return merged.sort_values("ts", kind="stable", ignore_index=True).tail(self.size).reset_index(drop=True)


def explorer_view(refs: list[FileRef], f: Filters, *, table_rows: int, interactions: int,
                  error_rows: int, cache: FileCache | None = None) -> ExplorerView:
    """Everything the page shows for ``f`` over ``refs``, reading as little as it can (``cache``:
    the process-wide ``file_cache()`` unless given)."""
    cache = cache if cache is not None else file_cache()
    cache.forget_gone({ref.path for ref in refs})
    span, summary = span_of(f), FolderSummary()
    planned = _plan(refs, f, span, cache, summary)
    summarised = [(p.ref, p.manifest) for p in planned if p.whole and p.manifest is not None]
    broad = dataclasses.replace(f, min_level=0, text="", operation=None)  # what aggregates follow
    id_prefilter = prefilter_for(dataclasses.replace(f, text="", min_level=0))
    table_prefilter = prefilter_for(f)

    table = _Newest(table_rows)
    read: dict[FileRef, pd.DataFrame] = {}  # files counted from their records (not their manifest)
    counted: dict[FileRef, tuple[dict[str, OperationTally], list[InteractionTally]]] = {}
    deadline = time.monotonic() + TABLE_READ_SECONDS
    table_key = (f, frozenset(p.ref for p in planned if p.whole))
    read_before = cache.table_reads.get(table_key)  # a rerun reads what the last one did, no further
    read_now: set[FileRef] = set()
    for p in planned:
        if p.whole:  # read only for the table, and only while it may add a row
            if p.manifest is None or not _has_level(p.manifest, f.min_level):
                continue
            if not table.wants(p.manifest.last):
                table.read_all = False
                continue
            if (p.ref not in read_before) if read_before is not None else (
                    time.monotonic() > deadline and not cache.holds(p.ref, table_prefilter)):
                table.read_all, table.cut_short = False, True  # Refresh goes further back
                continue
            read_now.add(p.ref)
            frame = _frame(p.ref, table_prefilter, cache, summary)
        else:  # read whole: its counts come from its records
            frame = _frame(p.ref, id_prefilter, cache, summary)
            if frame is not None:
                read[p.ref], counted[p.ref] = cache.counted(p.ref, frame, broad)
        if frame is not None:
            table.add(apply_filters(frame, f))

    cache.remember_table(table_key, read_now)
    digest = _summaries(summarised, cache)
    operations = {name: tally.copy() for name, tally in digest.operations.items()}
    if not f.hide_own:
        _merge_into(operations, digest.own_operations)
    read_interactions: list[InteractionTally] = []
    for tallies, parts in counted.values():
        _merge_into(operations, tallies)
        read_interactions.extend(parts)
    names = sorted({*operations, *digest.own_operations})
    if f.operation:
        operations = {name: tally for name, tally in operations.items() if name == f.operation}
    picked = _interactions(f, span, summarised, read_interactions, interactions, cache, id_prefilter)
    errors, error_count, refusal_count = _errors(f, digest, read, error_rows)
    summary.from_manifests = len(summarised)
    in_range = sum(m.records for _, m in summarised) + sum(len(view) for view in read.values())
    records = table.frame
    return ExplorerView(records, table.read_all and len(records) < table_rows, table.cut_short, in_range, operations,
                        picked, errors, error_count, names, summary, refusal_count)


def _merge_into(target: dict[str, OperationTally], tallies: dict[str, OperationTally]) -> None:
    for name, tally in tallies.items():
        target[name] = target[name].merge(tally) if name in target else tally.copy()


def _frame(ref: FileRef, prefilter: Prefilter, cache: FileCache, summary: FolderSummary) -> pd.DataFrame | None:
    """One file's records (read, or from the cache); None if it is gone (removed by retention)."""
    if ref.archive and not ref.path.exists():
        return None
    frame, report = cache.frame(ref, prefilter)
    summary.add(ref.path.name, report)
    return frame


def _summaries(summarised: list[tuple[FileRef, Manifest]], cache: FileCache) -> Manifest:
    def build() -> Manifest:  # the full headers, read again: the cache keeps them slim
        total = Manifest()
        for ref, _ in summarised:
            full = load_manifest(ref.path)
            if full is not None:  # None: removed by retention since it was listed
                total.merge(full)
        return total

    return cache.digest((frozenset(ref for ref, _ in summarised),), build)


def _interactions(f: Filters, span: TimeRange, summarised: list[tuple[FileRef, Manifest]],
                  read: list[InteractionTally], limit: int, cache: FileCache,
                  prefilter: Prefilter) -> list[InteractionTally]:
    """The ``limit`` newest interactions that match the time range, ids, operation and "hide own"."""
    def keep(tally: InteractionTally) -> bool:
        if not span.holds(tally.first):
            return False
        if f.hide_own and tally.own and not f.correlation_id:
            return False
        if f.operation and f.operation not in tally.operations:
            return False
        known = {"correlation_id": tally.correlation_id, "session_id": tally.session_id, "user_id": tally.user_id}
        return all(not value or known[name] == value for name, value in f.ids().items())

    found, unusable = newest_interactions([(ref.path, m) for ref, m in summarised], read, keep, limit)
    if unusable:  # summaries missing or cut short: those archives' records instead
        extra = list(read)
        for ref, _ in summarised:
            if ref.path in unusable:
                frame, _ = cache.frame(ref, prefilter)
                extra.extend(tallies_from(frame)[1])
        found, _ = newest_interactions([(ref.path, m) for ref, m in summarised if ref.path not in unusable],
                                       extra, keep, limit)
    return found


def _errors(f: Filters, digest: Manifest, read: dict[FileRef, pd.DataFrame],
            limit: int) -> tuple[pd.DataFrame, int | None, int | None]:
    """The newest ``limit`` matching records with an error, and how many of them are faults and
    how many refusals (when known). A manifest counts every record with an error; its refusals are
    its operations' expected failures (only a refused operation's end record carries one)."""
    matched = [apply_filters(view[view["error"].notna()], f) for view in read.values()]
    frames = [view.tail(limit) for view in matched]
    rows = [row for row in digest.errors if not (f.hide_own and row.get("own") and not f.correlation_id)]
    if rows:
        frames.append(apply_filters(records_frame(rows), f))
    errors = concat_frames(frames).sort_values("ts", kind="stable", ignore_index=True).tail(limit) if frames \
        else records_frame(())
    if f.min_level > 0 or f.text or f.operation:
        return errors, None, None  # a manifest counts its archive's error records, not those of one level or text
    hide_own = f.hide_own and not f.correlation_id
    hidden = digest.own_error_records if hide_own else 0
    tallies = [*digest.operations.values(), *(() if hide_own else digest.own_operations.values())]
    refusals = sum(t.expected for t in tallies) + sum(int(view["error"].map(is_expected).sum()) for view in matched)
    return errors, digest.error_records - hidden + sum(len(view) for view in matched) - refusals, refusals


def interaction_records(refs: list[FileRef], cid: str) -> list[dict[str, Any]]:
    """Every record of one interaction, read by its id alone (the id index picks the archives)."""
    stats = ReadStats()
    try:
        return records_with_id([ref.path for ref in refs if ref.path.exists()], "correlation_id", cid, stats=stats)
    except LogPathError:
        return []


def is_missing(value: object) -> bool:
    """None, NaN or NaT: a value a record does not have."""
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # dicts, lists
        return False
