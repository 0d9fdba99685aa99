"""File names: one file per process by default, and which rotated files are this app's.

Several ``streamlit run`` replicas or worker processes rotating one file lose or duplicate lines
(loguru #365, #1145), so ``logs/app.jsonl`` becomes ``logs/app.<host>-<pid>.jsonl`` unless the
name is pinned (``per_process=False``, or a path that already uses ``{pid}``).
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

from ..schema import COMPRESSIONS

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
# loguru renames a rotated file to <root>.<YYYY-MM-DD_HH-MM-SS_ffffff>[.N]<ext>
_DATE = r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_\d{6}"
_STAMP = _DATE + r"(?:\.\d+)?"
_ROTATED_NAME = re.compile(rf"(?P<root>.+)\.(?P<date>{_DATE})(?:\.(?P<n>\d+))?(?P<ext>\.[^.]+)")
ARCHIVE_EXTENSIONS = COMPRESSIONS  # a rotated file's name may end in any format loguru or we compress to


# A rotated file of a per-process name: <stem>.<host>-<pid>.<date>...
_WRITER = re.compile(rf"\.(?P<host>[A-Za-z0-9_-]+)-(?P<pid>\d+)\.{_DATE}")


def host_tag() -> str:
    """This machine's name, safe in a file name."""
    return _UNSAFE.sub("-", socket.gethostname()).strip("-") or "host"


def process_tag() -> str:
    """``<host>-<pid>``, safe in a file name."""
    return f"{host_tag()}-{os.getpid()}"


def writer_of(name: str) -> tuple[str, int] | None:
    """(host, pid) of the process whose per-process file ``name`` was rotated from, or None."""
    match = _WRITER.search(name)
    return (match["host"], int(match["pid"])) if match else None


def resolve_path(pattern: str, per_process: bool) -> str:
    """The file this process writes: placeholders ``{pid}``/``{host}`` filled, tag added if asked."""
    path = pattern.replace("{pid}", str(os.getpid())).replace("{host}", host_tag())
    if per_process and "{pid}" not in pattern:
        base = Path(path)
        suffix = "".join(base.suffixes[-1:]) or ".jsonl"
        stem = base.name[: -len(suffix)] if base.name.endswith(suffix) else base.name
        path = str(base.with_name(f"{stem}.{process_tag()}{suffix}"))
    return path


def rotated_file_regex(pattern: str) -> re.Pattern:
    """Matches rotated (optionally compressed) files of this app, from any process."""
    base = Path(pattern.replace("{pid}", "").replace("{host}", ""))
    suffix = "".join(base.suffixes[-1:]) or ""
    stem = base.name[: -len(suffix)] if suffix else base.name
    stem = stem.rstrip(".-_")
    archives = "|".join(re.escape(ext) for ext in ARCHIVE_EXTENSIONS)
    tag = r"(?:[.\-_][A-Za-z0-9_.-]*?)?"
    return re.compile(rf"{re.escape(stem)}{tag}\.{_STAMP}{re.escape(suffix)}(?:\.(?:{archives}))?")


def split_rotated(name: str) -> tuple[str, tuple[str, int]] | None:
    """A rotated file's name -> (the live file's name, a key that sorts its rotations in order).

    ``app.h-1.2026-01-02_03-04-05_000006.2.jsonl`` -> (``app.h-1.jsonl``, (``2026-…_000006``, 2));
    None for a name loguru's rotation did not make (a live file). Compressed names: strip the
    archive extension first. The date is the rotated file's creation time, so it sorts them.
    """
    match = _ROTATED_NAME.fullmatch(name)
    if match is None:
        return None
    return match["root"] + match["ext"], (match["date"], int(match["n"] or 1))


_STAMP_IN_NAME = re.compile(rf"\.({_STAMP})\.")


def rotation_stamp(name: str) -> str:
    """The date stamp loguru put in a rotated file's name ("" if none): sorts by age, and is
    the same for ``x.jsonl`` and the ``x.jsonl.gz`` it is being compressed into."""
    found = _STAMP_IN_NAME.search(name)
    return found.group(1) if found else ""


def logical_name(name: str) -> str:
    """A rotated file's name without its archive extension: one file, plain or compressed."""
    for extension in sorted(ARCHIVE_EXTENSIONS, key=len, reverse=True):
        if name.endswith("." + extension):
            return name[: -len(extension) - 1]
    return name
