"""The record vocabulary: every field name a log line carries and every value with a fixed meaning.

Writers (the patcher, the flat sink, the stdlib ``JSONFormatter``) and readers (``logs.reader``,
the CLI, the Log Explorer) take names, order, level numbers, markers, the default folder and file
and the compression formats from here; the flat row itself is built in ``rows``. To add a column
to every flat line, add its name to one of the groups below and set it in the patcher
(``patcher/correlation.py``); the writers and readers follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# Flat lines carry these top-level fields in this order (null when absent).
CORRELATION_FIELDS = ("correlation_id", "session_id", "user_id")
OPERATION_FIELDS = ("operation", "event", "duration_ms", "success", "metadata", "error")
SOURCE_FIELDS = ("logger", "module", "function", "line")
FLAT_FIELDS = ("timestamp", "level", "message", *CORRELATION_FIELDS, *OPERATION_FIELDS, *SOURCE_FIELDS)

# Extras we generate or validate ourselves: a plain value there is not scanned for secrets again.
OWN_FIELDS = frozenset(
    {
        *CORRELATION_FIELDS,
        "operation", "operation_id", "parent_operation_id", "event", "duration_ms", "success",
        "page", "request_id", "trace_id", "span_id", "logger_name",
    }
)

# A tracked operation's lifecycle records (``event``): one start, then one end.
EVENT_START, EVENT_COMPLETE, EVENT_FAILED = "start", "complete", "failed"
END_EVENTS = (EVENT_COMPLETE, EVENT_FAILED)


def is_expected(error: object) -> bool:
    """An ``error`` an operation declared expected (``track_operation(..., expected=...)``): a
    user's mistake, counted apart from faults."""
    return isinstance(error, dict) and error.get("expected") is True


RUN_OPERATION = "script_run"  # the operation each Streamlit script run is
EXPLORER_OPERATION = "render_log_explorer_page"  # the Log Explorer's own runs (it logs into what it reads)

# Written by a file sink once it can write again: ``lost`` records, dropped from ``lost_from`` to ``lost_to``.
EVENT_RECORDS_LOST = "records_lost"

# Failure context (``setup_logging(failure_context=...)``): a record below the file's level, written
# because its interaction failed, carries ``failure_context: true``; what its bounds dropped is
# one ``failure_context_dropped`` record with the count in ``dropped``.
FAILURE_CONTEXT = "failure_context"
EVENT_FAILURE_CONTEXT_DROPPED = "failure_context_dropped"

ANONYMOUS = "anonymous"  # user_id when nobody is signed in
REDACTED = "[REDACTED]"  # what a secret is replaced with, by key or by shape

# loguru's level numbers (stdlib's, plus TRACE and SUCCESS); the aliases stdlib records may carry.
LEVELS: Mapping[str, int] = MappingProxyType(
    {"TRACE": 5, "DEBUG": 10, "INFO": 20, "SUCCESS": 25, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
)
LEVEL_ALIASES: Mapping[str, str] = MappingProxyType({"WARN": "WARNING", "FATAL": "CRITICAL"})


def level_number(name: object) -> int | None:
    """The number of a level name (any case, aliases included), or ``None`` for an unknown one."""
    key = str(name).strip().upper()
    return LEVELS.get(LEVEL_ALIASES.get(key, key))


DEFAULT_PATH = "logs"  # the folder files are written to and read from unless told otherwise
DEFAULT_LOG_FILE = f"{DEFAULT_PATH}/app.jsonl"  # $LOG_FILE's default (each process writes app.<host>-<pid>.jsonl)

# loguru's ``compression=`` formats, each the extension of the archive a rotated file becomes.
# The background compressor makes gz, bz2, xz and lzma (``sinks.compression.OPENERS``); tar and
# zip stay loguru's own, compressed in the rotating write.
COMPRESSIONS = ("gz", "bz2", "xz", "lzma", "tar", "tar.gz", "tar.bz2", "tar.xz", "zip")
