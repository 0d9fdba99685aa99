"""The logging configurations under test, all writing the same record as one JSON line to a file.

Every configuration logs the message "created client <key>" with the fields ``client_key``,
``correlation_id``, ``session_id``, ``user_id`` and ``operation``. ``correlation_id`` comes from
the configuration's own context mechanism (a scope entered once per interaction of
``INTERACTION`` records); the other fields are passed at the call, the way each library expects.

``build(name, folder, **options)`` returns a ``Config`` with:

- ``log(key)``: the call being measured (one record);
- ``debug(key)``: the same call at DEBUG (for the disabled-level measurement);
- ``scope(cid)``: a context manager making ``cid`` the current correlation id;
- ``check(obj)``: True if a parsed line carries a correlation id;
- ``close()``: flush and release the file.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from common import MESSAGE_BRACES, MESSAGE_PERCENT, OPERATION, SESSION_ID, USER_ID

INTERACTION = 20  # records per correlation scope: about one Streamlit script run


@dataclass
class Config:
    name: str
    log: Callable[[str], None]
    scope: Callable[[str], contextlib.AbstractContextManager[Any]]
    check: Callable[[dict], bool]
    close: Callable[[], None]
    debug: Callable[[str], None] | None = None
    extra: Callable[[str], None] | None = None  # a further call shape, for information
    count: Callable[[], int] | None = None  # records seen, for a sink that writes no file


DESCRIPTIONS = {
    "ours-default": "streamlit_extension setup_logging(), json_format='loguru' (serialize=True); "
                    "logger.bind(...).info() inside correlation_scope()",
    "ours-flat": "streamlit_extension setup_logging(json_format='flat'); same call",
    "ours-default-rot": "as ours-default, with the library's default rotation 10 MB + gz + retention 14 days",
    "ours-flat-otel": "as ours-flat, with OpenTelemetry on (SDK, OTLP/HTTP batch export of spans and logs to a "
                      "local endpoint) and each interaction inside a recording span, as a Streamlit run is",
    "ours-flat-traces": "as ours-flat-otel with OTEL_LOGS_EXPORTER=none: spans and ids on records, the logs "
                        "left to the file (a collector's filelog receiver reads them)",
    "loguru": "loguru by hand: logger.add(path, serialize=True); logger.contextualize(correlation_id) + bind()",
    "loguru-frontend": "loguru's front end alone: the same contextualize + bind().info() into a sink that only "
                       "counts (format '{message}', no patcher, no file): what any loguru sink pays first",
    "stdlib-pjl": "stdlib logging + python-json-logger JsonFormatter + a ContextVar correlation Filter",
    "stdlib-pjl-otel": "as stdlib-pjl, plus OpenTelemetry as its docs set it up: SDK providers with OTLP/HTTP "
                       "batch export of spans and logs to the same local endpoint, its LoggingHandler on the "
                       "logger, each interaction inside a recording span: the peer's price for ours-flat-otel",
    "structlog": "structlog: merge_contextvars, add_log_level, TimeStamper(iso), "
                 "JSONRenderer(orjson.dumps), BytesLoggerFactory",
    "spec": "the original spec's design: dict -> json.dumps -> stdlib logger -> JSON formatter (encoded twice)",
    "floor": "orjson.dumps(dict) + a buffered file write",
}

# The order of the throughput table.
THROUGHPUT_CONFIGS = ("ours-default", "ours-flat", "loguru", "stdlib-pjl", "structlog", "spec", "floor",
                      "ours-default-rot", "ours-flat-otel", "ours-flat-traces", "loguru-frontend",
                      "stdlib-pjl-otel")


def _fields(key: str) -> dict[str, Any]:
    return {"client_key": key, "session_id": SESSION_ID, "user_id": USER_ID, "operation": OPERATION}


# -- 1, 2: this project -------------------------------------------------------------------------


def _ours(folder: Path, json_format: str, rotation: Any = None, retention: Any = None,
          compression: Any = None, file_options: bool = True, otel: str = "off") -> Config:
    from loguru import logger

    from streamlit_extension import correlation_logger, correlation_scope, setup_logging

    options: dict[str, Any] = (
        {"rotation": rotation, "retention": retention, "compression": compression} if file_options else {}
    )
    handle = setup_logging(log_path=str(folder / "app.jsonl"), console=False, intercept_stdlib=False,
                           json_format=json_format, otel=otel, **options)
    bind = logger.bind

    def log(key: str) -> None:
        bind(client_key=key, session_id=SESSION_ID, user_id=USER_ID, operation=OPERATION).info(MESSAGE_BRACES, key)

    def debug(key: str) -> None:
        logger.debug(MESSAGE_BRACES, key)

    def log_operation_debug(key: str) -> None:
        correlation_logger.log_operation(OPERATION, level="DEBUG", message="created client",
                                         metadata={"client_key": key})

    if json_format == "flat":
        def check(obj: dict) -> bool:
            return bool(obj.get("correlation_id")) and obj.get("client_key") is not None
    else:
        def check(obj: dict) -> bool:
            extra = obj["record"]["extra"]
            return bool(extra.get("correlation_id")) and extra.get("client_key") is not None

    return Config(json_format, log, correlation_scope, check, handle.close, debug, log_operation_debug)


# -- 3: loguru by hand --------------------------------------------------------------------------


def _loguru(folder: Path, level: str | None = None) -> Config:
    from loguru import logger

    logger.remove()
    options = {"level": level} if level else {}
    sink_id = logger.add(str(folder / "app.jsonl"), serialize=True, **options)
    bind = logger.bind

    def log(key: str) -> None:
        bind(client_key=key, session_id=SESSION_ID, user_id=USER_ID, operation=OPERATION).info(MESSAGE_BRACES, key)

    def debug(key: str) -> None:
        logger.debug(MESSAGE_BRACES, key)

    def scope(cid: str) -> contextlib.AbstractContextManager[Any]:
        return logger.contextualize(correlation_id=cid)

    def check(obj: dict) -> bool:
        extra = obj["record"]["extra"]
        return bool(extra.get("correlation_id")) and extra.get("client_key") is not None

    return Config("loguru", log, scope, check, lambda: logger.remove(sink_id), debug)


def _loguru_frontend(folder: Path) -> Config:
    import itertools

    from loguru import logger

    logger.remove()
    calls = itertools.count()
    sink_id = logger.add(lambda message: next(calls), format="{message}", level="INFO")
    bind = logger.bind

    def log(key: str) -> None:
        bind(client_key=key, session_id=SESSION_ID, user_id=USER_ID, operation=OPERATION).info(MESSAGE_BRACES, key)

    def scope(cid: str) -> contextlib.AbstractContextManager[Any]:
        return logger.contextualize(correlation_id=cid)

    return Config("loguru-frontend", log, scope, lambda obj: True, lambda: logger.remove(sink_id),
                  count=lambda: next(calls))


# -- 4: stdlib + python-json-logger + a correlation filter --------------------------------------

_stdlib_cid: ContextVar[str | None] = ContextVar("bench_correlation_id", default=None)


class ContextVarCorrelationFilter(logging.Filter):
    """What asgi-correlation-id and friends do: copy one ContextVar onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = _stdlib_cid.get()
        return True


