"""Reading log folders into the Log Explorer's pandas frames, and filtering them.

The page (``log_explorer.py``) renders; this module reads. It is a module of its own because
Streamlit runs a page file as a module that is not importable (``__page__`` before 1.45, a second
``__main__`` since): the cached functions and the classes kept in ``st.cache_resource`` belong in
a module that is imported once, not re-executed on every run (see ``explorer_types``).

Everything is read through ``streamlit_extension.logs`` (plain, rotated and ``.gz`` files, both
JSON formats, damaged lines skipped and counted), so the page shows exactly what the files hold:
secrets are already ``"[REDACTED]"`` there, and nothing here reads a file any other way.

Staying responsive on large folders:

* A plain file is parsed once, then only what is appended: ``LiveFile`` (one per path and
  needle, process-wide through ``st.cache_resource``) keeps its frame and the library's
  ``GrowingFile`` reads from the last complete line on, so a rerun after the live file grew by
  1 MB parses that 1 MB, not the whole file. A new file under the name (rotation), or one that
  shrank, is read afresh. Compressed files never change: ``load_archive`` is an
  ``st.cache_data`` function keyed on (path, size, mtime, inode, needle).
* With a correlation, session or user id filter, files are read with the reader's ``needle=``
  prefilter: only lines containing that id are parsed; an archive whose id index
  (``sinks.id_index``) rules the id out is not opened at all.
* A time range skips files last written before it starts, without opening them.
* The cached frames keep only the columns the page uses, with repetitive ones as categoricals.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from streamlit_extension.app_pages.explorer_access import inside
from streamlit_extension.app_pages.explorer_types import Filters, FolderSummary, ReadReport, read_report
from streamlit_extension.logs import LogPathError, ReadStats, find_log_files, read_records
from streamlit_extension.logs.follow import GrowingFile
from streamlit_extension.logs.reader import SERVER_LOGGERS
from streamlit_extension.logs.timeline import is_expected
from streamlit_extension.safe_open import is_regular
from streamlit_extension.schema import CORRELATION_FIELDS, level_number
from streamlit_extension.sinks.id_index import may_hold

if TYPE_CHECKING:
    from collections.abc import Iterable

OWN_OPERATION = "render_log_explorer_page"  # the page's own runs, tracked under this name

# What the cached frames keep (everything else in a record is dropped after parsing).
TEXT_COLUMNS = ("level", *CORRELATION_FIELDS, "page", "operation", "event", "operation_id", "parent_operation_id",
                "logger")
CATEGORY_COLUMNS = ("level", *CORRELATION_FIELDS, "page", "operation", "event", "logger")
MAX_MESSAGE_CHARS = 4000
MAX_CACHED_FILES = 512  # plain files (per needle) whose frames are kept between runs ...
CACHE_IDLE_SECONDS = 6 * 3600  # ... unless no run asked for them for this long (as the archives' ttl)


# -- reading ------------------------------------------------------------------------------------


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


@st.cache_data(show_spinner="Reading log files…", max_entries=512, ttl=datetime.timedelta(hours=6))
def load_archive(path: str, size: int, mtime_ns: int, inode: int,
                 needle: str | None) -> tuple[pd.DataFrame, ReadReport]:
    """One compressed file's records (those whose line contains ``needle``, if given) and what the read saw.

    ``size``/``mtime_ns``/``inode`` are only the cache key: an archive is written once.
    """
    stats = ReadStats()
    try:
        frame = records_frame(read_records([path], needle=needle, stats=stats))
    except LogPathError:  # removed by retention since it was listed
        frame, stats.errors = records_frame(()), [(path, "gone while reading (removed?)")]
    return frame, read_report(stats)


class LiveFile:
    """One plain file's frame, extended with what was appended since the last run.

    Shared by every session (``LiveFiles``), and sessions are threads: the lock makes one of them
    read while the others wait for its result. The frame is replaced, never changed in place,
    so a session still using the previous one is unaffected.
    """

    def __init__(self, path: str, needle: str | None) -> None:
        self.lock = threading.Lock()
        self.source = GrowingFile(path, needle)
        self.frame = records_frame(())
        self.used = time.monotonic()

    def load(self) -> tuple[pd.DataFrame, ReadReport]:
        with self.lock:
            increment = self.source.update()
            if increment.fresh:
                self.frame = records_frame(increment.records)
            elif increment.records:
                self.frame = concat_frames([self.frame, records_frame(increment.records)])
            return self.frame, read_report(self.source.report())


class LiveFiles:
    """Process-wide ``LiveFile`` per (path, needle). The least recently used go past
    MAX_CACHED_FILES; files gone from the disk (compressed, removed) or idle for
    CACHE_IDLE_SECONDS go at the next ``forget_stale``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.files: OrderedDict[tuple[str, str | None], LiveFile] = OrderedDict()

    def get(self, path: str, needle: str | None) -> LiveFile:
        with self.lock:
            live = self.files.pop((path, needle), None) or LiveFile(path, needle)
            live.used = time.monotonic()
            self.files[(path, needle)] = live
            while len(self.files) > MAX_CACHED_FILES:
                self.files.popitem(last=False)
            return live

    def forget_stale(self) -> None:
        idle_since = time.monotonic() - CACHE_IDLE_SECONDS
        with self.lock:
            stale = [key for key, live in self.files.items() if live.used < idle_since or not os.path.exists(key[0])]
            for key in stale:
                del self.files[key]


