"""Test isolation: every test starts with a bare loguru logger and stdlib root logger.

Like loguru's own suite, we remove every handler and our patcher after each test, so no test
leaks sinks, context or root-logger changes into the next.
"""

from __future__ import annotations

import logging
import os
import sys
import time

import pytest
from loguru import logger

from streamlit_extension import _loguru, _report, installation
from streamlit_extension.context import correlation_id_var, operation_var, set_ambient_source
from streamlit_extension.stdlib import is_ours

os.environ["TZ"] = "UTC"
time.tzset()

# Every variable the library reads (test_conftest_isolation.py checks the source for new ones),
# and any OpenTelemetry variable: the SDK reads many more than we name (headers, timeouts...).
_ENV = ("LOG_FILE", "LOG_LEVEL", "LOG_FORMAT", "LOG_ROTATION", "LOG_RETENTION", "LOG_COMPRESSION", "LOG_CONSOLE",
        "LOG_PER_PROCESS", "LOG_REDACT_EMAILS", "LOG_IP", "LOG_OTEL", "LOG_FAILURE_CONTEXT",
        "LOG_EXPLORER_USERS", "LOG_EXPLORER_FOLDERS",
        "STREAMLIT_EXTENSION_DISABLE", "STREAMLIT_EXTENSION_SALT")
_ENV_PREFIXES = ("OTEL_",)


def forget_notices() -> None:
    """Each test sees its own "once" notices: the library says each once per process, and so
    each Streamlit capability found missing or disabled (which is then detected afresh)."""
    with _report._throttle.lock:
        _report._throttle.last.clear()
    compat = sys.modules.get("streamlit_extension.integration.compat")  # imported by Streamlit tests only
    if compat is not None:
        compat._found.missing.clear()
        compat._found.disabled.clear()


def _reset() -> None:
    forget_notices()
    handle = installation._installation.handle
    if handle is not None:
        handle.close()
    set_ambient_source(None)
    logger.remove()
    logger.configure(patcher=lambda record: None, extra={})
    root = logging.getLogger()
    for handler in list(root.handlers):
        if is_ours(handler):
            root.removeHandler(handler)
    root.setLevel(logging.WARNING)


@pytest.fixture(autouse=True)
def clean_logging(monkeypatch):
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    for name in [name for name in os.environ if name.startswith(_ENV_PREFIXES)]:
        monkeypatch.delenv(name)
    # Most tests read the file they named; per-process naming has tests of its own.
    monkeypatch.setenv("LOG_PER_PROCESS", "0")
    _reset()
    cid_token = correlation_id_var.set(None)
    op_token = operation_var.set(None)
    loguru_context = _loguru.contextualize_var()
    ctx_token = loguru_context.set({})
    yield
    _reset()
    correlation_id_var.reset(cid_token)
    operation_var.reset(op_token)
    loguru_context.reset(ctx_token)

