"""DuckDB SQL over the log files, through one ``logs`` view of flat, typed columns.

The view has the same columns whatever the JSON format: a flat line has the fields at the top
level, a loguru line under ``record`` (``record.extra`` for ours), and a folder may hold both, so
each line is read once with both shapes declared and the columns are picked per line. DuckDB
reads only what a query uses, and skips lines that aren't JSON (``ignore_errors``).

DuckDB is the optional ``sql`` extra: it is imported here, and only when a query runs. The
connection is in memory and sandboxed before the query runs: it may read the listed files and
nothing else, write nowhere, load no extension, and the query can't change that.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import re
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from ..schema import CORRELATION_FIELDS, OPERATION_FIELDS

INSTALL_HINT = "pip install 'duckdb>=1.4' (in a clone of the repository: pip install -e '.[sql]')"

# Extras every record of ours may carry that are worth a column (the patcher and operations set them).
EXTRA_COLUMNS = ("operation_id", "parent_operation_id", "page", "request_id", "trace_id", "span_id")
# Fields kept in ``record.extra`` by the loguru format (the correlation and operation fields, the extras).
_IN_EXTRA = (*CORRELATION_FIELDS, *OPERATION_FIELDS, *EXTRA_COLUMNS)
# The SQL type of each field that isn't text.
_TYPES = {"duration_ms": "DOUBLE", "success": "BOOLEAN", "metadata": "JSON", "error": "JSON", "line": "INTEGER"}

# The loguru shape: only what the view uses is declared, so DuckDB skips the rest of ``record``.
_LOGURU_RECORD = (
    'STRUCT("time" STRUCT("timestamp" DOUBLE), "level" STRUCT("name" VARCHAR), "message" VARCHAR, '
    '"extra" STRUCT(' + ", ".join(f'"{name}" {_TYPES.get(name, "VARCHAR")}' for name in (*_IN_EXTRA, "logger_name"))
    + '), "name" VARCHAR, "module" VARCHAR, "function" VARCHAR, "line" INTEGER, '
    '"exception" STRUCT("type" VARCHAR, "value" VARCHAR))'
)
# The flat shape, plus ``record``: every top-level key either format may have.
_FLAT_FIELDS_READ = ("timestamp", "level", "message", *_IN_EXTRA, "logger", "module", "function", "line")

# A line is in the loguru format when it has loguru's time; a flat line has neither ``record`` nor that.
_IS_LOGURU = '"record"."time"."timestamp" IS NOT NULL'
# Both formats' times as a TIMESTAMP in UTC (the session's time zone): TIMESTAMPTZ values would
# need pytz to reach Python before DuckDB 2.0.1, the last release for Python 3.10 is 1.5. A time
# out of range is NULL, not a failed query.
_LOGURU_TIME = 'CAST(try(to_timestamp("record"."time"."timestamp")) AS TIMESTAMP)'
_FLAT_TIME = 'CAST(TRY_CAST("timestamp" AS TIMESTAMPTZ) AS TIMESTAMP)'
# An exception logged without our patcher has no ``error``: loguru's own summary, as the reader gives it.
_LOGURU_ERROR = ('coalesce("record"."extra"."error", CASE WHEN "record"."exception" IS NOT NULL THEN '
                 'json_object(\'type\', "record"."exception"."type", \'message\', "record"."exception"."value", '
                 "'traceback', NULL) END)")

# The view's columns: (name, SQL type, value on a loguru line, value on a flat line).
VIEW_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("timestamp", "TIMESTAMP", _LOGURU_TIME, _FLAT_TIME),
    ("level", "VARCHAR", '"record"."level"."name"', '"level"'),
    ("message", "VARCHAR", '"record"."message"', '"message"'),
    *((name, _TYPES.get(name, "VARCHAR"), _LOGURU_ERROR if name == "error" else f'"record"."extra"."{name}"',
       f'"{name}"') for name in (*CORRELATION_FIELDS, *OPERATION_FIELDS)),
    ("logger", "VARCHAR", 'coalesce("record"."extra"."logger_name", "record"."name")', '"logger"'),
    ("module", "VARCHAR", '"record"."module"', '"module"'),
    ("function", "VARCHAR", '"record"."function"', '"function"'),
    ("line", "INTEGER", '"record"."line"', '"line"'),
    *((name, "VARCHAR", f'"record"."extra"."{name}"', f'"{name}"') for name in EXTRA_COLUMNS),
)
# A record has a time and a level; anything else that parsed (``{}``, another program's JSON) is not one.
_IS_RECORD = (f'coalesce(CASE WHEN {_IS_LOGURU} THEN "record"."level"."name" IS NOT NULL '
              f'AND {_LOGURU_TIME} IS NOT NULL ELSE "level" IS NOT NULL AND {_FLAT_TIME} IS NOT NULL END, false)')


class SqlUnavailableError(Exception):
    """DuckDB isn't installed: the ``sql`` extra is needed."""


