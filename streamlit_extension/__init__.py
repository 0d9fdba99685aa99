"""Correlation logging for multi-user Streamlit apps, on loguru.

Every record is one JSON line carrying ``correlation_id`` (one per user interaction),
``session_id`` and ``user_id``. Start with ``setup_logging()``.

The data's path, module by module: call site (``operations``, ``stdlib``) → loguru →
``patcher`` (correlation, error context, redaction, JSON-safety) → ``sinks`` (file, console),
and with OpenTelemetry on, ``otel`` (spans, OTLP logs, headers for backend calls).
"""

from __future__ import annotations

from .configure import LoggingHandle, init_streamlit_logging, setup_logging
from .context import CorrelationIDManager, correlation_scope
from .operations import StructuredLogger, correlation_logger, with_correlation_logging
from .otel import outgoing_headers
from .patcher.redaction import DEFAULT_REDACT_KEYS
from .stdlib import InterceptHandler
from .utils.log_formatter import CorrelationFilter, JSONFormatter

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_REDACT_KEYS",
    "CorrelationFilter",
    "CorrelationIDManager",
    "InterceptHandler",
    "JSONFormatter",
    "LoggingHandle",
    "StructuredLogger",
    "correlation_logger",
    "correlation_scope",
    "init_streamlit_logging",
    "outgoing_headers",
    "setup_logging",
    "with_correlation_logging",
]

_STREAMLIT_NAMES = {"run_in_thread", "ContextThreadPoolExecutor"}


def __getattr__(name: str):
    # Imported on first use: the core must not pay for importing Streamlit.
    if name in _STREAMLIT_NAMES:
        from . import integration

        return getattr(integration, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
