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
    ["session_id", "user_id", "correlation_id", "classname", "username", "email_sent", "operation", "duration_ms",
     "tokenizer_name"],
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
    with pytest.raises(ValueError, match=r"^redact_keys: expected an iterable"):
        setup_logging(log_path=None, redact_keys="password")


SHAPED = {
    "bearer": ("Authorization: Bearer abcDEF1234567890xyz", "abcDEF1234567890xyz"),
    "jwt": ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
            "eyJzdWIiOiIxMjM0NTY3ODkwIn0"),
    "query": ("GET /cb?code=1&access_token=tok-998877&x=2", "tok-998877"),
    "url": ("db at postgres://app:hunter22@db.internal/app", "hunter22"),
    "aws": ("key AKIAIOSFODNN7EXAMPLE in use", "AKIAIOSFODNN7EXAMPLE"),
    "pem": ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpQIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "MIIEpQIBAAKCAQEA"),
    "card": ("paid with 4111 1111 1111 1111 today", "4111 1111 1111 1111"),
    "email": ("mail ann.lee@example.co.uk soon", "ann.lee@example.co.uk"),
}


@pytest.mark.parametrize("kind", sorted(SHAPED))
def test_value_patterns_are_masked(kind):
    from streamlit_extension.patcher.values import ValueRedactor

    text, secret = SHAPED[kind]
    masked = ValueRedactor().redact(text)
    assert secret not in masked
    assert "[REDACTED]" in masked


@pytest.mark.parametrize("text", [
    "order 1234567890123 shipped",  # 13 digits, not Luhn-valid
    "released 2024-05-01 at 12:30:45",
    "x=1 and y = 2",
    "plain words, nothing secret",
])
def test_ordinary_values_survive(text):
    from streamlit_extension.patcher.values import ValueRedactor

    assert ValueRedactor().redact(text) == text


def test_emails_can_be_kept():
    from streamlit_extension.patcher.values import ValueRedactor

    assert ValueRedactor(emails=False).redact("mail ann@example.com") == "mail ann@example.com"


@pytest.mark.parametrize("json_format", ["flat", "loguru"])
def test_shaped_secrets_never_reach_file_or_console(tmp_path, capsys, json_format):
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format=json_format, console=True)
    for kind, (text, _) in SHAPED.items():
        logger.bind(detail={"note": text}, top=text).info("{}: {}", kind, text)
        try:
            raise ValueError(f"failed with {text}")
        except ValueError:
            logger.exception("boom")
            logging.getLogger("legacy").exception("legacy boom %s", text)
        with pytest.raises(RuntimeError):
            with correlation_logger.track_operation("op", {"why": text}):
                raise RuntimeError(text)
    handle.close()
    written, err = path.read_text(), capsys.readouterr().err
    for kind, (_, secret) in SHAPED.items():
        assert secret not in written, kind
        assert secret not in err, kind


def test_oversized_values_are_capped_with_a_marker(tmp_path):
    from streamlit_extension.patcher.sanitize import MAX_FIELD_CHARS, MAX_RECORD_CHARS

    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=False)
    huge = "x" * (50 * 1024 * 1024)
    logger.bind(blob=huge, many=["y" * MAX_FIELD_CHARS] * 40).info(huge)
    handle.close()
    (record,) = read_json_lines(path)
    assert len(path.read_bytes()) < MAX_RECORD_CHARS + 64 * 1024
    assert record["message"].endswith(f"…[truncated {len(huge) - MAX_FIELD_CHARS} chars]")
    assert "[truncated: record size limit]" in record["many"]


@pytest.mark.parametrize(("log_ip", "expected"), [
    (False, "client [IP] and [IP] via [IP]"),
    (True, "client 192.168.10.0/24 and 2001:db8:85a3::/48 via 127.0.0.0/24"),
])
def test_ip_addresses_are_masked_unless_enabled_then_truncated(tmp_path, log_ip, expected):
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=False, log_ip=log_ip)
    logger.info("client 192.168.10.42 and 2001:db8:85a3::8a2e:370:7334 via ::ffff:127.0.0.1")
    logger.info("at 12:30:45 version 1.2.3")
    handle.close()
    first, second = read_json_lines(path)
    assert first["message"] == expected
    assert second["message"] == "at 12:30:45 version 1.2.3"


@pytest.mark.parametrize(("log_ip", "expected"), [(False, "[IP]:54321"), (True, "::/48:54321")])
def test_ipv6_client_with_a_port_as_the_web_server_writes_it(tmp_path, log_ip, expected):
    """uvicorn's access lines put an IPv6 client and its port together, unbracketed."""
    import logging

    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=False, log_ip=log_ip)
    logging.getLogger("uvicorn.access").warning('%s - "%s %s HTTP/%s" %d', "::1:54321", "GET", "/", "1.1", 200)
    handle.close()
    (record,) = read_json_lines(path)
    assert record["message"] == f'{expected} - "GET / HTTP/1.1" 200'
    assert "::1:" not in path.read_text()


def test_query_string_secrets_follow_the_key_deny_list(tmp_path):
    """``name=value`` pairs are judged by the same deny-list as keys, so adding a key to it also
    masks that name in URLs; the URL-only names (sig, key, pwd ...) stay masked too."""
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=False,
                           redact_keys=DEFAULT_REDACT_KEYS | {"tenant_pin"})
    logger.info("GET /cb?tenant_pin=4321&page=2&x-sig=abcdef&db.password=pw1&monkey=banana")
    handle.close()
    (record,) = read_json_lines(path)
    assert record["message"] == (
        "GET /cb?tenant_pin=[REDACTED]&page=2&x-sig=[REDACTED]&db.password=[REDACTED]&monkey=banana"
    )
