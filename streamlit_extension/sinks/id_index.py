"""Sidecar id indexes: which correlation, session and user ids a compressed archive may hold.

The background compressor reads each rotated file once anyway; while it does, it collects the
ids and writes ``<archive>.idx`` beside the archive: a Bloom filter over them. ``st-logs trace``
and ``session`` then open only the archives whose filter says "maybe". A filter can err only
towards "maybe" (an extra archive is scanned), never towards "no", so the result is the same
as a full scan. An index that is missing, unreadable, of another version or written for a file
of another size is ignored, and that archive is scanned.

Format: one JSON line (``version``, ``archive_size``, ``bits``, ``hashes``, ``ids``) followed by
the filter's bit array, base64 encoded, on a second line.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import re
from collections.abc import Iterable
from pathlib import Path

from ..safe_open import create_new, read_regular

SUFFIX = ".idx"
VERSION = 2  # 2: enhanced double hashing; a version-1 index is ignored (its archive is scanned)
FALSE_POSITIVE_RATE = 0.001
# schema.CORRELATION_FIELDS as of index version 1: a field added there is scanned for, not looked up.
INDEXED_FIELDS = ("correlation_id", "session_id", "user_id")
MAX_INDEX_BYTES = 64 << 20  # a bigger "index" is damage: don't read it
MAX_IDS = 250_000  # ~25 MB of set at most while collecting; a 10 MB file holds a few thousand

# The value of an indexed key in either JSON format (flat: no space; loguru's: one space).
_ID_VALUE = re.compile(rb'"(?:' + b"|".join(f.encode() for f in INDEXED_FIELDS) + rb')": ?"((?:[^"\\\n]|\\.)*)"')


def sidecar_path(archive: str | Path) -> Path:
    return Path(f"{archive}{SUFFIX}")


class IdCollector:
    """Collects the indexed ids from a file's bytes, fed in chunks of any size.

    Past ``limit`` distinct ids it gives up (``finish`` returns None): the set would weigh more
    than the index is worth, and that archive is simply scanned.
    """

    def __init__(self, limit: int = MAX_IDS) -> None:
        self.ids: set[str] = set()
        self.limit = limit
        self.overflowed = False
        self._pending = b""

    def feed(self, chunk: bytes) -> None:
        if self.overflowed:
            return
        block = self._pending + chunk
        cut = block.rfind(b"\n") + 1  # only complete lines: a value may straddle two chunks
        self._pending = block[cut:]
        self._scan(block[:cut])

    def finish(self) -> set[str] | None:
        if not self.overflowed:
            self._scan(self._pending)
        self._pending = b""
        return None if self.overflowed else self.ids

    def _scan(self, block: bytes) -> None:
        for raw in _ID_VALUE.findall(block):
            if b"\\" in raw:
                try:
                    self.ids.add(json.loads(b'"' + raw + b'"'))
                except ValueError:
                    continue
            else:
                self.ids.add(raw.decode("utf-8", "surrogateescape"))
        if len(self.ids) > self.limit:
            self.overflowed = True
            self.ids = set()


def _positions(value: str, bits: int, hashes: int) -> list[int]:
    """Enhanced double hashing (Dillinger and Manolios): the step grows by ``i`` each time.

    Plain double hashing, ``first + i * second``, gives one position repeated for the one value
    in ``bits`` whose step is a multiple of ``bits``: that id then matched half of all archives.
    """
    digest = hashlib.blake2b(value.encode("utf-8", "surrogateescape"), digest_size=16).digest()
    at, step = int.from_bytes(digest[:8], "little") % bits, int.from_bytes(digest[8:], "little") % bits
    positions = [at]
    for i in range(1, hashes):
        at = (at + step) % bits
        step = (step + i) % bits
        positions.append(at)
    return positions


class BloomFilter:
    """A fixed-size Bloom filter of strings (double hashing over one BLAKE2b digest)."""

    def __init__(self, bits: int, hashes: int, array: bytearray | None = None) -> None:
        self.bits, self.hashes = bits, hashes
        self.array = array if array is not None else bytearray((bits + 7) // 8)

    @classmethod
    def sized_for(cls, count: int, rate: float = FALSE_POSITIVE_RATE) -> BloomFilter:
        count = max(count, 1)
        bits = max(64, math.ceil(-count * math.log(rate) / math.log(2) ** 2))
        return cls(bits, max(1, round(bits / count * math.log(2))))

    def add(self, value: str) -> None:
        for at in _positions(value, self.bits, self.hashes):
            self.array[at >> 3] |= 1 << (at & 7)

    def __contains__(self, value: str) -> bool:
        return all(self.array[at >> 3] & (1 << (at & 7)) for at in _positions(value, self.bits, self.hashes))


def write_index(archive: str | Path, ids: Iterable[str]) -> Path:
    """Write ``archive``'s sidecar atomically (a temporary name, then a rename)."""
    ids = list(ids)
    bloom = BloomFilter.sized_for(len(ids))
    for value in ids:
        bloom.add(value)
    header = {"version": VERSION, "archive_size": os.path.getsize(archive), "bits": bloom.bits,
              "hashes": bloom.hashes, "ids": len(ids)}
    target = sidecar_path(archive)
    temporary = Path(f"{target}.tmp")
    with create_new(temporary) as out:
        out.write(json.dumps(header).encode() + b"\n" + base64.b64encode(bytes(bloom.array)) + b"\n")
    os.replace(temporary, target)
    return target


def load_index(archive: str | Path) -> BloomFilter | None:
    """``archive``'s filter, or None when there is no usable index for it (then scan it)."""
    path = sidecar_path(archive)
    try:
        # Never a plain read: a FIFO under the index's name would block the reader forever.
        header_line, _, body = read_regular(path, MAX_INDEX_BYTES).partition(b"\n")
        header = json.loads(header_line)
        if header.get("version") != VERSION or header.get("archive_size") != os.path.getsize(archive):
            return None  # another format, or not this archive (rewritten, truncated, replaced)
        bits, hashes = header["bits"], header["hashes"]
        array = bytearray(base64.b64decode(body.strip(), validate=True))
        if not (isinstance(bits, int) and isinstance(hashes, int) and bits > 0 and 0 < hashes <= 64
                and len(array) == (bits + 7) // 8):
            return None
        return BloomFilter(bits, hashes, array)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def may_hold(archive: str | Path, value: str) -> bool:
    """False only when ``archive`` has a valid index and ``value`` is certainly not in it."""
    bloom = load_index(archive)
    return bloom is None or value in bloom