@st.cache_resource
def live_files() -> LiveFiles:
    return LiveFiles()


def load_file(path: Path, info: os.stat_result, needle: str | None) -> tuple[pd.DataFrame, ReadReport]:
    """One file's frame and read report: a plain file read on from where it was, an archive from the cache."""
    if path.suffix == ".gz":
        return load_archive(str(path), info.st_size, info.st_mtime_ns, info.st_ino, needle)
    live = live_files().get(str(path), needle)
    if live.source.identity is None:  # never read: the whole file now (later runs read only what is new)
        with st.spinner("Reading log files…"):
            return live.load()
    return live.load()


def safe_needle(value: str) -> str | None:
    """``value`` if its bytes appear verbatim in a JSON line (no escaping), else None."""
    if value and value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return value
    return None


def load_folder(folders: list[Path], needle: str | None,
                since: pd.Timestamp | None) -> tuple[pd.DataFrame, FolderSummary]:
    """All records in ``folders`` (``explorer_access.checked_folders``), in time order; raises
    LogPathError if one is missing. ``needle`` is an id the page filters on exactly: only lines
    containing it are parsed, and archives whose id index rules it out are not opened. A file
    that is not a regular one, or a symlink leading out of its folder, is left out and counted."""
    listing = ReadStats()
    files = find_log_files(folders, listing)
    live_files().forget_stale()
    frames: list[pd.DataFrame] = []
    summary = FolderSummary(not_files=list(listing.not_files))
    for path in files:
        if not inside(path, folders):
            summary.not_files.append((str(path), "a link out of the folder"))
            continue
        try:
            info = path.stat()
        except OSError:  # rotated or compressed away since it was listed
            continue
        if since is not None and pd.Timestamp(info.st_mtime_ns, unit="ns", tz="UTC") < since:
            summary.skipped_old += 1  # last written before the range starts: nothing to show
            continue
        if needle is not None and not may_hold(path, needle):
            summary.ruled_out += 1  # an archive whose id index says the id isn't there
            continue
        frame, report = load_file(path, info, needle)
        summary.add(path.name, report)
        if len(frame):
            frames.append(frame)
    if not frames:
        return records_frame(()), summary
    return concat_frames(frames).sort_values("ts", kind="stable", ignore_index=True), summary


def concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-file frames, keeping categoricals (concat alone turns differing ones into strings)."""
    if len(frames) == 1:
        return frames[0]
    frames = [frame.copy(deep=False) for frame in frames]
    for name in CATEGORY_COLUMNS:
        # Index.union sorts, as astype("category") does, and keeps its dtype (str on pandas 3), so a
        # grown file's frame equals one read afresh; vectorised, it stays cheap on a big live file.
        categories = frames[0][name].cat.categories
        for frame in frames[1:]:
            categories = categories.union(frame[name].cat.categories)
        for frame in frames:
            own = frame[name].cat.categories
            if not (own.equals(categories) and own.dtype == categories.dtype):  # most gain no new value
                frame[name] = frame[name].cat.set_categories(categories)
    return pd.concat(frames, ignore_index=True)


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


def interaction_records(frame: pd.DataFrame, cid: str) -> list[dict[str, Any]]:
    """One interaction's rows as the flat records ``build_interaction`` expects."""
    rows = frame[frame["correlation_id"] == cid]
    out = []
    for row in rows.to_dict("records"):
        record = {key: (None if is_missing(value) else value) for key, value in row.items()}
        ts = row["ts"]
        record["timestamp"] = ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z" if not is_missing(ts) else ""
        metadata = record.get("metadata")
        try:
            record["metadata"] = json.loads(metadata) if metadata else None
        except ValueError:
            record["metadata"] = None
        out.append(record)
    return out


def is_missing(value: object) -> bool:
    """None, NaN or NaT: a value a record does not have."""
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # dicts, lists
        return False
