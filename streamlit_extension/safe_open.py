"""Opening a path that must be a regular file, without ever blocking on one that isn't.

Log folders are shared places: a FIFO, a socket, a device node, a directory or a symlink loop can
sit under a name that looks like a log file, an archive or its index. ``open()`` on a FIFO waits
for a writer forever, and a device may do worse, so every reader and housekeeper (the CLI, the
Log Explorer, retention, the start-up cleanup, the compressor) goes through here: such an entry is
"not a log file", reported by kind, and never opened for reading in a way that can block.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

# A FIFO opened with O_NONBLOCK returns at once instead of waiting for a writer; fstat then
# refuses it. Regular files ignore the flag.
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


class NotRegularFile(OSError):  # noqa: N818 - reads as the condition it is
    """The path names something other than a regular file (``strerror`` says what)."""


def kind(mode: int) -> str:
    """What a non-regular ``st_mode`` is, in words."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def why_not_regular(path: str | os.PathLike[str]) -> str | None:
    """None for a regular file (symlinks followed), else what it is instead ("a FIFO",
    "a symlink loop", ...). A missing path is "missing"."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symlink loop"
        return "missing" if exc.errno == errno.ENOENT else (exc.strerror or str(exc))
    return None if stat.S_ISREG(mode) else kind(mode)


def is_regular(path: str | os.PathLike[str]) -> bool:
    return why_not_regular(path) is None


def is_regular_entry(entry: os.DirEntry[str]) -> bool:
    """A ``scandir`` entry that is itself a regular file (a symlink is not: housekeeping that
    deletes or renames must never act through one)."""
    try:
        return entry.is_file(follow_symlinks=False)
    except OSError:
        return False


def open_regular(path: str | os.PathLike[str], *, writable: bool = False) -> BinaryIO:
    """``open(path, "rb")`` (``"rb+"`` if ``writable``) for a regular file; ``NotRegularFile``
    for anything else.

    The path is checked before it is opened (so a device is never opened) and the descriptor
    after (so a name swapped in between is caught too).
    """
    reason = why_not_regular(path)
    if reason == "missing":
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
    if reason is not None:
        raise NotRegularFile(errno.EINVAL, reason, str(path))
    descriptor = os.open(path, (_FLAGS & ~os.O_RDONLY) | os.O_RDWR if writable else _FLAGS)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(errno.EINVAL, kind(mode), str(path))
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return open(descriptor, "rb+" if writable else "rb", closefd=True)
    except BaseException:
        os.close(descriptor)
        raise


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """At most ``limit`` bytes of a regular file (``NotRegularFile`` otherwise); a longer file is
    an error (``ValueError``), not a truncated read."""
    with open_regular(path) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{Path(path).name} is larger than {limit} bytes")
    return data


def create_new(path: str | os.PathLike[str]) -> BinaryIO:
    """A new, empty file at ``path`` for writing, whatever stood there (``open(path, "wb")`` would
    block on a FIFO, and write through a symlink). A directory there raises ``IsADirectoryError``."""
    try:
        os.remove(path)  # unlinks a symlink itself, never its target
    except FileNotFoundError:
        pass
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    return open(os.open(path, flags | getattr(os, "O_BINARY", 0), 0o644), "wb", closefd=True)
