"""Compression of rotated log files, off the logging caller's thread.

loguru compresses inside the write that triggered rotation, with the handler lock held: every
thread that logs waits (~400 ms for 10 MB). Here the rotating write only queues the file; one
background thread compresses it into ``<file>.gz.tmp``, renames that to ``<file>.gz`` and only
then removes the plain file. So a half-written archive never carries the final name, and if
the process ends first the plain file is still there. At interpreter exit, pending work gets a
bounded time to finish.

While it reads the file, it also collects the ids in it for the archive's sidecar index
(``id_index``), written after the archive and before the plain file is removed.
"""

from __future__ import annotations

import atexit
import bz2
import gzip
import lzma
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from .. import _report
from .._shared import shared
from ..safe_open import create_new, is_regular_entry, open_regular
from . import manifest
from .id_index import SUFFIX as INDEX_SUFFIX
from .id_index import IdCollector, sidecar_path, write_index
from .naming import host_tag, logical_name, rotated_file_regex, rotation_stamp, writer_of

TMP_SUFFIX = ".tmp"
CHUNK_SIZE = 256 << 10
COLLECT_PIECE = 32 << 10  # ~0.1 ms of the id regex
EXIT_TIMEOUT = 30.0
SIDECARS = ("", INDEX_SUFFIX, manifest.SUFFIX)  # what is written beside an archive ("": the archive itself)
RETRY_FIRST, RETRY_MOST = 1.0, 60.0  # s: waits between tries at a file that could not be compressed
STALE_AFTER = 3600.0  # s: a temporary untouched this long is a leftover, whoever wrote it
# Each wraps a file object (``create_new``'s): the temporary name is never opened through a FIFO or a symlink.
OPENERS: dict[str, Callable[[BinaryIO], Any]] = {
    "gz": lambda raw: gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6),
    "bz2": lambda raw: bz2.BZ2File(raw, "wb"),
    "xz": lambda raw: lzma.LZMAFile(raw, "wb", format=lzma.FORMAT_XZ),
    "lzma": lambda raw: lzma.LZMAFile(raw, "wb", format=lzma.FORMAT_ALONE),
}


def compress_file(path: str, extension: str) -> str | None:
    """Compress ``path`` to ``path.<extension>`` atomically; the plain file goes last.

    None when the file is gone (retention removed it). Any other failure (a full disk) raises,
    with the plain file whole and no temporary left, so it can be tried again.
    """
    target = f"{path}.{extension}"
    temporary = target + TMP_SUFFIX
    collector, summary = IdCollector(), manifest.ManifestCollector()
    try:
        with open_regular(path) as source, create_new(temporary) as raw:
            with OPENERS[extension](raw) as sink:
                for chunk in iter(lambda: source.read(CHUNK_SIZE), b""):
                    sink.write(chunk)
                    _collect_politely(collector, summary, chunk)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, target)
        _write_index_quietly(target, collector)
        _write_manifest_quietly(target, summary)
        os.remove(path)
        return target
    except FileNotFoundError:  # removed meanwhile (retention): nothing to keep
        _remove_quietly(temporary)
        if not os.path.exists(path):  # the archive of a file retention removed mid-compression
            _remove_quietly(target)
            _remove_quietly(str(sidecar_path(target)))
            _remove_quietly(str(manifest.sidecar_path(target)))
        return None
    except BaseException:
        _remove_quietly(temporary)
        raise


def write_sidecars(archive: str, *, index: bool = True, summary: bool = True,
                   chunk_size: int = 1 << 20) -> bool | None:
    """Read a ``.gz`` archive once and write its id index and/or manifest (archives from before
    them, or with an older version's). Safe beside a live writer: its compressor writes the same
    bytes for the same archive. Returns whether the index was written (None: not asked, or too
    many ids to be worth one). Raises OSError, EOFError or zlib.error for an archive that can't
    be read, and OSError if a sidecar can't be written."""
    collector, summarizer = IdCollector(), manifest.ManifestCollector()
    with open_regular(archive) as raw, gzip.GzipFile(fileobj=raw) as source:
        while chunk := source.read(chunk_size):
            if index:
                collector.feed(chunk)
            if summary:
                summarizer.feed(chunk)
    if summary:
        manifest.write_manifest(archive, *summarizer.finish())
    if not index:
        return None
    ids = collector.finish()
    return None if ids is None else bool(write_index(archive, ids))


