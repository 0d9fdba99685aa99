"""The original specification's names, at the original paths, with their signatures."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import streamlit_extension
from streamlit_extension.utils import correlation_logging, log_formatter
from streamlit_extension.utils.correlation_logging import (
    CorrelationIDManager,
    StructuredLogger,
    correlation_logger,
    correlation_scope,
    setup_logging,
    with_correlation_logging,
)


def test_spec_import_line_works_in_a_fresh_interpreter():
    code = (
        "from streamlit_extension.utils.correlation_logging import setup_logging, correlation_scope, "
        "correlation_logger, StructuredLogger, CorrelationIDManager, with_correlation_logging; "
        "from streamlit_extension.utils.log_formatter import JSONFormatter, CorrelationFilter; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_default_redact_keys_come_from_the_public_module_too():
    """``setup_logging(redact_keys=DEFAULT_REDACT_KEYS | {...})`` from the module apps import."""
    code = ("from streamlit_extension.utils.correlation_logging import DEFAULT_REDACT_KEYS; "
            "import streamlit_extension; assert DEFAULT_REDACT_KEYS is streamlit_extension.DEFAULT_REDACT_KEYS; "
            "print(sorted(DEFAULT_REDACT_KEYS)[:1])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "DEFAULT_REDACT_KEYS" in correlation_logging.__all__
    assert "password" in correlation_logging.DEFAULT_REDACT_KEYS


def test_setup_logging_signature_is_keyword_only_with_spec_names():
    params = inspect.signature(setup_logging).parameters
    expected = ["log_path", "level", "json_format", "rotation", "retention", "compression", "console",
                "intercept_stdlib"]
    assert list(params)[: len(expected)] == expected
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
    assert repr(params["log_path"].default) == "$LOG_FILE or 'logs/app.jsonl'"
    assert repr(params["rotation"].default) == "$LOG_ROTATION or '10 MB'"


def test_structured_logger_signatures():
    sig = inspect.signature(StructuredLogger.log_operation)
    assert list(sig.parameters) == ["self", "operation", "level", "message", "duration_ms", "success", "error",
                                    "metadata"]
    assert sig.parameters["level"].default == "INFO"
    # The spec's parameters, in order; anything added since is keyword-only, so no call changes meaning.
    params = list(inspect.signature(StructuredLogger.track_operation).parameters.values())
    assert [p.name for p in params[:3]] == ["self", "operation", "metadata"]
    assert [p.name for p in params[3:]] == ["expected"]
    assert params[3].kind is inspect.Parameter.KEYWORD_ONLY
    for name in ("info", "warning", "error"):
        params = inspect.signature(getattr(StructuredLogger, name)).parameters
        assert list(params) == ["self", "operation", "message", "kwargs"]
    assert isinstance(correlation_logger, StructuredLogger)


def test_generate_correlation_id_format():
    ids = {CorrelationIDManager.generate_correlation_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"req_[0-9a-f]{12}", i) for i in ids)
    assert re.fullmatch(r"job_[0-9a-f]{12}", CorrelationIDManager().generate_correlation_id("job"))


def test_manager_set_get_ensure():
    assert CorrelationIDManager.get_current_correlation_id() is None
    created = CorrelationIDManager.ensure_correlation_id()
    assert CorrelationIDManager.get_current_correlation_id() == created
    assert CorrelationIDManager.ensure_correlation_id() == created
    assert CorrelationIDManager.set_correlation_id("req_custom") == "req_custom"
    assert CorrelationIDManager.get_current_correlation_id() == "req_custom"


def test_set_correlation_id_rejects_hostile_values(capsys):
    value = CorrelationIDManager.set_correlation_id("evil\r\nINFO forged line")
    assert re.fullmatch(r"req_[0-9a-f]{12}", value)
    assert "forged" not in capsys.readouterr().err


def test_correlation_scope_nesting():
    with correlation_scope() as outer:
        assert re.fullmatch(r"req_[0-9a-f]{12}", outer)
        with correlation_scope() as same:
            assert same == outer  # no id passed: reuse
        with correlation_scope("req_inner") as inner:
            assert inner == "req_inner"
            assert CorrelationIDManager.get_current_correlation_id() == "req_inner"
        assert CorrelationIDManager.get_current_correlation_id() == outer
    assert CorrelationIDManager.get_current_correlation_id() is None


def test_package_exports_the_same_objects():
    assert streamlit_extension.setup_logging is setup_logging
    assert streamlit_extension.with_correlation_logging is with_correlation_logging
    assert streamlit_extension.JSONFormatter is log_formatter.JSONFormatter
    assert set(correlation_logging.__all__) <= set(dir(correlation_logging))


def test_current_reference_is_the_current_interactions_id():
    assert streamlit_extension.current_reference is correlation_logging.current_reference
    assert correlation_logging.current_reference() is None  # outside any interaction
    with correlation_scope() as cid:
        assert correlation_logging.current_reference() == cid
