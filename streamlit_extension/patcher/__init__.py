"""The patcher: every record passes through here once, before any sink sees it.

Steps, in order: correlation fields → error context → redaction (secret keys, and secret
shapes in every string), size caps and JSON-safety → with OpenTelemetry on, the span's ids. A
step that raises is reported once and skipped, so the record is still written with what could
be computed; loguru itself would let the exception reach the app.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from .. import _report
from ..schema import REDACTED
from .correlation import add_correlation
from .errors import add_error_context
from .redaction import KeyRedactor
from .sanitize import Sanitizer, json_safe

if TYPE_CHECKING:
    from loguru import Record

Step: TypeAlias = "Callable[[Record], None]"
MARKER = "_streamlit_extension_patcher"
PATCHED = "se_patched"  # a top-level record key (loguru's serializer never copies it)


def _safe_fallback(record: Record, redactor: KeyRedactor | None) -> None:
    """After a failed sanitize step: keep plain values only; no repr that could hold a secret."""
    extra = record["extra"]
    for key, value in list(extra.items()):
        try:
            secret = redactor is not None and redactor.is_secret(key)
        except Exception:
            secret = True
        if secret:
            extra[key] = REDACTED
        elif type(value) not in (str, int, bool, float, type(None)):
            extra[key] = f"[unserializable {type(value).__name__}]"
        elif type(value) is float:
            extra[key] = json_safe(value, None)


def build_patcher(sanitizer: Sanitizer, chained: Callable | None = None, *,
                  trace_ids: bool = False) -> Callable[[Record], None]:
    """Compose our steps; ``chained`` is a patcher the app had installed, run first;
    ``trace_ids`` adds the current span's ids (OpenTelemetry on)."""
    steps: list[Step] = [add_correlation, add_error_context]
    if chained is not None:
        steps.insert(0, chained)
    redactor = sanitizer.keys
    sanitize = sanitizer.record

    steps.append(sanitize)
    if trace_ids:  # after the sanitizer: ids we format ourselves need no scan
        from .tracing import add_trace_ids

        steps.append(add_trace_ids)
    frozen: Sequence[Step] = tuple(steps)

    def patcher(record: Record) -> None:
        own: dict[str, Any] = record  # type: ignore[assignment]  # our top-level key isn't in Record
        own[PATCHED] = True
        for step in frozen:
            try:
                step(record)
            except Exception as exc:
                _report.notice_once(
                    f"patcher:{getattr(step, '__name__', step)}",
                    f"a logging patcher step failed and was skipped ({_report.describe(exc)})",
                )
                if step is sanitize:
                    try:
                        _safe_fallback(record, redactor)
                    except Exception:
                        record["extra"].clear()

    setattr(patcher, MARKER, chained)
    return patcher


def guarded(format_fn: Callable[[Record], str], patcher: Callable[[Record], None]) -> Callable[[Record], str]:
    """A sink's ``format`` that first runs ``patcher`` on a record it didn't see.

    loguru has one patcher slot, and any library may call ``logger.configure(patcher=...)``
    after us: redaction and correlation then happen here, in our sinks, until ``setup_logging``
    runs again and chains that patcher behind ours.
    """

    def format_record(record: Record) -> str:
        if PATCHED not in record:
            _report.notice_once("patcher-replaced", "loguru's patcher was replaced by other code; our sinks redact "
                                                    "and correlate records themselves until setup_logging() runs again")
            patcher(record)
        return format_fn(record)

    return format_record


__all__ = ["MARKER", "PATCHED", "KeyRedactor", "Sanitizer", "build_patcher", "guarded"]