def _collect_politely(collector: IdCollector, summary: manifest.ManifestCollector, chunk: bytes) -> None:
    # The id regex and the manifest's parsing hold the GIL while they run: in small pieces, with
    # a yield after each, a thread that is logging waits ~0.1 ms for them, not the 5 ms switch interval.
    for at in range(0, len(chunk), COLLECT_PIECE):
        piece = chunk[at:at + COLLECT_PIECE]
        collector.feed(piece)
        time.sleep(0)
        summary.feed(piece)
        time.sleep(0)


def _write_index_quietly(archive: str, collector: IdCollector) -> None:
    # The index only speeds reading up: without it the archive is scanned, so a failure is no loss.
    try:
        ids = collector.finish()
        if ids is not None:  # None: too many distinct ids to be worth an index
            write_index(archive, ids)
    except Exception as exc:
        _remove_quietly(f"{sidecar_path(archive)}{TMP_SUFFIX}")
        _report.notice_once("index", f"could not write the id index of {archive} ({_report.describe(exc)}); "
                                     "it is read without one")


def _write_manifest_quietly(archive: str, summary: manifest.ManifestCollector) -> None:
    # Like the index, a manifest only saves readers work: without one the archive is scanned.
    try:
        manifest.write_manifest(archive, *summary.finish())
    except Exception as exc:
        _remove_quietly(f"{manifest.sidecar_path(archive)}{TMP_SUFFIX}")
        _report.notice_once("manifest", f"could not write the manifest of {archive} ({_report.describe(exc)}); "
                                        "it is scanned instead")


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would terminate it there; the age rule cleans up instead
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, as another user
        return True
    return True


def _may_be_in_use(leftover: Path) -> bool:
    """True while another process may still be compressing into ``leftover``.

    Replicas share a folder (one volume, several hosts): a starting process must not remove a
    temporary a live neighbour is writing, or that archive's rename fails.
    """
    try:
        if time.time() - leftover.stat().st_mtime > STALE_AFTER:
            return False
    except OSError:
        return False
    writer = writer_of(leftover.name)
    if writer is None:  # a pinned name: one writer, and it is starting now
        return False
    host, pid = writer
    if host != host_tag():  # can't tell from here
        return True
    return pid == os.getpid() or _alive(pid)


