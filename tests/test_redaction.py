"""Secret keys are written as "[REDACTED]" at any depth, in both formats and on the console."""

from __future__ import annotations

import logging

import pytest
from loguru import logger

from streamlit_extension import DEFAULT_REDACT_KEYS, correlation_logger, setup_logging
from streamlit_extension.patcher.redaction import KeyRedactor

from .helpers import read_json_lines

SECRET = "s3cr3t-value-0042"


@pytest.mark.parametrize(
    "key",
    [
        "password", "PASSWORD", "db_password", "dbPassword", "passwd", "client_secret", "secret",
        "token", "access_token", "X-Auth-Token", "refreshToken", "api_key", "api-key", "apiKey", "APIKEY",
        "authorization", "Authorization", "cookie", "Cookies", "set-cookie", "Set-Cookie", "private_key",
        "session_token", "credit_card", "card_number", "cardNumber", "ssn", "user_ssn",
    ],
)
def test_secret_key_variants_match(key):
    assert KeyRedactor().is_secret(key)


@pytest.mark.parametrize(
    "key",
    ["session_id", "user_id", "correlation_id", "classname", "username", "email_sent", "operation", "duration_ms", "tokenizer_name"],
)
def test_ordinary_keys_are_kept(key):
    assert not KeyRedactor().is_secret(key)


@pytest.mark.parametrize("json_format", ["flat", "loguru"])
def test_secrets_never_reach_the_file_or_console(tmp_path, capsys, json_format):
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format=json_format, console=True)
    nested = {"user": {"name": "ann", "credentials": [{"Password": SECRET}, {"api-key": SECRET}]}}
    logger.bind(token=SECRET, details=nested).info("login")
    correlation_logger.info("login", "structured", metadata={"deep": {"deeper": {"Authorization": SECRET}}})
    logging.getLogger("legacy").warning("legacy", extra={"set_cookie": SECRET, "payload": nested})
    with correlation_logger.track_operation("charge", {"card_number": SECRET}):
        pass
    handle.close()
    written = path.read_text()
    assert SECRET not in written
    assert SECRET not in capsys.readouterr().err
    assert written.count("[REDACTED]") >= 8
    records = read_json_lines(path)
    first = records[0] if json_format == "flat" else records[0]["record"]["extra"]
    assert first["details"]["user"]["name"] == "ann"
    assert first["details"]["user"]["credentials"] == [{"Password": "[REDACTED]"}, {"api-key": "[REDACTED]"}]


def test_the_key_list_is_configurable(tmp_path):
    path = tmp_path / "app.jsonl"
    setup_logging(log_path=str(path), json_format="flat", console=False,
                  redact_keys=DEFAULT_REDACT_KEYS | {"iban"})
    logger.bind(iban="DE00", password="pw", note="keep").info("x")
    setup_logging(log_path=str(path), json_format="flat", console=False, redact_keys=["note"])
    logger.bind(iban="DE00", note="keep").info("y")
    first, second = read_json_lines(path)
    assert (first["iban"], first["password"], first["note"]) == ("[REDACTED]", "[REDACTED]", "keep")
    assert (second["iban"], second["note"]) == ("DE00", "[REDACTED]")


def test_redact_keys_must_not_be_a_single_string():
    with pytest.raises(ValueError, match="^redact_keys: expected an iterable"):
        setup_logging(log_path=None, redact_keys="password")
