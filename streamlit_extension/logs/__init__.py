"""Reading the logs back: the reader, interaction timelines, and the ``st-logs`` CLI.

    python -m streamlit_extension.logs trace REQ_ID [PATH ...]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _lazy

if TYPE_CHECKING:
    from .reader import LogPathError, ReadStats, find_log_files, is_server_line, read_records
    from .timeline import Interaction, OperationStats, Span, build_interaction, interactions, operation_stats

# Imported on first use, so ``st-logs --help`` (``logs.cli``) doesn't load the reader.
_OWNERS = {
    **dict.fromkeys(("LogPathError", "ReadStats", "find_log_files", "is_server_line", "read_records"), "reader"),
    **dict.fromkeys(("Interaction", "OperationStats", "Span", "build_interaction", "interactions",
                     "operation_stats"), "timeline"),
}

__getattr__ = _lazy.exports(__name__, _OWNERS)

__all__ = [
    "Interaction",
    "LogPathError",
    "OperationStats",
    "ReadStats",
    "Span",
    "build_interaction",
    "find_log_files",
    "interactions",
    "is_server_line",
    "operation_stats",
    "read_records",
]