@contextlib.contextmanager
def _contextvar_scope(var: ContextVar, value: str):
    token = var.set(value)
    try:
        yield value
    finally:
        var.reset(token)


def _stdlib_logger(name: str, handler: logging.Handler) -> logging.Logger:
    log = logging.getLogger(name)
    for old in list(log.handlers):
        log.removeHandler(old)
        old.close()
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


def _stdlib_pjl(folder: Path) -> Config:
    from pythonjsonlogger.json import JsonFormatter

    handler = logging.FileHandler(folder / "app.jsonl", encoding="utf-8")
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(module)s %(funcName)s %(lineno)d"))
    handler.addFilter(ContextVarCorrelationFilter())
    log = _stdlib_logger("bench.pjl", handler)
    info, dbg = log.info, log.debug

    def emit(key: str) -> None:
        info(MESSAGE_PERCENT, key, extra=_fields(key))

    def debug(key: str) -> None:
        dbg(MESSAGE_PERCENT, key)

    def check(obj: dict) -> bool:
        return bool(obj.get("correlation_id")) and obj.get("client_key") is not None

    return Config("stdlib-pjl", emit, lambda cid: _contextvar_scope(_stdlib_cid, cid), check,
                  lambda: _close_stdlib(log), debug)


def _stdlib_pjl_otel(folder: Path) -> Config:
    """stdlib-pjl plus OpenTelemetry set up as its own docs show: SDK providers with OTLP/HTTP
    batch exporters, its ``LoggingHandler`` on the logger, a span per interaction. The peer's
    price for what ours-flat-otel does; the endpoint comes from OTEL_EXPORTER_OTLP_ENDPOINT."""
    from opentelemetry import trace
    from opentelemetry._logs import set_logger_provider
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(tracer_provider)
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    set_logger_provider(logger_provider)
    config = _stdlib_pjl(folder)
    # After the file handler, whose filter has set correlation_id on the record by then.
    logging.getLogger("bench.pjl").addHandler(LoggingHandler(logger_provider=logger_provider))
    tracer = trace.get_tracer("benchmark")

    @contextlib.contextmanager
    def scope(cid: str):
        with config.scope(cid), tracer.start_as_current_span("script_run"):
            yield

    def close() -> None:
        config.close()
        tracer_provider.shutdown()  # flushes the queued spans and logs
        logger_provider.shutdown()

    return Config("stdlib-pjl-otel", config.log, scope, config.check, close, config.debug)