class QueryError(Exception):
    """DuckDB refused the query or could not run it; the message is DuckDB's, on one line."""


def import_duckdb() -> ModuleType:
    """The ``duckdb`` module, or ``SqlUnavailableError`` saying how to install it."""
    try:
        import duckdb
    except ImportError:
        raise SqlUnavailableError(f"st-logs sql needs DuckDB: {INSTALL_HINT}") from None
    return duckdb


# --- SQL text ---------------------------------------------------------------------------------


def sql_string(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def glob_escaped(path: str) -> str:
    """``path`` as a DuckDB file pattern matching only itself: DuckDB globs every file name it is
    given, so ``a[1].jsonl`` would read ``a1.jsonl``. A metacharacter in brackets is literal."""
    return re.sub(r"([*?\[])", r"[\1]", path)


def scan_sql(files: Sequence[Path]) -> str:
    """Every line of ``files`` as a row with both formats' fields (NULL where absent), plus ``file``."""
    columns = {name: _TYPES.get(name, "VARCHAR") for name in _FLAT_FIELDS_READ}
    columns["record"] = _LOGURU_RECORD
    declared = ", ".join(f"{sql_string(name)}: {sql_string(kind)}" for name, kind in columns.items())
    listed = ", ".join(sql_string(glob_escaped(str(path))) for path in files)
    # ignore_errors: a line that isn't JSON (torn by a crash, garbage) comes back as a row of NULLs.
    return (f"read_json([{listed}], format='newline_delimited', columns={{{declared}}}, "
            "ignore_errors=true, filename='file')")


def view_sql(files: Sequence[Path]) -> str:
    """``CREATE VIEW logs``: one row per record of ``files``, the columns of ``VIEW_COLUMNS``."""
    columns = ", ".join(f'CAST(CASE WHEN {_IS_LOGURU} THEN {loguru} ELSE {flat} END AS {kind}) AS "{name}"'
                        for name, kind, loguru, flat in VIEW_COLUMNS)
    return f"CREATE OR REPLACE VIEW logs AS SELECT {columns}, file FROM {scan_sql(files)} WHERE {_IS_RECORD}"


def lines_view_sql(files: Sequence[Path]) -> str:
    """``CREATE VIEW lines``: every line of ``files`` as written (``json``, NULL when it isn't JSON),
    and ``fields``, the record's own fields whatever the format (loguru's ``record.extra``, or the
    flat line itself), for the extras the ``logs`` view has no column for."""
    listed = ", ".join(sql_string(glob_escaped(str(path))) for path in files)
    return ("CREATE OR REPLACE VIEW lines AS SELECT filename AS file, json, "
            "coalesce(json -> '$.record.extra', json) AS fields "
            f"FROM read_ndjson_objects([{listed}], ignore_errors=true, filename=true)")


def damage_sql(files: Sequence[Path]) -> str:
    """The lines of ``files`` that are not records (not JSON, or JSON of another shape), per file."""
    return f"SELECT file, count(*) FROM {scan_sql(files)} WHERE NOT {_IS_RECORD} GROUP BY file"


# --- results ----------------------------------------------------------------------------------


@dataclass
class Result:
    """A query's columns (names and DuckDB type names) and its rows, fetched in batches."""

    columns: list[str]
    types: list[str]
    _cursor: Any = field(repr=False)
    _error: type[Exception] = field(repr=False, default=Exception)  # duckdb.Error

    def rows(self, batch: int = 2048) -> Iterator[tuple[Any, ...]]:
        """The rows; a value DuckDB can't hand to Python (e.g. needing a missing module) is a QueryError."""
        while True:
            try:
                rows = self._cursor.fetchmany(batch)
            except self._error as exc:
                raise QueryError(one_line(str(exc))) from None
            if not rows:
                return
            yield from rows


def plain_value(value: Any, type_name: str = "") -> Any:
    """A result value as JSON data: times in ISO 8601 (microseconds, ``Z`` for UTC), a JSON column parsed,
    decimals as numbers, NaN and infinities as strings (the log lines' own convention)."""
    if value is None:
        return None
    if type_name == "JSON" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:  # a TIMESTAMP: every time in this database is UTC
            value = value.replace(tzinfo=datetime.timezone.utc)
        text = value.isoformat(timespec="microseconds")  # as the log lines write it: sorts as text
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value).replace("inf", "Infinity").replace("nan", "NaN")
    if isinstance(value, dict):
        return {str(key): plain_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_value(item) for item in value]
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)  # intervals, UUIDs, blobs, ...


