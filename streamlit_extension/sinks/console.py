"""The human-readable console sink (stderr).

One line a record: time, level, who (a short user and session), the correlation id, where it was
logged, and the message, e.g.
``12:00:01.250 | INFO     | user_3f2a… 2a1e5771 | req_0123456789ab | app:main:12 - saved``.
A line outside any session shows ``-`` for who.

Control characters in messages are escaped, so a logged value can't forge a second line or
repaint the terminal. Writing never raises: stderr may be closed or swapped by a test runner.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from ..schema import ANONYMOUS

if TYPE_CHECKING:
    from loguru import Record

_TEMPLATE = (
    "<green>{time:HH:mm:ss.SSS}</green> | <level>{level: <8}</level> | <magenta>{se_who: <19}</magenta> | "
    "<cyan>{se_cid}</cyan> | {name}:{function}:{line} - <level>{se_text}</level>\n"
)
_USER_WIDTH = 12  # a longer user id (a pseudonym is 21 characters) is cut to 9 and "…"
_SESSION_WIDTH = 8  # a uuid4's first group: enough to tell a screenful of sessions apart


def escape_control(text: str) -> str:
    """``repr``-style escapes for anything non-printable (newlines, ESC, NUL, U+2028...)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _who(user_id: object, session_id: object) -> str:
    """``user_3f2a… 2a1e5771``: the user, cut to fit, and the session's first 8 characters;
    ``-`` for a line outside any session with nobody named."""
    if session_id is None and (user_id is None or user_id == ANONYMOUS):
        return "-"
    user = str(user_id) if user_id is not None else ANONYMOUS
    if len(user) > _USER_WIDTH:
        user = user[:_USER_WIDTH - 3] + "…"
    session = str(session_id)[:_SESSION_WIDTH] if session_id is not None else "-"
    who = user.ljust(10) + " " + session
    return who if who.isprintable() else escape_control(who)


def _indent(block: str) -> str:
    return "".join("    " + escape_control(line) + "\n" for line in block.rstrip("\n").split("\n"))


def console_format(record: Record) -> str:
    extra = record["extra"]
    text = escape_control(str(record["message"]))
    operation = extra.get("operation")
    if operation:
        event = extra.get("event")
        text += f" [{escape_control(str(operation))}{':' + str(event) if event else ''}"
        duration = extra.get("duration_ms")
        text += f" {duration} ms]" if duration is not None else "]"
    error = extra.get("error")
    # The redacted traceback from extra, never loguru's own rendering of the exception.
    if isinstance(error, dict) and error.get("traceback"):
        text += "\n" + _indent(str(error["traceback"])).rstrip("\n")
    own: dict[str, Any] = record  # type: ignore[assignment]  # our top-level keys aren't in Record
    own["se_cid"] = escape_control(str(extra.get("correlation_id") or "-"))
    own["se_who"] = _who(extra.get("user_id"), extra.get("session_id"))
    own["se_text"] = text
    return _TEMPLATE


class ConsoleStream:
    """``sys.stderr`` (or ``sys.stdout``), looked up at each write, with errors swallowed."""

    def __init__(self, name: str = "stderr") -> None:
        if name not in ("stderr", "stdout"):
            raise ValueError(f"expected 'stderr' or 'stdout', got {name!r}")
        self.name = name

    def write(self, message: str) -> None:
        try:
            getattr(sys, self.name).write(message)
        except Exception:
            pass

    def flush(self) -> None:
        try:
            getattr(sys, self.name).flush()
        except Exception:
            pass

    def isatty(self) -> bool:
        try:
            return getattr(sys, self.name).isatty()
        except Exception:
            return False