def _close_stdlib(log: logging.Logger) -> None:
    for handler in list(log.handlers):
        handler.flush()
        handler.close()
        log.removeHandler(handler)


# -- 5: structlog, its fast path ----------------------------------------------------------------


def _structlog(folder: Path) -> Config:
    import orjson
    import structlog
    from structlog.contextvars import bound_contextvars, merge_contextvars

    stream = open(folder / "app.jsonl", "wb")
    structlog.reset_defaults()
    structlog.configure(
        processors=[
            merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.BytesLoggerFactory(file=stream),
        cache_logger_on_first_use=True,
    )
    log = structlog.get_logger()

    def emit(key: str) -> None:
        log.info(MESSAGE_PERCENT, key, client_key=key, session_id=SESSION_ID, user_id=USER_ID, operation=OPERATION)

    def debug(key: str) -> None:
        log.debug(MESSAGE_PERCENT, key)

    def scope(cid: str) -> contextlib.AbstractContextManager[Any]:
        return bound_contextvars(correlation_id=cid)

    def check(obj: dict) -> bool:
        return bool(obj.get("correlation_id")) and obj.get("client_key") is not None

    def close() -> None:
        stream.flush()
        stream.close()

    return Config("structlog", emit, scope, check, close, debug)


# -- 6: the original spec's reference design ----------------------------------------------------

_spec_cid: ContextVar[str | None] = ContextVar("bench_spec_correlation_id", default=None)


class SpecJSONFormatter(logging.Formatter):
    """The spec's handler formatter: wraps whatever message it gets in a JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "timestamp": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),  # already a JSON document: encoded a second time
            "module": record.module,
            "function": record.funcName,
            "line": record.lineno,
            "correlation_id": getattr(record, "correlation_id", None),
        }
        return json.dumps(entry)


class SpecCorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = _spec_cid.get()
        return True


class SpecStructuredLogger:
    """The spec's StructuredLogger: builds a dict per call and logs it as a JSON string."""

    _LEVELS: ClassVar[dict[str, int]] = {
        "DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR,
    }

    def __init__(self, name: str) -> None:
        self.logger = logging.getLogger(name)

    def log_operation(self, operation: str, level: str = "INFO", message: str = "", **metadata: Any) -> None:
        entry = {
            "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "level": level,
            "correlation_id": _spec_cid.get(),
            "operation": operation,
            "message": message,
            "metadata": metadata,
        }
        self.logger.log(self._LEVELS[level], json.dumps(entry))

    def info(self, operation: str, message: str = "", **metadata: Any) -> None:
        self.log_operation(operation, "INFO", message, **metadata)

    def debug(self, operation: str, message: str = "", **metadata: Any) -> None:
        self.log_operation(operation, "DEBUG", message, **metadata)


def _spec(folder: Path) -> Config:
    handler = logging.FileHandler(folder / "app.jsonl", encoding="utf-8")
    handler.setFormatter(SpecJSONFormatter())
    handler.addFilter(SpecCorrelationFilter())
    _stdlib_logger("bench.spec", handler)
    structured = SpecStructuredLogger("bench.spec")

    def emit(key: str) -> None:
        structured.info(OPERATION, MESSAGE_PERCENT % key, client_key=key, session_id=SESSION_ID, user_id=USER_ID)

    def debug(key: str) -> None:
        structured.debug(OPERATION, MESSAGE_PERCENT % key, client_key=key, session_id=SESSION_ID, user_id=USER_ID)

    def check(obj: dict) -> bool:
        inner = json.loads(obj["message"])
        return (bool(obj.get("correlation_id")) and bool(inner.get("correlation_id"))
                and "client_key" in inner["metadata"])

    return Config("spec", emit, lambda cid: _contextvar_scope(_spec_cid, cid), check,
                  lambda: _close_stdlib(structured.logger), debug)


# -- 7: the floor -------------------------------------------------------------------------------

_floor_cid: ContextVar[str | None] = ContextVar("bench_floor_correlation_id", default=None)


def _floor(folder: Path) -> Config:
    import orjson

    stream = open(folder / "app.jsonl", "wb")  # default buffering: no flush per record
    write, dumps, now, utc = stream.write, orjson.dumps, datetime.datetime.now, datetime.timezone.utc
    get_cid = _floor_cid.get

    def emit(key: str) -> None:
        write(dumps({
            "timestamp": now(utc), "level": "INFO", "message": MESSAGE_PERCENT % key,
            "correlation_id": get_cid(), "session_id": SESSION_ID, "user_id": USER_ID,
            "operation": OPERATION, "client_key": key,
        }) + b"\n")

    def check(obj: dict) -> bool:
        return bool(obj.get("correlation_id")) and obj.get("client_key") is not None

    def close() -> None:
        stream.flush()
        stream.close()

    return Config("floor", emit, lambda cid: _contextvar_scope(_floor_cid, cid), check, close)


def _ours_otel(folder: Path, logs: bool = True) -> Config:
    """ours-flat with OpenTelemetry on; the endpoint comes from OTEL_EXPORTER_OTLP_ENDPOINT (run.py)."""
    import os

    from opentelemetry import trace

    if not logs:
        os.environ["OTEL_LOGS_EXPORTER"] = "none"  # this child process only

    from streamlit_extension import correlation_scope

    config = _ours(folder, "flat", otel="on")
    tracer = trace.get_tracer("benchmark")

    @contextlib.contextmanager
    def scope(cid: str):
        with correlation_scope(cid), tracer.start_as_current_span("script_run"):
            yield

    def check(obj: dict) -> bool:
        return bool(obj.get("correlation_id")) and len(obj.get("trace_id") or "") == 32

    def close() -> None:
        config.close()
        trace.get_tracer_provider().shutdown()  # flushes the queued spans and logs

    return Config("ours-flat-otel" if logs else "ours-flat-traces", config.log, scope, check, close, config.debug)


def build(name: str, folder: Path, **options: Any) -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    if name == "ours-default":
        return _ours(folder, "loguru", **options)
    if name == "ours-flat":
        return _ours(folder, "flat", **options)
    if name == "ours-default-rot":
        return _ours(folder, "loguru", file_options=False)  # the library's own defaults
    if name == "ours-flat-otel":
        return _ours_otel(folder)
    if name == "ours-flat-traces":
        return _ours_otel(folder, logs=False)
    if name == "loguru":
        return _loguru(folder, **options)
    if name == "loguru-frontend":
        return _loguru_frontend(folder)
    if name == "stdlib-pjl":
        return _stdlib_pjl(folder)
    if name == "stdlib-pjl-otel":
        return _stdlib_pjl_otel(folder)
    if name == "structlog":
        return _structlog(folder)
    if name == "spec":
        return _spec(folder)
    if name == "floor":
        return _floor(folder)
    raise ValueError(f"unknown configuration {name!r}")
