"""Reading the logs back: the reader, interaction timelines, and the ``st-logs`` CLI.

    python -m streamlit_extension.logs trace REQ_ID [PATH ...]
"""

from .reader import LogPathError, ReadStats, find_log_files, is_server_line, read_records
from .timeline import Interaction, OperationStats, Span, build_interaction, interactions, operation_stats

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