def remove_stale_temporaries(folder: str) -> None:
    """Drop ``*.tmp`` archives and indexes a killed process left; their plain files are still there.
    Only regular files: whatever else stands under such a name is not ours."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                ours = any(entry.name.endswith(tuple(f".{ext}{sidecar}{TMP_SUFFIX}" for sidecar in SIDECARS))
                           for ext in OPENERS)
                if ours and is_regular_entry(entry) and not _may_be_in_use(Path(entry.path)):
                    _remove_quietly(entry.path)
    except OSError:
        pass


def uncompressed_leftovers(folder: str, pattern: str) -> list[str]:
    """Rotated files of this app that no live process will compress: a full disk or a crash left
    them plain. Oldest first."""
    regex = rotated_file_regex(pattern)
    found = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if (regex.fullmatch(entry.name) and logical_name(entry.name) == entry.name
                        and is_regular_entry(entry) and not _may_be_in_use(Path(entry.path))):
                    found.append(entry.path)
    except OSError:
        return []
    return sorted(found, key=lambda path: rotation_stamp(os.path.basename(path)))


def _room_for(path: str) -> bool:
    """Is there room to compress ``path`` (a quarter of its size, logs shrink ~10x)? A retry on a
    full disk would take the last free blocks from the live log file."""
    try:
        free = os.statvfs(os.path.dirname(path) or ".")
        return free.f_bavail * free.f_frsize > os.path.getsize(path) // 4 + (1 << 20)
    except (OSError, AttributeError):  # no statvfs (Windows): just try
        return True


class BackgroundCompressor:
    """A loguru ``compression=`` callable that hands each rotated file to one worker thread."""

    def __init__(self, extension: str) -> None:
        if extension not in OPENERS:
            raise ValueError(f"background compression supports {', '.join(OPENERS)}, not {extension!r}")
        self.extension = extension
        self._pid = os.getpid()
        self._queue: queue.Queue[str] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._retry: dict[str, tuple[float, float]] = {}  # path -> (when to try again, the wait after that)

    @classmethod
    def for_option(cls, compression: Any) -> BackgroundCompressor | None:
        """A compressor for a ``compression=`` string it supports ("gz", ".xz"...), else None."""
        if isinstance(compression, str) and compression.strip().lstrip(".") in OPENERS:
            return cls(compression.strip().lstrip("."))
        return None

    def __call__(self, path: str) -> None:
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                worker = threading.Thread(target=self._work, name="streamlit_extension-compress", daemon=True)
                try:
                    worker.start()
                except RuntimeError:  # "can't create new thread at interpreter shutdown" (3.12+)
                    self._compress(path)  # the last rotation: here, then
                    return
                self._worker = worker
            self._queue.put(path)
        _pending().add(self)

    def adopt_leftovers(self, folder: str, pattern: str) -> None:
        """Queue the rotated files a full disk or a crash left uncompressed (at start)."""
        for path in uncompressed_leftovers(folder, pattern):
            self(path)

    def _work(self) -> None:
        while True:
            try:
                path = self._queue.get(timeout=1.0)
            except queue.Empty:
                with self._lock:  # a file queued meanwhile is still this worker's
                    if self._queue.empty() and not self._retry:
                        self._worker = None
                        return  # idle: the next rotation starts a new worker
                self._queue_due_retries()
                continue
            try:
                self._compress(path)
            finally:
                self._queue.task_done()

    def _compress(self, path: str) -> None:
        try:
            compress_file(path, self.extension)
        except Exception as exc:
            _, wait = self._retry.get(path, (0.0, RETRY_FIRST / 2))
            wait = min(wait * 2, RETRY_MOST)
            self._retry[path] = (time.monotonic() + wait, wait)
            _report.notice_once(f"compress:{self.extension}", f"could not compress {path} ({_report.describe(exc)}); "
                                                              "trying again once there is room", every=3600.0)
        else:
            self._retry.pop(path, None)

    def _queue_due_retries(self) -> None:
        now = time.monotonic()
        for path, (due, _) in list(self._retry.items()):
            if due > now:
                continue
            if not os.path.exists(path):  # removed meanwhile (retention)
                self._retry.pop(path, None)
            elif _room_for(path):
                self._queue.put(path)

    def drain(self, timeout: float = EXIT_TIMEOUT) -> bool:
        """Wait until queued files are compressed; False if ``timeout`` ran out first."""
        if self._pid != os.getpid():
            return True  # inherited by a forked child: the parent's worker has these files
        # No helper thread: at interpreter exit (3.12+) none can be started.
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return not self._retry  # files waiting for room are compressed later (at the next start)

    def __repr__(self) -> str:
        return f"BackgroundCompressor({self.extension!r})"


_compressors: set[BackgroundCompressor] = shared(f"{__name__}.compressors", set)  # to drain at exit


def _pending() -> set[BackgroundCompressor]:
    return _compressors


def _drain_all_at_exit() -> None:
    for compressor in list(_pending()):
        compressor.drain(EXIT_TIMEOUT)


shared(f"{__name__}.drain_at_exit", lambda: atexit.register(_drain_all_at_exit))  # once per process
