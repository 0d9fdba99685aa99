"""The app's own secrets: every value in ``st.secrets`` is registered for redaction.

Read once per process when the integration is installed (and again if the secrets change),
so a database password or API key from ``.streamlit/secrets.toml`` is masked wherever it shows
up in a message, a value or a traceback.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .. import _report
from .._shared import shared
from ..patcher.values import ValueRedactor
from . import compat


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str):  # numbers (ports, timeouts) would mask ordinary digits
        yield value


def secret_values() -> list[str]:
    """All leaf values of ``st.secrets``; empty when the app has no secrets file."""
    try:
        return list(_leaves(compat.secrets()))
    except Exception as exc:  # a malformed secrets.toml is Streamlit's to report
        _report.notice_once("secrets", f"could not read st.secrets for redaction ({_report.describe(exc)})")
        return []


@dataclass(eq=False)
class Registration:
    lock: threading.Lock = field(default_factory=threading.Lock)
    redactor: ValueRedactor | None = None  # the one st.secrets went to last


_registration: Registration = shared(f"{__name__}.registration", Registration)


def register_secrets(redactor: ValueRedactor | None) -> None:
    """Register ``st.secrets`` with ``redactor``, once per redactor.

    One thread at a time: loading ``st.secrets`` isn't thread-safe before Streamlit 1.44
    (concurrent first runs made it show "No secrets found" as an ``st.error`` on the page).
    """
    if redactor is None or _registration.redactor is redactor:
        return
    with _registration.lock:
        if _registration.redactor is redactor:
            return
        redactor.register(secret_values())
        _registration.redactor = redactor
