"""What an ``st-logs`` command can fail with, and the exit statuses scripts rely on.

Anything the user can fix (a missing path, a folder without log files, nothing readable, an
empty id) is a ``UsageError`` (exit status 2); an id or records that aren't there, ``NotFoundError``
(exit status 1). ``main`` words either as one ``error:`` line, or one JSON object under ``--json``.
"""

from __future__ import annotations

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class CliError(Exception):
    """A command that can't answer, for a reason the user can read: one message and ``status``."""

    status = EXIT_USAGE


class UsageError(CliError):
    """Input the user can fix (missing path, no log files, nothing readable): exit 2."""


class NotFoundError(CliError):
    """The files were read, but what was asked for isn't in them (an id, any record): exit 1."""

    status = EXIT_NOT_FOUND
