"""``st-logs``: read the correlation logs from a terminal (also ``python -m streamlit_extension.logs``).

    st-logs trace REQ_ID [PATH ...]      one interaction's timeline, nested by operation
    st-logs session SESSION_ID [PATH ...] the interactions of one Streamlit session
    st-logs tail [PATH]                  follow every process's current log file, like ``tail -f``
    st-logs stats [PATH ...]             per operation: count, error rate, p50/p95/p99
    st-logs index [PATH ...]             write missing id indexes of .gz archives
    st-logs sql QUERY [PATH ...]         DuckDB SQL over the view ``logs`` (the ``sql`` extra)

PATH (default ``logs/``) is a folder searched for ``*.jsonl`` / ``*.jsonl.gz`` or log files, in
either JSON format. ``--json`` gives machine output. Everything printed for humans goes through
``escape_control``, so a logged value can't forge a line or repaint the terminal.

Exit status: 0 done, 1 id (or any record) not found, 2 bad usage or unreadable input, 130
interrupted. Under ``--json`` an error is one object on stdout, ``{"error": ..., "status": ...}``;
warnings about damaged lines stay on stderr.

The parts: ``arguments`` (the parser and ``main``, the console-script entry point
``streamlit_extension.logs.cli:main``), ``errors`` (what a command fails with, exit statuses),
``commands`` (the commands, imported once one is chosen), ``rendering`` (colours, lines, the
progress bar), ``scanning`` (which files, reading them, damage warnings) and ``tail`` (following files).
"""

from .arguments import build_parser, main, parse_args
from .errors import EXIT_INTERRUPTED, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, CliError, NotFoundError, UsageError
from .rendering import Progress, Style

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_USAGE",
    "CliError",
    "NotFoundError",
    "Progress",
    "Style",
    "UsageError",
    "build_parser",
    "main",
    "parse_args",
]
