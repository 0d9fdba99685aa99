"""How an exception is written into a record: ``{type, message, traceback}``.

The traceback is the full formatted one (chained causes included), never ``str(error)``.
"""

from __future__ import annotations

import traceback
from typing import Any

ErrorContext = dict[str, str | None]


def _type_name(exc_type: type) -> str:
    module = getattr(exc_type, "__module__", "builtins")
    name = getattr(exc_type, "__qualname__", exc_type.__name__)
    return name if module in ("builtins", "__main__") else f"{module}.{name}"


def safe_str(value: Any) -> str:
    """``str(value)``, or ``<unprintable Type>`` when its ``__str__`` raises."""
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def error_context(exc: BaseException, tb: Any = None) -> ErrorContext:
    """Describe ``exc`` (with ``tb``, or its own ``__traceback__``) for a log record."""
    try:
        lines = traceback.format_exception(type(exc), exc, tb or exc.__traceback__)
        text: str | None = "".join(lines)
    except Exception:  # a broken __str__ or __cause__ chain must not lose the record
        text = None
    return {"type": _type_name(type(exc)), "message": safe_str(exc), "traceback": text}


def normalize_error(error: Any) -> dict[str, Any] | None:
    """Accept an exception, a message or a ready dict; return the record's ``error`` value."""
    if error is None:
        return None
    if isinstance(error, BaseException):
        return error_context(error)
    if isinstance(error, dict):
        return error
    return {"type": None, "message": safe_str(error), "traceback": None}


# Exceptions that end an operation without it failing, by class name so the core needs no
# Streamlit import: st.rerun() / st.stop() raise these BaseExceptions as control flow.
CONTROL_FLOW_OUTCOMES = {
    "RerunException": "rerun",
    "StopException": "stop",
    "GeneratorExit": "closed",
}


def control_flow_outcome(exc: BaseException) -> str | None:
    """The outcome name if ``exc`` is control flow rather than a failure, else None."""
    for cls in type(exc).__mro__:
        outcome = CONTROL_FLOW_OUTCOMES.get(cls.__name__)
        if outcome is not None:
            return outcome
    return None
