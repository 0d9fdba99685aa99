"""Stdlib-side helpers for apps that keep their own ``logging`` handlers.

- ``JSONFormatter`` writes the flat schema (the same as ``json_format="flat"``).
- ``CorrelationFilter`` adds ``correlation_id``, ``session_id`` and ``user_id`` to records.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from ..context import ambient_fields, current_correlation_id
from ..errors import error_context
from ..patcher.redaction import DEFAULT_REDACT_KEYS, KeyRedactor
from ..patcher.sanitize import Sanitizer
from ..patcher.values import ValueRedactor
from ..rows import from_stdlib
from ..schema import ANONYMOUS
from ..sinks.flat import encode_line
from ..stdlib import record_extras


class CorrelationFilter(logging.Filter):
    """Adds the correlation fields to every record it sees; never filters anything out."""

    def filter(self, record: logging.LogRecord) -> bool:
        ambient = ambient_fields() or {}
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = current_correlation_id()
        if getattr(record, "session_id", None) is None:
            record.session_id = ambient.get("session_id")
        if getattr(record, "user_id", None) is None:
            record.user_id = ambient.get("user_id") or ANONYMOUS
        return True


class JSONFormatter(logging.Formatter):
    """Formats a stdlib record as one flat strict-JSON line, with secret keys redacted."""

    def __init__(self, *args: Any, redact_keys: Iterable[str] | None = None, redact_emails: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._redactor = KeyRedactor(DEFAULT_REDACT_KEYS if redact_keys is None else redact_keys)
        self._sanitizer = Sanitizer(self._redactor, ValueRedactor(emails=redact_emails, keys=self._redactor))

    def format(self, record: logging.LogRecord) -> str:
        extra = record_extras(record)
        if extra.get("correlation_id") is None:
            extra["correlation_id"] = current_correlation_id()
        if extra.get("error") is None and record.exc_info and record.exc_info[1] is not None:
            extra["error"] = error_context(record.exc_info[1], record.exc_info[2])
        budget = [self._sanitizer.max_record]
        message = self._sanitizer.string(record.getMessage(), budget)
        self._sanitizer.extra(extra, budget)
        return encode_line(from_stdlib(record, message, extra), self._redactor)
