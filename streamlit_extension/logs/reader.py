"""Reading our JSON log files back, for the CLI and the Log Explorer.

Plain and ``.gz`` files, in either JSON format, merged in time order across files and processes,
each record normalised to the flat field names. Damage never raises: a truncated or corrupt line
is skipped and counted in ``ReadStats``. A needle query searches the raw bytes in large chunks
and parses only the lines that contain the needle. ``records_with_id`` (one correlation, session
or user id) also skips every archive whose sidecar index (``sinks.id_index``) rules the id out,
and scans the rest in parallel.
"""

from __future__ import annotations

import heapq
import json
import os
import re
import threading
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from ..rows import DAMAGE, loads
from ..rows import from_line as normalize  # the name readers import: a parsed line as a flat row
from ..safe_open import open_regular, why_not_regular
from ..schema import DEFAULT_PATH
from ..sinks.id_index import INDEXED_FIELDS, may_hold

if TYPE_CHECKING:
    from concurrent.futures import Executor

PathLike: TypeAlias = str | Path
PATTERNS = ("*.jsonl", "*.jsonl.gz")
CHUNK_SIZE = 1 << 20
MAX_LINE_BYTES = 16 << 20  # a longer "line" is damage, not a record


# The web server's own lines (access logs, start and stop): not about any user's interaction.
SERVER_LOGGERS = ("uvicorn", "tornado", "streamlit.web")


def is_server_line(record: dict[str, Any]) -> bool:
    """A web-server line outside any interaction (hidden by default by ``tail`` and the Explorer)."""
    logger_name = record.get("logger")
    if record.get("correlation_id") is not None:
        return False
    return isinstance(logger_name, str) and logger_name.startswith(SERVER_LOGGERS)


class LogPathError(Exception):
    """A path given to the reader that does not exist or holds no log files."""


@dataclass
class ReadStats:
    """What a read saw: files, lines, records, and what it had to skip and why."""

    files: int = 0
    lines: int = 0
    records: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    skipped_by_file: Counter = field(default_factory=Counter)  # path -> count
    errors: list[tuple[str, str]] = field(default_factory=list)  # unreadable files: (path, reason)
    ruled_out: int = 0  # archives not opened: their id index says the id isn't there
    # Entries named like log files that are not regular files (FIFOs, directories...): (path, what)
    not_files: list[tuple[str, str]] = field(default_factory=list)

    def skip(self, path: Path, reason: str, count: int = 1) -> None:
        self.skipped[reason] += count
        self.skipped_by_file[str(path)] += count

    def merge(self, other: ReadStats) -> None:
        """Add what another read (e.g. of one file, on another thread) saw."""
        self.files += other.files
        self.lines += other.lines
        self.records += other.records
        self.skipped.update(other.skipped)
        self.skipped_by_file.update(other.skipped_by_file)
        self.errors.extend(other.errors)
        self.ruled_out += other.ruled_out
        self.not_files.extend(other.not_files)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def summary(self) -> str:
        text = f"{self.files} files, {self.lines} lines, {self.records} records"
        if self.skipped_total:
            reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
            text += f"; skipped {self.skipped_total} lines ({reasons})"
        if self.errors:
            text += f"; {len(self.errors)} unreadable files"
        if self.not_files:
            text += f"; {len(self.not_files)} entries that are not regular files"
        return text


def find_log_files(paths: Iterable[PathLike] = (DEFAULT_PATH,), stats: ReadStats | None = None) -> list[Path]:
    """The log files named by ``paths`` (files, or folders searched for ``*.jsonl[.gz]``).

    In a folder, an entry named like a log that is not a regular file (a FIFO, a directory, a
    symlink loop...) is left out, and noted in ``stats.not_files`` when ``stats`` is given.
    """
    found: dict[Path, None] = {}  # ordered, and a file named twice is read once
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            listed = set()
            for entry in (p for pattern in PATTERNS for p in path.glob(pattern)):
                reason = why_not_regular(entry)
                if reason is None:
                    listed.add(entry)
                elif stats is not None and reason != "missing":  # "missing": gone since the listing
                    stats.not_files.append((str(entry), reason))
            # Mid-compression both x.jsonl and x.jsonl.gz exist; the archive is already complete.
            found.update(dict.fromkeys(sorted(p for p in listed if p.with_name(p.name + ".gz") not in listed)))
        elif (reason := why_not_regular(path)) is None:
            found[path] = None
        elif reason == "missing":
            raise LogPathError(f"no such file or directory: {path}")
        else:
            raise LogPathError(f"not a log file or folder: {path} ({reason})")
    return list(found)