def one_line(message: str) -> str:
    """DuckDB's message without its ``LINE n:`` excerpt and caret, on one line."""
    lines = [line.strip() for line in message.splitlines()]
    kept = [line for line in lines if line and not line.startswith("LINE ") and set(line) != {"^"}]
    return " ".join(kept)


# --- the database -----------------------------------------------------------------------------


class LogDatabase:
    """An in-memory DuckDB whose ``logs`` and ``lines`` views read ``files``, and nothing else it may read.

    Use as a context manager; ``left_out`` lists archives DuckDB could not decompress (they
    are left out and the query runs again without them).
    """

    def __init__(self, files: Sequence[Path]) -> None:
        self.duckdb = import_duckdb()
        self.files = list(files)
        self.left_out: list[tuple[str, str]] = []  # (path, why)
        self._temp = tempfile.TemporaryDirectory(prefix="st-logs-sql-")
        self.con = self._sandboxed(self.files)
        self._define_views()

    def __enter__(self) -> LogDatabase:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()
        self._temp.cleanup()

    def _sandboxed(self, files: Sequence[Path]) -> Any:
        # Spilled intermediates go to our own temporary folder, not the current one.
        con = self.duckdb.connect(":memory:", config={"temp_directory": self._temp.name})
        try:
            con.execute("SET GLOBAL TimeZone = 'UTC'")  # times in UTC, like the log lines, on every cursor
        except self.duckdb.Error:  # a build without ICU: time zones are UTC already
            pass
        # DuckDB checks both the pattern it is given and the file the pattern matched.
        allowed = sorted({str(path) for path in files} | {glob_escaped(str(path)) for path in files})
        con.execute("SET allowed_paths = ?", [allowed])
        con.execute("SET enable_external_access = false")  # no other file, no COPY TO, no extension
        con.execute("SET lock_configuration = true")  # and the query can't turn that back on
        return con

    def _define_views(self) -> None:
        self.con.execute(view_sql(self.files))
        self.con.execute(lines_view_sql(self.files))

    def query(self, sql: str) -> Result | None:
        """Run the user's ``sql``; None for a statement without a result (``CREATE``, ``SET``).

        A compressed file DuckDB can't read fails the whole query: find those, leave them out,
        and run it once more.
        """
        try:
            return self._run(sql)
        except self.duckdb.IOException as exc:
            broken = self._unreadable()
            if not broken:
                raise QueryError(one_line(str(exc))) from None
            self.left_out.extend(broken)
            gone = {path for path, _ in broken}
            self.files = [path for path in self.files if str(path) not in gone]
            if not self.files:
                reasons = "; ".join(f"{path} ({why})" for path, why in broken[:3])
                raise QueryError(f"could not read any log file: {reasons}") from None
            self._define_views()
            try:
                return self._run(sql)
            except self.duckdb.Error as again:
                raise QueryError(one_line(str(again))) from None
        except self.duckdb.Error as exc:
            raise QueryError(one_line(str(exc))) from None

    def _run(self, sql: str) -> Result | None:
        # Its own cursor: the result stays readable while other queries (damage) run.
        cursor = self.con.cursor().execute(sql)
        if cursor.description is None:
            return None
        return Result([column[0] for column in cursor.description],
                      [str(column[1]) for column in cursor.description], cursor, self.duckdb.Error)

    def _unreadable(self) -> list[tuple[str, str]]:
        """The listed files DuckDB can't read to the end, one query each, with DuckDB's reason."""
        broken = []
        for path in self.files:
            try:
                self.con.cursor().execute(f"SELECT count(*) FROM {scan_sql([path])}").fetchall()
            except self.duckdb.Error as exc:
                broken.append((str(path), one_line(str(exc))))
        return broken

    def damaged_lines(self) -> Counter[str]:
        """Lines that aren't records, per file, in the uncompressed files only: that is where a
        crash leaves a torn line, and they are small; counting inside archives would read
        everything a second time."""
        plain = [path for path in self.files if path.suffix != ".gz"]
        if not plain:
            return Counter()
        try:
            return Counter(dict(self.con.cursor().execute(damage_sql(plain)).fetchall()))
        except self.duckdb.Error:  # rotated away since: the query ran; say nothing
            return Counter()
