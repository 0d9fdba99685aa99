"""The original specification's public module: existing apps import these names from here.

The implementation lives in the package's own modules (``context``, ``operations``,
``configure``); this module only gathers the names.
"""

from __future__ import annotations

from ..configure import LoggingHandle, setup_logging
from ..context import CorrelationIDManager, correlation_scope, current_reference
from ..operations import StructuredLogger, correlation_logger, with_correlation_logging
from ..otel import outgoing_headers
from ..patcher.redaction import DEFAULT_REDACT_KEYS
from ..stdlib import InterceptHandler

__all__ = [
    "DEFAULT_REDACT_KEYS",
    "CorrelationIDManager",
    "InterceptHandler",
    "LoggingHandle",
    "StructuredLogger",
    "correlation_logger",
    "correlation_scope",
    "current_reference",
    "outgoing_headers",
    "setup_logging",
    "with_correlation_logging",
]
