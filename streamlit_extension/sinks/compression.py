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
from typing import Any

from .. import _report, _state
from .id_index import SUFFIX as INDEX_SUFFIX
from .id_index import IdCollector, sidecar_path, write_index
from .naming import host_tag, writer_of

TMP_SUFFIX = ".tmp"
CHUNK_SIZE = 256 << 10
COLLECT_PIECE = 32 << 10  # ~0.1 ms of the id regex
EXIT_TIMEOUT = 30.0
STALE_AFTER = 3600.0  # s: a temporary untouched this long is a leftover, whoever wrote it
OPENERS: dict[str, Callable] = {
    "gz": lambda path: gzip.open(path, "wb", compresslevel=6),
    "bz2": lambda path: bz2.open(path, "wb"),
    "xz": lambda path: lzma.open(path, "wb", format=lzma.FORMAT_XZ),
    "lzma": lambda path: lzma.open(path, "wb", format=lzma.FORMAT_ALONE),
}


def compress_file(path: str, extension: str) -> str | None:
    """Compress ``path`` to ``path.<extension>`` atomically; the plain file goes last."""
    target = f"{path}.{extension}"
    temporary = target + TMP_SUFFIX
    collector = IdCollector()
    try:
        with open(path, "rb") as source, OPENERS[extension](temporary) as sink:
            for chunk in iter(lambda: source.read(CHUNK_SIZE), b""):
                sink.write(chunk)
                _collect_politely(collector, chunk)
        with open(temporary, "rb") as done:
            os.fsync(done.fileno())
        os.replace(temporary, target)
        _write_index_quietly(target, collector)
        os.remove(path)
        return target
    except FileNotFoundError:  # removed meanwhile (retention): nothing to keep
        _remove_quietly(temporary)
        if not os.path.exists(path):  # the archive of a file retention removed mid-compression
            _remove_quietly(target)
            _remove_quietly(str(sidecar_path(target)))
        return None
    except Exception as exc:
        _remove_quietly(temporary)
        _report.notice_once(f"compress:{extension}",
                            f"could not compress {path} ({_report.describe(exc)}); it stays uncompressed")
        return None


def _collect_politely(collector: IdCollector, chunk: bytes) -> None:
    # The id regex holds the GIL while it runs: in small pieces, with a yield after each, a
    # thread that is logging waits ~0.1 ms for it, not the 5 ms switch interval.
    for at in range(0, len(chunk), COLLECT_PIECE):
        collector.feed(chunk[at:at + COLLECT_PIECE])
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
    """Drop ``*.tmp`` archives and indexes a killed process left; their plain files are still there."""
    try:
        for leftover in Path(folder).glob(f"*{TMP_SUFFIX}"):
            ours = any(leftover.name.endswith((f".{ext}{TMP_SUFFIX}", f".{ext}{INDEX_SUFFIX}{TMP_SUFFIX}"))
                       for ext in OPENERS)
            if ours and not _may_be_in_use(leftover):
                _remove_quietly(str(leftover))
    except OSError:
        pass


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
                    compress_file(path, self.extension)  # the last rotation: here, then
                    return
                self._worker = worker
            self._queue.put(path)
        _pending().add(self)

    def _work(self) -> None:
        while True:
            try:
                path = self._queue.get(timeout=1.0)
            except queue.Empty:
                with self._lock:  # a file queued meanwhile is still this worker's
                    if self._queue.empty():
                        self._worker = None
                        return  # idle: the next rotation starts a new worker
                continue
            try:
                compress_file(path, self.extension)
            finally:
                self._queue.task_done()

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
        return True

    def __repr__(self) -> str:
        return f"BackgroundCompressor({self.extension!r})"


def _pending() -> set[BackgroundCompressor]:
    return _state.state().compressors


def _drain_all_at_exit() -> None:
    for compressor in list(_pending()):
        compressor.drain(EXIT_TIMEOUT)


if not _state.state().compression_atexit:
    atexit.register(_drain_all_at_exit)
    _state.state().compression_atexit = True
