"""Correlation logging for multi-user Streamlit apps, on loguru.

Every record is one JSON line carrying ``correlation_id`` (one per user interaction),
``session_id`` and ``user_id``. Start with ``setup_logging()``.

The data's path, module by module: call site (``operations``, ``stdlib``) → loguru →
``patcher`` (correlation, error context, redaction, JSON-safety) → ``sinks`` (file, console),
and with OpenTelemetry on, ``otel`` (spans, OTLP logs, headers for backend calls).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _lazy

if TYPE_CHECKING:
    from .configure import LoggingHandle, init_streamlit_logging, setup_logging
    from .context import CorrelationIDManager, correlation_scope, current_reference
    from .integration import ContextThreadPoolExecutor, run_in_thread
    from .operations import StructuredLogger, correlation_logger, with_correlation_logging
    from .otel import outgoing_headers
    from .patcher.redaction import DEFAULT_REDACT_KEYS
    from .stdlib import InterceptHandler
    from .utils.log_formatter import CorrelationFilter, JSONFormatter

__version__ = "0.1.0"

# Each public name and the module it lives in, imported on first use: reading the logs
# (``st-logs``) must not pay for the logging side, nor the core for Streamlit.
_EXPORTS = {
    "LoggingHandle": "configure", "init_streamlit_logging": "configure", "setup_logging": "configure",
    "CorrelationIDManager": "context", "correlation_scope": "context", "current_reference": "context",
    "StructuredLogger": "operations", "correlation_logger": "operations", "with_correlation_logging": "operations",
    "outgoing_headers": "otel", "DEFAULT_REDACT_KEYS": "patcher.redaction", "InterceptHandler": "stdlib",
    "CorrelationFilter": "utils.log_formatter", "JSONFormatter": "utils.log_formatter",
    "run_in_thread": "integration", "ContextThreadPoolExecutor": "integration",
}

__all__ = [
    "DEFAULT_REDACT_KEYS",
    "ContextThreadPoolExecutor",
    "CorrelationFilter",
    "CorrelationIDManager",
    "InterceptHandler",
    "JSONFormatter",
    "LoggingHandle",
    "StructuredLogger",
    "correlation_logger",
    "correlation_scope",
    "current_reference",
    "init_streamlit_logging",
    "outgoing_headers",
    "run_in_thread",
    "setup_logging",
    "with_correlation_logging",
]

__getattr__ = _lazy.exports(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