class FilePool:
    """At most ``limit`` log files open at once, however many are being merged.

    Each file is read through a ``FileCursor`` that remembers its byte offset; when more files are
    in play than the limit, the least recently read one is closed and reopened (at its offset)
    when its turn comes. A folder of thousands of rotated files stays under the process's
    open-file limit.
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit if limit is not None else default_open_limit()
        self._open: OrderedDict[FileCursor, Any] = OrderedDict()
        self.most_open = 0

    def handle(self, cursor: FileCursor) -> Any:
        handle = self._open.get(cursor)
        if handle is not None:
            self._open.move_to_end(cursor)
            return handle
        while len(self._open) >= self.limit:
            _, oldest = self._open.popitem(last=False)
            oldest.close()
        handle = open_regular(cursor.path)  # read-only, binary, and never a FIFO that would block
        try:
            inode = os.fstat(handle.fileno()).st_ino
            if cursor.inode is None:
                cursor.inode = inode
            elif inode != cursor.inode:  # rotated away since we last read it: another file now
                raise OSError(f"{cursor.path.name} was replaced while it was being read")
            handle.seek(cursor.offset)
        except OSError:
            handle.close()
            raise
        self._open[cursor] = handle
        self.most_open = max(self.most_open, len(self._open))
        return handle

    def release(self, cursor: FileCursor) -> None:
        handle = self._open.pop(cursor, None)
        if handle is not None:
            handle.close()

    def close(self) -> None:
        while self._open:
            self._open.popitem()[1].close()


def default_open_limit() -> int:
    """A quarter of the soft open-file limit, between 8 and 256: the app's own files come first."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return 64
    if soft == getattr(resource, "RLIM_INFINITY", -1) or soft <= 0:
        return 256
    return max(8, min(256, soft // 4))


class FileCursor:
    """A position in one file, read in chunks through a ``FilePool``."""

    __slots__ = ("_pool", "inode", "offset", "path")

    def __init__(self, path: Path, pool: FilePool) -> None:
        self.path = path
        self.offset = 0
        self.inode: int | None = None
        self._pool = pool

    def read(self, size: int) -> bytes:
        data = self._pool.handle(self).read(size)
        self.offset += len(data)
        if len(data) < size:
            self._pool.release(self)  # at the end (for now): free the slot
        return data

    def close(self) -> None:
        self._pool.release(self)


def _gzip_chunks(cursor: FileCursor, path: Path, stats: ReadStats) -> Iterator[bytes]:
    """Decompressed chunks of at most ``CHUNK_SIZE`` of a gzip stream (several members
    allowed), up to any damage. Bounded output: logs compress ~25:1, so one compressed
    megabyte would otherwise be 25 MB of memory and copies at once."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        while True:
            data = cursor.read(CHUNK_SIZE)
            if not data:
                break
            while True:
                if decompressor.eof:  # a concatenated file: the next member starts here
                    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
                out = decompressor.decompress(data, CHUNK_SIZE)
                if out:
                    yield out
                if decompressor.eof:
                    data = decompressor.unused_data
                    if not data:
                        break
                else:
                    data = decompressor.unconsumed_tail
                    if not data and len(out) < CHUNK_SIZE:
                        break  # input used up and no output pending: read more
        if not decompressor.eof:
            raise EOFError("compressed file ended before the end-of-stream marker")
    except (zlib.error, EOFError) as exc:
        # Everything before the damage was already yielded: a crash mid-compression loses only the tail.
        stats.errors.append((str(path), f"stopped early: {exc}"))


def _chunks(cursor: FileCursor, path: Path, stats: ReadStats) -> Iterator[bytes]:
    if path.suffix == ".gz":
        yield from _gzip_chunks(cursor, path, stats)
        return
    while True:
        data = cursor.read(CHUNK_SIZE)
        if not data:
            return
        yield data


Needle: TypeAlias = "bytes | re.Pattern[bytes]"  # what a line must contain, or match


def json_escaped(text: str) -> bytes:
    """``text`` as the JSON writers put it inside a string (quotes, backslashes and control
    characters escaped, non-ASCII as is): what to look for in a raw line."""
    return json.dumps(text, ensure_ascii=False)[1:-1].encode()


def _find(block: bytes, needle: Needle, start: int, stop: int) -> int:
    if isinstance(needle, bytes):
        return block.find(needle, start, stop)
    found = needle.search(block, start, stop)
    return -1 if found is None else found.start()


def matching_lines(block: bytes, needle: Needle, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
    """Each line of ``block[start:stop]`` (complete lines) containing ``needle`` (bytes, or a
    pattern matched within one line), once; the lines without it are never split out."""
    stop = len(block) if stop is None else stop
    at = _find(block, needle, start, stop)
    while at != -1:
        first = block.rfind(b"\n", start, at) + 1 or start
        end = block.find(b"\n", at, stop)
        end = stop if end == -1 else end
        yield block[first:end]
        at = _find(block, needle, end, stop)


def raw_lines(path: Path, needle: Needle | None, stats: ReadStats,
              pool: FilePool | None = None) -> Iterator[bytes]:
    """Complete lines of one file (only those containing ``needle``, if given). Never raises.

    A chunk is searched where it lies, not copied: only the line that straddles two chunks is
    put together, so a needle query costs little more than decompressing.
    """
    own_pool = pool is None
    pool = FilePool(1) if pool is None else pool
    cursor = FileCursor(path, pool)
    try:
        pool.handle(cursor)
    except OSError as exc:
        stats.errors.append((str(path), exc.strerror or str(exc)))
        return
    stats.files += 1
    pending = b""  # the start of a line whose end is in a later chunk
    dropping = False  # inside an oversized line: skip to its end
    try:
        chunks = _chunks(cursor, path, stats)
        while True:
            try:
                chunk = next(chunks, None)
            except OSError as exc:  # e.g. an I/O error mid-file: keep what was read
                stats.errors.append((str(path), f"stopped early: {exc.strerror or exc}"))
                break
            if chunk is None:
                break
            first = chunk.find(b"\n")
            if first == -1:
                if not dropping:
                    pending += chunk
                    if len(pending) > MAX_LINE_BYTES:
                        stats.lines += 1
                        stats.skip(path, "oversized line")
                        pending, dropping = b"", True
                continue
            last = chunk.rfind(b"\n")
            stats.lines += (not dropping) + chunk.count(b"\n", first + 1, last + 1)
            if not dropping:
                head = pending + chunk[:first]
                if len(head) > MAX_LINE_BYTES:
                    stats.skip(path, "oversized line")
                elif needle is None or _find(head, needle, 0, len(head)) != -1:
                    yield head
            dropping = False
            if last > first:
                if needle is None:
                    yield from chunk[first + 1:last].split(b"\n")
                else:
                    yield from matching_lines(chunk, needle, first + 1, last)
            pending = chunk[last + 1:]
    finally:
        cursor.close()
        if own_pool:
            pool.close()
    if pending.strip():
        # No newline yet: a crash mid-write, or a line still being written.
        stats.lines += 1
        stats.skip(path, "incomplete last line")


def parse_line(line: bytes, path: Path, stats: ReadStats) -> dict[str, Any] | None:
    """One raw line as a flat record, or None (damage is counted in ``stats``)."""
    if not line.strip():
        return None
    try:
        record = normalize(loads(line))
    except DAMAGE:
        stats.skip(path, "corrupt line")
        return None
    if record is None:
        stats.skip(path, "not a log record")
        return None
    stats.records += 1
    return record


def file_records(path: Path, stats: ReadStats, *, needle: str | None = None, pattern: re.Pattern[bytes] | None = None,
                 pool: FilePool | None = None) -> Iterator[dict[str, Any]]:
    """The records of one file, in file order; with ``needle`` (a text) or ``pattern`` (over the
    raw line) only the lines that contain or match it are parsed. Never raises."""
    raw_needle: Needle | None = pattern if pattern is not None else (json_escaped(needle) if needle else None)
    for line in raw_lines(path, raw_needle, stats, pool):
        record = parse_line(line, path, stats)
        if record is not None:
            yield record


def read_records(
    paths: Iterable[PathLike] = (DEFAULT_PATH,),
    *,
    needle: str | None = None,
    stats: ReadStats | None = None,
) -> Iterator[dict[str, Any]]:
    """Every record under ``paths``, flat-shaped, in time order across files.

    With ``needle``, only lines containing it are parsed (callers still check the field they
    meant). Raises ``LogPathError`` up front for a missing path; everything later is counted in
    ``stats`` instead of raised.
    """
    stats = stats if stats is not None else ReadStats()
    files = find_log_files(paths, stats)
    return _merged(files, needle, stats, FilePool())


def _merged(files: list[Path], needle: str | None, stats: ReadStats, pool: FilePool) -> Iterator[dict[str, Any]]:
    streams = [file_records(path, stats, needle=needle, pool=pool) for path in files]
    try:
        yield from heapq.merge(*streams, key=lambda record: record["timestamp"])
    finally:
        pool.close()


def records_with_id(
    files: Iterable[Path],
    field_name: str,
    value: str,
    *,
    stats: ReadStats | None = None,
    on_file_done: Callable[[], None] | None = None,
    workers: int | None = None,
    processes: bool = False,
) -> list[dict[str, Any]]:
    """The records of ``files`` (as ``find_log_files`` lists them) whose ``field_name``
    (correlation, session or user id) equals ``value``, in time order.

    Archives whose index rules ``value`` out are not opened (counted in ``stats.ruled_out``);
    the others, and every plain file, are scanned by ``workers`` (default: one per core).
    Threads by default: only decompression releases the GIL, so they overlap little. With
    ``processes`` (for a command-line tool, never inside a server) forked worker processes
    scan in parallel, where fork is available and this process runs no other thread.
    ``on_file_done`` is called on this thread after each file (progress). A file that can't
    be read (e.g. rotated away meanwhile) is counted in ``stats.errors``; nothing raises.
    """
    if field_name not in INDEXED_FIELDS:
        raise ValueError(f"field_name must be one of {', '.join(INDEXED_FIELDS)}, not {field_name!r}")
    stats = stats if stats is not None else ReadStats()
    to_scan = []
    for path in files:
        if path.suffix == ".gz" and not may_hold(path, value):
            stats.ruled_out += 1
            if on_file_done is not None:
                on_file_done()
        else:
            to_scan.append(path)
    found: list[list[dict[str, Any]]] = [[] for _ in to_scan]
    if to_scan:
        workers = max(1, min(len(to_scan), workers or os.cpu_count() or 1))
        from concurrent.futures import as_completed  # here, not at import: st-logs starts faster

        with _executor(workers, processes) as pool:
            futures = {pool.submit(_matches, path, field_name, value): at for at, path in enumerate(to_scan)}
            for future in as_completed(futures):
                found[futures[future]], file_stats = future.result()
                stats.merge(file_stats)
                if on_file_done is not None:
                    on_file_done()
    # Files in listed order, then a stable sort: records with equal timestamps keep file order.
    return sorted((record for records in found for record in records), key=lambda record: record["timestamp"])


def _executor(workers: int, processes: bool) -> Executor:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    # Forking a process that runs other threads can copy a lock mid-use: then use threads.
    if processes and workers > 1 and threading.active_count() == 1 and "fork" in mp.get_all_start_methods():
        return ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"))
    return ThreadPoolExecutor(workers, thread_name_prefix="streamlit_extension-read")


def _matches(path: Path, field_name: str, value: str) -> tuple[list[dict[str, Any]], ReadStats]:
    stats = ReadStats()
    return [r for r in file_records(path, stats, needle=value) if r.get(field_name) == value], stats
