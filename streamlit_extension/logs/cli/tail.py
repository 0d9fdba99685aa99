"""``st-logs tail``: which records to show, and the follow loop around ``logs.follow.Tail``.

``Tail`` (in ``logs/follow.py``) knows files, rotation and new processes; this module decides
which records pass (``record_filter``) and runs ``tail -f``: the last N records, then whatever
is appended, until Ctrl-C (or ``--once``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from ...schema import level_number
from ..follow import POLL_SECONDS, Record, Tail
from ..reader import ReadStats, is_server_line
from .scanning import check_readable, warn_damage

RecordFilter = Callable[[Record], bool]


def record_filter(*, server: bool, level: int | None, user: str | None, session: str | None,
                  operation: str | None) -> RecordFilter:
    """Keep a record when it passes every option given (``None``: that option wasn't given)."""
    wanted = (("user_id", user), ("session_id", session), ("operation", operation))

    def keep(record: Record) -> bool:
        if not server and is_server_line(record):
            return False
        if level is not None:
            number = level_number(record.get("level"))  # a stdlib record may say WARN or FATAL
            if number is not None and number < level:  # custom levels are never hidden
                return False
        return all(value is None or record.get(name) == value for name, value in wanted)

    return keep


def follow(path: Path, keep: RecordFilter, emit: Callable[[list[Record]], None], stats: ReadStats, *,
           lines: int, once: bool) -> None:
    """Emit the last ``lines`` kept records under ``path``, then (unless ``once``) what is appended.

    Unless ``once``, ends only by KeyboardInterrupt; warns once about damage on the way out.
    """
    tail = Tail(path, keep, stats)
    try:
        records = tail.start(lines)
        if not tail.following:  # only compressed files: fail like the other commands if none is readable
            check_readable(tail.tried, stats)
    except BaseException:
        tail.close()
        raise
    try:
        emit(records)
        if not once:
            while True:
                records = tail.poll()
                if records:
                    emit(records)
                elif not tail.busy:
                    time.sleep(POLL_SECONDS)
    finally:
        tail.close()
        warn_damage(stats)
