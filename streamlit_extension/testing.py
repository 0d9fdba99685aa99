"""Capturing our JSON records in tests.

``capture_logs()`` adds a real sink that encodes each record exactly as the file sink would
(through the installed patcher, so redaction and correlation apply) and yields the list of
parsed records::

    from streamlit_extension.testing import capture_logs

    def test_create_client():
        with capture_logs() as records:
            create_client({"client_key": "c1"})
        assert records[-1]["event"] == "complete"

As a pytest fixture::

    @pytest.fixture
    def log_records():
        with capture_logs() as records:
            yield records
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from loguru import logger

from .patcher.redaction import DEFAULT_REDACT_KEYS, KeyRedactor
from .sinks.flat import make_flat_format


@contextmanager
def capture_logs(level: str | int = "DEBUG", json_format: str = "flat") -> Iterator[list[dict]]:
    """Yield a list that fills with each record logged inside, parsed from its JSON line.

    ``json_format="flat"`` gives the flat schema; ``"loguru"`` gives loguru's serialized shape.
    """
    records: list[dict] = []

    def sink(message: str) -> None:
        records.append(json.loads(message))

    if json_format == "flat":
        options = {"format": make_flat_format(KeyRedactor(DEFAULT_REDACT_KEYS))}
    elif json_format == "loguru":
        options = {"serialize": True}
    else:
        raise ValueError(f"json_format: expected 'flat' or 'loguru', got {json_format!r}")
    sink_id = logger.add(sink, level=level, catch=False, backtrace=False, diagnose=False, **options)
    try:
        yield records
    finally:
        logger.remove(sink_id)
