"""Reading our JSON log files back, for the CLI and the Log Explorer.

Plain and ``.gz`` files, in either JSON format, merged in time order across files and processes,
each record normalised to the flat field names. Damage never raises: a truncated or corrupt line
is skipped and counted in ``ReadStats``. A needle query (one correlation, session or user id)
searches the raw bytes in large chunks and parses only the lines that contain the needle, so a
trace over hundreds of MB costs about what ``zcat | grep -F`` does.
"""

from __future__ import annotations

import datetime
import heapq
import json
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Union

from ..sinks.flat import CORRELATION_FIELDS, OPERATION_FIELDS, add_extras, iso_utc_ms

PathLike = Union[str, Path]
DEFAULT_PATH = "logs"
PATTERNS = ("*.jsonl", "*.jsonl.gz")
CHUNK_SIZE = 1 << 20
MAX_LINE_BYTES = 16 << 20  # a longer "line" is damage, not a record


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

    def skip(self, path: Path, reason: str, count: int = 1) -> None:
        self.skipped[reason] += count
        self.skipped_by_file[str(path)] += count

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
        return text


def find_log_files(paths: Iterable[PathLike] = (DEFAULT_PATH,)) -> list[Path]:
    """The log files named by ``paths`` (files, or folders searched for ``*.jsonl[.gz]``)."""
    found: dict[Path, None] = {}  # ordered, and a file named twice is read once
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            listed = {p for pattern in PATTERNS for p in path.glob(pattern) if p.is_file()}
            # Mid-compression both x.jsonl and x.jsonl.gz exist; the archive is already complete.
            found.update(dict.fromkeys(sorted(p for p in listed if p.with_name(p.name + ".gz") not in listed)))
        elif path.is_file():
            found[path] = None
        elif path.exists():
            raise LogPathError(f"not a file or folder: {path}")
        else:
            raise LogPathError(f"no such file or directory: {path}")
    return list(found)


def _gzip_chunks(handle, path: Path, stats: ReadStats) -> Iterator[bytes]:
    """Decompressed chunks of a gzip stream (several members allowed), up to any damage."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        while True:
            data = handle.read(CHUNK_SIZE)
            if not data:
                break
            while data:
                out = decompressor.decompress(data)
                if out:
                    yield out
                data = decompressor.unused_data  # the next member of a concatenated file
                if data:
                    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        if not decompressor.eof:
            raise EOFError("compressed file ended before the end-of-stream marker")
    except (zlib.error, EOFError) as exc:
        # Everything before the damage was already yielded: a crash mid-compression loses only the tail.
        stats.errors.append((str(path), f"stopped early: {exc}"))


def _chunks(handle, path: Path, stats: ReadStats) -> Iterator[bytes]:
    if path.suffix == ".gz":
        yield from _gzip_chunks(handle, path, stats)
        return
    while True:
        data = handle.read(CHUNK_SIZE)
        if not data:
            return
        yield data


def _matching_lines(block: bytes, needle: bytes) -> Iterator[bytes]:
    """Each line of ``block`` (complete lines) containing ``needle``, once."""
    at = block.find(needle)
    while at != -1:
        start = block.rfind(b"\n", 0, at) + 1
        end = block.find(b"\n", at)
        yield block[start:end]
        at = block.find(needle, end)


def raw_lines(path: Path, needle: Optional[bytes], stats: ReadStats) -> Iterator[bytes]:
    """Complete lines of one file (only those containing ``needle``, if given). Never raises."""
    try:
        handle = open(path, "rb")  # read-only, binary: bytes are searched before decoding
    except OSError as exc:
        stats.errors.append((str(path), exc.strerror or str(exc)))
        return
    stats.files += 1
    pending = b""
    with handle:
        chunks = _chunks(handle, path, stats)
        while True:
            try:
                chunk = next(chunks, None)
            except OSError as exc:  # e.g. an I/O error mid-file: keep what was read
                stats.errors.append((str(path), f"stopped early: {exc.strerror or exc}"))
                break
            if chunk is None:
                break
            block = pending + chunk
            cut = block.rfind(b"\n")
            if cut == -1:
                pending = block
                if len(pending) > MAX_LINE_BYTES:
                    stats.skip(path, "oversized line")
                    pending = b""  # the rest of this line is dropped below
                continue
            complete, pending = block[: cut + 1], block[cut + 1 :]
            stats.lines += complete.count(b"\n")
            if needle is None:
                yield from complete.split(b"\n")[:-1]
            else:
                yield from _matching_lines(complete, needle)
    if pending.strip():
        # No newline yet: a crash mid-write, or a line still being written.
        stats.lines += 1
        stats.skip(path, "incomplete last line")


def _iso_from_epoch(value: Any) -> str:
    return iso_utc_ms(datetime.datetime.fromtimestamp(float(value), datetime.timezone.utc))


def normalize(obj: Any) -> Optional[dict[str, Any]]:
    """A parsed line as a flat record, or None if it isn't one of our records."""
    if not isinstance(obj, dict):
        return None
    record = obj.get("record")
    if "text" in obj and isinstance(record, dict):  # loguru's serialize=True
        extra = record.get("extra") or {}
        out: dict[str, Any] = {
            "timestamp": _iso_from_epoch(record["time"]["timestamp"]),
            "level": record["level"]["name"],
            "message": record.get("message"),
        }
        for key in CORRELATION_FIELDS + OPERATION_FIELDS:
            out[key] = extra.get(key)
        exception = record.get("exception")
        if out["error"] is None and isinstance(exception, dict):
            out["error"] = {"type": exception.get("type"), "message": exception.get("value"), "traceback": None}
        out["logger"] = extra.get("logger_name") or record.get("name")
        out["module"], out["function"], out["line"] = record.get("module"), record.get("function"), record.get("line")
        return add_extras(out, extra)
    if isinstance(obj.get("timestamp"), str) and "level" in obj:  # the flat format
        return obj
    return None


def parse_line(line: bytes, path: Path, stats: ReadStats) -> Optional[dict[str, Any]]:
    """One raw line as a flat record, or None (damage is counted in ``stats``)."""
    if not line.strip():
        return None
    try:
        record = normalize(json.loads(line))
    except (ValueError, RecursionError, KeyError, TypeError):  # bad JSON, bad UTF-8, too deep, odd shape
        stats.skip(path, "corrupt line")
        return None
    if record is None:
        stats.skip(path, "not a log record")
        return None
    stats.records += 1
    return record


def _file_records(path: Path, needle: Optional[str], stats: ReadStats) -> Iterator[dict[str, Any]]:
    # Matched against the raw line, so escape it as the JSON writer would have.
    needle_bytes = json.dumps(needle, ensure_ascii=False)[1:-1].encode() if needle else None
    for line in raw_lines(path, needle_bytes, stats):
        record = parse_line(line, path, stats)
        if record is not None:
            yield record


def read_records(
    paths: Iterable[PathLike] = (DEFAULT_PATH,),
    *,
    needle: Optional[str] = None,
    stats: Optional[ReadStats] = None,
) -> Iterator[dict[str, Any]]:
    """Every record under ``paths``, flat-shaped, in time order across files.

    With ``needle``, only lines containing it are parsed (callers still check the field they
    meant). Raises ``LogPathError`` up front for a missing path; everything later is counted in
    ``stats`` instead of raised.
    """
    files = find_log_files(paths)
    stats = stats if stats is not None else ReadStats()
    streams = [_file_records(path, needle, stats) for path in files]
    return heapq.merge(*streams, key=lambda record: record["timestamp"])
