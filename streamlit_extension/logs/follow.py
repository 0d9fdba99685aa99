"""Reading log files as they grow: ``st-logs tail`` and the Log Explorer's live files.

One primitive, ``read_complete``, reads the complete lines from a byte offset; a line still being
written is left for the next read, and a file that no longer continues at the offset (truncated
in place by copytruncate, or rewritten) is read from its start. On top of it:

* ``GrowingFile``: one file read in increments, each parsing only what was appended (the Log
  Explorer keeps the records; nothing of the file's bytes is kept between reads).
* ``FollowedFile`` and ``Tail``: ``tail -f`` over every process's current file in a folder. Each
  process writes its own ``<stem>.<host>-<pid>.jsonl``; loguru renames a full one to
  ``<stem>.<host>-<pid>.<date>[.N].jsonl`` (compressed to ``.jsonl.gz`` later) and opens a new
  file under the old name. A follower holds its file open, so after the rename it reads the
  rest, then switches to the new file; a rotated file it never held (two rotations between two
  looks) is read whole, so no record is lost or shown twice.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..safe_open import open_regular
from ..sinks.naming import logical_name, split_rotated
from .reader import (
    MAX_LINE_BYTES,
    LogPathError,
    ReadStats,
    find_log_files,
    json_escaped,
    matching_lines,
    parse_line,
    read_records,
)

Record = dict[str, Any]
FileId = tuple[int, int]  # (st_dev, st_ino): a file, whatever its name
POLL_SECONDS = 0.2  # how often ``tail`` looks for new lines and new files
TAIL_CHUNK = 64 << 10  # read size when looking backwards for the last N records
FOLLOW_CHUNK = 1 << 20  # most read from a followed file at once
GROW_CHUNK = 4 << 20  # read size of a GrowingFile (it reads all that was appended)
FINGERPRINT_BYTES = 4096  # how much of a file's first line tells two files apart
RETIRED_KEPT = 8  # renamed files per live name whose rotated name hasn't been seen yet


def file_id(stat: os.stat_result) -> FileId:
    return stat.st_dev, stat.st_ino


# --- complete lines from an offset ------------------------------------------------------------


@dataclass(frozen=True)
class Lines:
    """What ``read_complete`` found: whole lines, and where to read next."""

    block: bytes  # complete lines, each ending in b"\n"; empty while none is complete
    start: int  # where they begin
    end: int  # just past them: where the next read starts
    restarted: bool  # the file no longer continued at the offset asked for: read from 0 instead
    partial: bool  # non-blank bytes follow without a newline (being written, or torn by a crash)
    at_eof: bool  # the read reached the end of the file
    oversized: bool = False  # a "line" over MAX_LINE_BYTES without a newline was skipped


def read_complete(handle: BinaryIO, offset: int, limit: int = FOLLOW_CHUNK) -> Lines:
    """About ``limit`` bytes of complete lines from ``offset`` (0, or just past a newline).

    A line longer than ``limit`` is read to its end. If the byte before ``offset`` is no longer
    a newline, the file was truncated or rewritten since: it is read from the start.
    """
    restarted = offset > 0 and not _continues(handle, offset)
    if restarted:
        offset = 0
    handle.seek(offset)
    parts = [handle.read(limit)]
    at_eof = len(parts[0]) < limit
    cut = parts[0].rfind(b"\n")
    read = len(parts[0])
    while cut == -1 and not at_eof and read <= MAX_LINE_BYTES:  # one long line: read on to its end
        more = handle.read(limit)
        at_eof = len(more) < limit
        cut = more.rfind(b"\n")
        if cut != -1:
            cut += read
        parts.append(more)
        read += len(more)
    data = parts[0] if len(parts) == 1 else b"".join(parts)
    if cut == -1:
        if read > MAX_LINE_BYTES:  # damage, not a record: skip it rather than hold it
            return Lines(b"", offset, offset + read, restarted, False, at_eof, oversized=True)
        return Lines(b"", offset, offset, restarted, bool(data.strip()), at_eof)
    return Lines(data[: cut + 1], offset, offset + cut + 1, restarted, bool(data[cut + 1:].strip()), at_eof)


def _continues(handle: BinaryIO, offset: int) -> bool:
    handle.seek(offset - 1)
    return handle.read(1) == b"\n"


def read_to_end(handle: BinaryIO, offset: int, limit: int, until: int | None = None) -> Iterator[Lines]:
    """``read_complete`` from ``offset`` again and again up to the end (or past ``until``, a size seen
    before: a busy writer can't keep the caller reading)."""
    while True:
        lines = read_complete(handle, offset, limit)
        yield lines
        offset = lines.end
        if lines.at_eof or lines.end == lines.start or (until is not None and offset >= until):
            return


def parse_lines(lines: Lines, path: Path, stats: ReadStats, needle: bytes | None = None) -> list[Record]:
    """The records of ``lines`` (only lines containing ``needle``, if given), counted as the reader counts."""
    if lines.oversized:
        stats.skip(path, "oversized line")
    if not lines.block:
        return []
    stats.lines += lines.block.count(b"\n")
    raw = lines.block.split(b"\n")[:-1] if needle is None else matching_lines(lines.block, needle)
    records = (parse_line(line, path, stats) for line in raw)
    return [record for record in records if record is not None]


def note_incomplete(stats: ReadStats, path: Path) -> None:
    """A last line without a newline in a file that won't grow: damage, as the reader counts it."""
    stats.lines += 1
    stats.skip(path, "incomplete last line")


def needle_bytes(needle: str | None) -> bytes | None:
    return json_escaped(needle) if needle else None


# --- a file read in increments (the Log Explorer) ---------------------------------------------


@dataclass
class Increment:
    """What ``GrowingFile.update`` read: new records, or (``fresh``) all of the file's records."""

    records: list[Record]
    fresh: bool  # read from the start (first read, another file under the name, or it shrank)
    more: bool = False  # stopped at ``max_bytes``: more was already there to read


class GrowingFile:
    """One plain log file read in increments: each ``update`` parses only what was appended.

    The caller keeps the records; this keeps only the offset of the last complete line and the
    counts, so a line still being written is simply read again next time. Another file under
    the name (rotation) or a file that shrank or was rewritten is read afresh.
    """

    def __init__(self, path: str | Path, needle: str | None = None) -> None:
        self.path = Path(path)
        self.needle = needle_bytes(needle)
        self.identity: FileId | None = None
        self.offset = 0
        self.partial = False
        self.stats = ReadStats()
        self.reads_from_start = 0

    def update(self, max_bytes: int | None = None) -> Increment:
        """What was appended since the last call (at most about ``max_bytes`` of it, so a caller
        can turn a big file into records piece by piece instead of holding all of them at once)."""
        try:
            handle = open_regular(self.path)
        except OSError as exc:
            self._start_over(None)
            self.stats.errors.append((str(self.path), exc.strerror or str(exc)))
            return Increment([], fresh=True)
        with handle:
            stat = os.fstat(handle.fileno())
            fresh = file_id(stat) != self.identity or stat.st_size < self.offset
            if fresh:
                self._start_over(file_id(stat))
            records: list[Record] = []
            if stat.st_size == self.offset:
                self.partial = False
                return Increment(records, fresh)
            chunk = GROW_CHUNK if max_bytes is None else min(GROW_CHUNK, max_bytes)
            stop = stat.st_size if max_bytes is None else min(stat.st_size, self.offset + max_bytes)
            more = False
            for lines in read_to_end(handle, self.offset, chunk, until=stop):
                if lines.restarted:  # rewritten in place since the last read
                    self._start_over(self.identity)
                    records, fresh = [], True
                records.extend(parse_lines(lines, self.path, self.stats, self.needle))
                self.offset, self.partial = lines.end, lines.partial
                # Cut short by max_bytes with whole lines still to come (not only a line being written).
                more = not lines.at_eof and lines.end > lines.start and self.offset < stat.st_size
        return Increment(records, fresh, more=more and max_bytes is not None)

    def report(self) -> ReadStats:
        """What a full read of the file would count now (a partial last line as damage, as the reader does)."""
        stats = dataclasses.replace(self.stats, skipped=Counter(self.stats.skipped),
                                    skipped_by_file=Counter(self.stats.skipped_by_file), errors=list(self.stats.errors))
        if self.partial:
            note_incomplete(stats, self.path)
        return stats

    def _start_over(self, identity: FileId | None) -> None:
        self.identity, self.offset, self.partial = identity, 0, False
        self.stats = ReadStats(files=1 if identity is not None else 0)
        self.reads_from_start += 1


# --- following files (st-logs tail) -----------------------------------------------------------


class FollowedFile:
    """A plain log file read as it grows, through a handle held open (so it survives a rename)."""

    def __init__(self, path: Path, stats: ReadStats) -> None:
        self.path = path
        self.stats = stats
        self.handle = open_regular(path)
        self.id = file_id(os.fstat(self.handle.fileno()))
        self.offset = 0
        self.partial = False
        self.at_eof = False
        stats.files += 1

    def last(self, n: int, keep: Callable[[Record], bool]) -> list[Record]:
        """The last ``n`` records passing ``keep``, read backwards from the end; then follow from there."""
        end = self._complete_end()
        found: list[Record] = []
        pos, carry = end, b""
        while pos > 0 and len(found) < n:
            size = min(TAIL_CHUNK, pos)
            pos -= size
            self.handle.seek(pos)
            lines = (self.handle.read(size) + carry).split(b"\n")
            carry = lines.pop(0) if pos > 0 else b""  # may be the end of a line that starts earlier
            for line in reversed(lines):
                record = parse_line(line, self.path, self.stats)
                if record is not None and keep(record):
                    found.append(record)
                    if len(found) == n:
                        break
        self.offset = end
        return found[::-1]

    def _complete_end(self) -> int:
        """Offset just past the last newline: a line still being written is read later."""
        pos = os.fstat(self.handle.fileno()).st_size
        while pos > 0:
            start = max(0, pos - TAIL_CHUNK)
            self.handle.seek(start)
            cut = self.handle.read(pos - start).rfind(b"\n")
            if cut != -1:
                return start + cut + 1
            pos = start
        return 0

    def read_new(self) -> list[Record]:
        """Records appended since the last call (at most about FOLLOW_CHUNK of them: see ``at_eof``)."""
        lines = read_complete(self.handle, self.offset)
        self.offset, self.partial, self.at_eof = lines.end, lines.partial, lines.at_eof
        return parse_lines(lines, self.path, self.stats)

    def read_rest(self) -> list[Record]:
        """Everything up to the end, for a file that won't grow again (rotated away)."""
        records = self.read_new()
        while not self.at_eof:
            records.extend(self.read_new())
        return records

    def first_line(self) -> bytes:
        self.handle.seek(0)  # harmless: every read seeks to its offset first
        return _line_start(self.handle.read(FINGERPRINT_BYTES))

    def close(self, finished: bool = False) -> None:
        """Stop reading; ``finished``: the file won't grow again, so a partial last line is damage."""
        if finished and self.partial:
            note_incomplete(self.stats, self.path)
        self.handle.close()


def _line_start(head: bytes) -> bytes:
    return head.split(b"\n", 1)[0]


def _finished_forms(path: Path) -> list[Path]:
    # A rotated plain file may be compressed away between a listing and a read; its archive is
    # complete under its final name before the plain file goes.
    return [path] if path.suffix == ".gz" else [path, path.with_name(path.name + ".gz")]


def first_line(path: Path) -> bytes | None:
    """The start of a rotated file's first line (None if unreadable): with its timestamp, enough to
    tell two log files apart."""
    for candidate in _finished_forms(path):
        try:
            with open_regular(candidate) as raw:
                handle = gzip.GzipFile(fileobj=raw) if candidate.suffix == ".gz" else raw
                return _line_start(handle.read(FINGERPRINT_BYTES))
        except FileNotFoundError:
            continue
        except (OSError, EOFError, zlib.error):
            return None
    return None


def read_whole(path: Path, stats: ReadStats) -> list[Record]:
    """Every record of a finished file (of its archive if it was just compressed)."""
    for candidate in _finished_forms(path):
        if candidate.suffix == ".gz":
            try:
                return list(read_records([candidate], stats=stats))
            except LogPathError:
                return []  # removed by retention
        try:
            handle = open_regular(candidate)  # held open: the compressor may remove it while we read
        except FileNotFoundError:
            continue
        except OSError as exc:
            stats.errors.append((str(candidate), exc.strerror or str(exc)))
            return []
        with handle:
            stats.files += 1
            records: list[Record] = []
            for lines in read_to_end(handle, 0, FOLLOW_CHUNK):
                records.extend(parse_lines(lines, candidate, stats))
            if lines.partial:
                note_incomplete(stats, candidate)
            return records
    return []


def plain_files(target: Path) -> dict[str, FileId]:
    """The followable (uncompressed) log files under ``target``: path -> identity."""
    try:
        files = find_log_files([target])
    except LogPathError:
        return {}  # mid-rotation, or the folder is gone: look again later
    found = {}
    for path in files:
        if path.suffix == ".gz":
            continue
        try:
            stat = os.stat(path)
        except OSError:
            continue
        found[str(path)] = file_id(stat)
    return found


def live_files(target: Path) -> dict[str, FileId]:
    """What to follow: the file given, or each process's current file in the folder (not rotated ones)."""
    plain = plain_files(target)
    if target.is_dir():
        return {path: ident for path, ident in plain.items() if split_rotated(Path(path).name) is None}
    return plain


def rotated_files(folder: Path) -> dict[str, tuple[Path, str, tuple[str, int]]]:
    """Rotated files in ``folder``: name without ``.gz`` -> (path, the live file's path, order)."""
    try:
        files = find_log_files([folder])  # a plain file and its finished archive: only the archive
    except LogPathError:
        return {}
    found = {}
    for path in files:
        name = logical_name(path.name)
        split = split_rotated(name)
        if split is not None:
            found[name] = (path, str(path.with_name(split[0])), split[1])
    return found


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _by_time(records: Iterable[Record]) -> list[Record]:
    return sorted(records, key=lambda record: str(record.get("timestamp") or ""))


class Tail:
    """Follows every process's current log file under a folder (or one file), across rotation.

    ``start`` returns the last N matching records over all of them; each ``poll`` returns what
    was appended since, in time order. A new file name (a process that started) is followed
    from its start; a name that holds another file (rotation) is switched to once the rest of
    the renamed file is read.
    """

    def __init__(self, target: Path, keep: Callable[[Record], bool], stats: ReadStats) -> None:
        self.target, self.keep, self.stats = target, keep, stats
        self.folder = target if target.is_dir() else target.parent
        self.followed: dict[str, FollowedFile] = {}  # live path -> its follower
        self.tried: list[Path] = []  # files start() read whole or failed to open: none readable is an error
        self.unreadable: dict[str, FileId] = {}  # live files that failed to open: not tried again
        # Rotated names whose records are accounted for: there before we started, read whole, or
        # the new name of a file we followed. Any other one appearing was missed: read it whole.
        self.accounted: set[str] = set()
        # First lines of followed files renamed away whose rotated name hasn't shown up yet.
        self.retired: dict[str, deque[bytes]] = {}
        self._scanned_at = 0.0

    @property
    def following(self) -> bool:
        return bool(self.followed)

    @property
    def busy(self) -> bool:
        """More is known to be waiting in a followed file: poll again without sleeping."""
        return any(not followed.at_eof for followed in self.followed.values())

    def start(self, n: int) -> list[Record]:
        """The last ``n`` matching records over every current file; afterwards ``poll`` returns what is appended."""
        self.accounted = set(rotated_files(self.folder))
        records: list[Record] = []
        for path in live_files(self.target):
            followed = self._open(path)
            if followed is not None:
                records.extend(followed.last(n, self.keep))
        records = _by_time(records)[-n:] if n else []
        if len(records) < n:
            records = self._top_up(records, n)
        self._scanned_at = time.monotonic()
        return records

    def _top_up(self, records: list[Record], n: int) -> list[Record]:
        # Just after a rotation a current file is nearly empty: read the newest older files whole,
        # at most one per followed file (so a filter matching nothing doesn't read the history).
        files = [path for path in _listed(self.target) if str(path) not in self.followed]
        budget = max(1, len(self.followed))
        for path in sorted(files, key=lambda path: (_mtime(path), str(path)), reverse=True)[:budget]:
            self.tried.append(path)
            records.extend(record for record in read_whole(path, self.stats) if self.keep(record))
            if len(records) >= n:
                break
        return _by_time(records)[-n:]

    def poll(self) -> list[Record]:
        """New matching records of every followed file, in time order."""
        records: list[Record] = []
        for followed in self.followed.values():
            records.extend(followed.read_new())
        if not self.busy or time.monotonic() - self._scanned_at >= POLL_SECONDS:
            records.extend(self._scan())
        return _by_time(record for record in records if self.keep(record))

    def _scan(self) -> list[Record]:
        """Switch files that were rotated, follow new ones, read missed rotated files whole."""
        self._scanned_at = time.monotonic()
        records: list[Record] = []
        current = live_files(self.target)
        for path, ident in current.items():
            followed = self.followed.get(path)
            if (followed is not None and followed.id == ident) or self.unreadable.get(path) == ident:
                continue
            if followed is not None:  # renamed by rotation; a new file has the name
                records.extend(self._retire(followed))
            new = self._open(path)
            if new is not None:
                records.extend(new.read_new())
        # Gone from the folder: deleted (retention removes an exited process's file), or renamed
        # with its successor not created yet. Read the rest and let go: a held handle would pin
        # a deleted file's disk space for as long as tail runs.
        for path in [path for path in self.followed if path not in current]:
            records.extend(self._retire(self.followed.pop(path)))
        records.extend(self._missed_rotations())
        return records

    def _open(self, path: str) -> FollowedFile | None:
        try:
            followed = FollowedFile(Path(path), self.stats)
        except OSError as exc:
            self.followed.pop(path, None)
            if self.target.is_file():
                raise  # the one file asked for: say why it can't be read
            try:
                self.unreadable[path] = file_id(os.stat(path))
            except OSError:
                pass  # gone already (mid-rotation): look again next time
            self.stats.errors.append((path, exc.strerror or str(exc)))
            self.tried.append(Path(path))
            return None
        self.followed[path] = followed
        self.unreadable.pop(path, None)
        return followed

    def _retire(self, followed: FollowedFile) -> list[Record]:
        records = followed.read_rest()
        self.retired.setdefault(str(followed.path), deque(maxlen=RETIRED_KEPT)).append(followed.first_line())
        followed.close(finished=True)
        return records

    def _missed_rotations(self) -> list[Record]:
        """Rotated files of followed names that appeared since the last look and that we never held."""
        records: list[Record] = []
        fresh = sorted(((order, name, path, live) for name, (path, live, order) in rotated_files(self.folder).items()
                        if name not in self.accounted and live in self.followed))
        for _, name, path, live in fresh:
            head = first_line(path)  # None: unreadable, so read_whole says why
            self.accounted.add(name)
            retired, held = self.retired.get(live, deque()), self.followed[live]
            if head is not None and head in retired:
                retired.remove(head)  # one we followed, under its rotated name
            elif head is not None and head == held.first_line():
                # The file we hold, renamed by a rotation (so finished): its rest now, in the same
                # batch as any later file read below, so they come out in time order.
                records.extend(held.read_rest())
            else:
                records.extend(read_whole(path, self.stats))
        return records

    def close(self) -> None:
        for followed in self.followed.values():
            followed.close()
        self.followed.clear()


def _listed(target: Path) -> list[Path]:
    try:
        return find_log_files([target])
    except LogPathError:
        return []
