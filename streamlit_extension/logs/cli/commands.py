"""The ``st-logs`` commands (trace, session, tail, stats, index, sql), their argument parser, and ``main``.

Each ``cmd_*`` takes the parsed arguments, the output stream and a ``Style`` and returns the exit
status; ``main`` turns the errors a user can cause (argument errors too) into one ``error:`` line
on stderr, or under ``--json`` one object ``{"error": ..., "status": ...}`` on stdout, and a status.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import itertools
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from ...schema import DEFAULT_PATH, LEVELS, level_number
from ...sinks.id_index import load_index
from ...sinks.manifest import OperationTally, load_manifest
from ...sinks.sketch import RELATIVE_ERROR
from ..follow import Record
from ..reader import ReadStats
from ..sql import VIEW_COLUMNS, LogDatabase, QueryError, Result, SqlUnavailableError, import_duckdb, plain_value
from ..summary import digest
from ..timeline import build_interaction, interactions
from .rendering import (
    Progress,
    Style,
    dump_json,
    format_record,
    interaction_header,
    render_rows,
    render_session,
    render_stats,
    render_trace,
    safe,
    use_color,
)
from .scanning import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    NotFoundError,
    UsageError,
    finish_scan,
    log_files,
    records_with,
    warn_damage,
)
from .tail import follow, record_filter

# --- trace ----------------------------------------------------------------------------------


def cmd_trace(args: argparse.Namespace, out: TextIO, style: Style) -> int:
    cid = args.correlation_id
    records = records_with("correlation_id", cid, args.paths, "trace")
    interaction = build_interaction(cid, records)
    if args.json:
        header = interaction_header(interaction)
        header["spans"] = [dataclasses.asdict(span) for span in interaction.spans]
        print(dump_json({"header": header, "records": interaction.records}), file=out)
    else:
        for line in render_trace(interaction, style):
            print(line, file=out)
    return EXIT_OK


# --- session --------------------------------------------------------------------------------


def cmd_session(args: argparse.Namespace, out: TextIO, style: Style) -> int:
    records = records_with("session_id", args.session_id, args.paths, "session")
    items = [interaction_header(i) for i in interactions(records)]
    if args.json:
        print(dump_json(items), file=out)
        return EXIT_OK
    users = sorted({safe(r.get("user_id")) for r in records})
    for line in render_session(args.session_id, users, items, style):
        print(line, file=out)
    return EXIT_OK


# --- stats ----------------------------------------------------------------------------------


def stats_row(name: str, tally: OperationTally) -> dict[str, Any]:
    """One operation's line of ``stats``; ``approximate``: its percentiles come from archive
    manifests' sketches (within ``RELATIVE_ERROR``), not from every duration."""
    return {"operation": name, "count": tally.count, "errors": tally.errors,
            "error_rate": tally.errors / tally.count if tally.count else 0.0, "expected": tally.expected,
            "p50": tally.percentile(50), "p95": tally.percentile(95), "p99": tally.percentile(99),
            "approximate": tally.approximate}


def cmd_stats(args: argparse.Namespace, out: TextIO, style: Style) -> int:
    """Per operation, from each archive's manifest plus a read of the files without one.

    Files without a single record (``/etc/passwd``) are ``NotFoundError``; records without a finished
    operation are an empty answer."""
    stats = ReadStats()
    files = log_files(args.paths, stats)
    progress = Progress(len(files), "stats")
    try:
        found = digest(files, stats=stats, operations_only=True, on_file_done=progress.advance)
    finally:
        progress.close()
    finish_scan(files, stats)
    if not found.total.records:
        skipped = stats.skipped_total
        damaged = f", {skipped} line{' that is not a record' if skipped == 1 else 's that are not records'}" \
            if skipped else ""
        raise NotFoundError(f"no log records in {safe(', '.join(args.paths))} "
                       f"({len(files)} file{'s' if len(files) != 1 else ''}{damaged})")
    tallies: dict[str, OperationTally] = {}
    for part in (found.total.operations, found.total.own_operations):
        for name, tally in part.items():
            tallies[name] = tallies[name].merge(tally) if name in tallies else tally.copy()
    rows = [stats_row(name, tallies[name]) for name in sorted(tallies)]
    if args.json:
        print(dump_json(rows), file=out)
        return EXIT_OK
    if not rows:
        print("no finished operations found", file=sys.stderr)
        return EXIT_OK
    for line in render_stats(rows, style):
        print(line, file=out)
    if any(row["approximate"] for row in rows):
        print(f"~ percentiles from archive manifests, within {RELATIVE_ERROR:.0%} of the exact value", file=out)
    return EXIT_OK


# --- tail -----------------------------------------------------------------------------------


def cmd_tail(args: argparse.Namespace, out: TextIO, style: Style) -> int:
    def emit(records: list[Record]) -> None:
        for record in records:
            if args.json:
                print(dump_json(record), file=out)
            else:
                for line in format_record(record, style):
                    print(line, file=out)
        out.flush()  # a follower is read live, through pipes too

    stats = ReadStats()
    log_files([args.path], stats)  # a missing path or a folder without log files: exit 2, like the other commands
    warn_damage(stats)  # entries that aren't regular files: said once, never followed
    keep = record_filter(server=args.server, level=args.level, user=args.user, session=args.session,
                         operation=args.operation)
    follow(Path(args.path), keep, emit, ReadStats(), lines=args.lines, once=args.once)
    return EXIT_OK


# --- index ----------------------------------------------------------------------------------


def cmd_index(args: argparse.Namespace, out: TextIO, style: Style) -> int:
    """Write the id index and the manifest of every ``.gz`` archive that lacks a usable one."""
    listing = ReadStats()
    archives = [path for path in log_files(args.paths, listing) if path.suffix == ".gz"]
    summary: dict[str, Any] = {"archives": len(archives), "indexed": 0, "had_index": 0, "too_many_ids": 0,
                               "manifests": 0, "had_manifest": 0, "errors": [],
                               "not_files": [{"path": p, "is": what} for p, what in listing.not_files]}
    from ...sinks.compression import write_sidecars  # here: it brings loguru, which no other command needs

    for archive in archives:
        wants_index, wants_manifest = load_index(archive) is None, load_manifest(archive) is None
        summary["had_index"] += not wants_index
        summary["had_manifest"] += not wants_manifest
        if not (wants_index or wants_manifest):
            continue
        try:
            indexed = write_sidecars(str(archive), index=wants_index, summary=wants_manifest)
        except (OSError, EOFError, ValueError, zlib.error) as exc:  # unreadable, truncated, or a read-only folder
            summary["errors"].append({"archive": str(archive), "error": f"{type(exc).__name__}: {exc}"})
            continue
        summary["manifests"] += wants_manifest
        if wants_index:
            summary["indexed" if indexed else "too_many_ids"] += 1
    if args.json:
        print(dump_json(summary), file=out)
    else:
        print(f"{summary['indexed']} archives indexed, {summary['had_index']} already had an index, "
              f"{summary['too_many_ids']} hold too many ids to index (they are scanned); "
              f"{summary['manifests']} manifests written, {summary['had_manifest']} already had one", file=out)
        for error in summary["errors"]:
            print(f"error: {safe(error['archive'])}: {safe(error['error'])}", file=sys.stderr)
        warn_damage(listing)
    return EXIT_USAGE if summary["errors"] else EXIT_OK


# --- sql ------------------------------------------------------------------------------------

SQL_TABLE_ROWS = 1000  # more is not read on a terminal; --json prints every row


def cmd_sql(args: argparse.Namespace, out: TextIO, style: Style) -> int:
    """Run a DuckDB query over the ``logs`` view of PATH's files; print a table or JSON rows."""
    if not args.query.strip():
        raise UsageError("the query is empty")
    try:
        import_duckdb()  # before looking at any file: without DuckDB nothing else matters
        with LogDatabase(log_files(args.paths)) as db:
            result = db.query(args.query)
            # Only a query over ``logs`` skips lines (``lines`` shows them): only then count them.
            if re.search(r"\blogs\b", args.query, re.IGNORECASE) or db.left_out:
                warn_damage(_sql_damage(db))
            if result is not None:
                _print_result(result, args.json, out, style)
    except (SqlUnavailableError, QueryError) as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK


def _sql_damage(db: LogDatabase) -> ReadStats:
    """What the query had to skip, as the ``ReadStats`` that ``warn_damage`` words for every command."""
    stats = ReadStats()
    for path, count in db.damaged_lines().items():
        stats.skip(Path(path), "not a record", count)
    stats.errors.extend((path, f"left out: {why}") for path, why in db.left_out)
    return stats


def _print_result(result: Result, as_json: bool, out: TextIO, style: Style) -> None:
    names = _unique(result.columns)
    rows = ([plain_value(value, kind) for value, kind in zip(row, result.types, strict=True)] for row in result.rows())
    if as_json:
        # One row per line, written as it comes: a query may return every record.
        count = 0
        out.write("[")
        for row in rows:
            out.write(("," if count else "") + "\n" + dump_json(dict(zip(names, row, strict=True))))
            count += 1
        out.write("\n]\n" if count else "]\n")
        return
    shown = list(itertools.islice(rows, SQL_TABLE_ROWS + 1))
    for line in render_rows(result.columns, shown[:SQL_TABLE_ROWS], style):
        print(line, file=out)
    if len(shown) > SQL_TABLE_ROWS:
        print(f"(the first {SQL_TABLE_ROWS} rows: add LIMIT, or --json for all)", file=out)
    else:
        print(f"({len(shown)} row{'s' if len(shown) != 1 else ''})", file=out)


def _unique(names: Iterable[str]) -> list[str]:
    """Column names as JSON keys: a repeated name (``SELECT 1 AS a, 2 AS a``) gets ``_2``, ``_3``."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return unique


# --- arguments ------------------------------------------------------------------------------


def parse_level(text: str) -> int:
    """``--level``: a level name (any case, ``WARN`` and ``FATAL`` too) or a number."""
    if text.strip().lstrip("-").isdigit():
        return int(text)
    number = level_number(text)
    if number is None:
        raise argparse.ArgumentTypeError(f"unknown level {text!r} (use one of {', '.join(LEVELS)} or a number)")
    return number


def non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


_DEFAULT_PATHS = [DEFAULT_PATH]  # compared by identity: "no PATH given"


class ArgumentsError(UsageError):
    """What argparse would print before exiting, raised instead so that ``main`` can word it as
    JSON under ``--json``; ``usage`` is the command's usage line(s)."""

    def __init__(self, message: str, prog: str, usage: str) -> None:
        super().__init__(message)
        self.prog, self.usage = prog, usage


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` (and the sub-commands' parsers) whose errors raise ``ArgumentsError``."""

    def error(self, message: str) -> NoReturn:
        raise ArgumentsError(message, self.prog, self.format_usage())


def _reads_paths(command: argparse.ArgumentParser, run: Callable[[argparse.Namespace, TextIO, Style], int]) -> None:
    """A command over log folders or files: ``PATH...`` (default: the default folder), then ``run``."""
    command.add_argument("paths", metavar="PATH", nargs="*", default=_DEFAULT_PATHS)
    command.set_defaults(run=run)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="st-logs",
        description="Read streamlit_extension's JSON logs: trace an interaction, list a session, follow, summarise, "
                    "query with SQL.",
        epilog=f"PATH is a folder (searched for *.jsonl and *.jsonl.gz) or log files; default: {DEFAULT_PATH}/. "
               "Exit status: 0 ok, 1 id (or any record) not found, 2 bad usage or unreadable input. With --json, "
               "an error is one JSON object on stdout: {\"error\": MESSAGE, \"status\": STATUS}.",
    )
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable JSON output")
    common.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the output (auto: on a terminal, unless NO_COLOR is set)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    trace = commands.add_parser("trace", parents=[common], help="one interaction's timeline",
                                description="The timeline of one interaction (correlation id), nested by operation.")
    trace.add_argument("correlation_id", metavar="CORRELATION_ID")
    _reads_paths(trace, cmd_trace)

    session = commands.add_parser("session", parents=[common], help="a session's interactions",
                                  description="The interactions of one session, one line each.")
    session.add_argument("session_id", metavar="SESSION_ID")
    _reads_paths(session, cmd_session)

    tail = commands.add_parser("tail", parents=[common], help="follow every process's current log file",
                               description="Print the last records over every process's current log file in "
                                           "PATH (or of the file given), then follow them all in time order "
                                           "across rotation, and new processes' files as they appear, like tail -f.")
    tail.add_argument("path", metavar="PATH", nargs="?", default=DEFAULT_PATH)
    tail.add_argument("-n", "--lines", type=non_negative, default=10, metavar="N",
                      help="records to show first (default 10)")
    tail.add_argument("--once", action="store_true", help="print what matches now and exit")
    tail.add_argument("--level", type=parse_level, help="minimum level (name or number)")
    tail.add_argument("--user", help="only this user_id")
    tail.add_argument("--session", help="only this session_id")
    tail.add_argument("--operation", help="only this operation")
    tail.add_argument("--server", action="store_true",
                      help="also the web server's own lines outside any interaction (hidden by default)")
    tail.set_defaults(run=cmd_tail)

    stats = commands.add_parser("stats", parents=[common], help="per-operation counts, error rate, percentiles",
                                description="Per operation: finished count, error rate, p50/p95/p99 of duration_ms.")
    _reads_paths(stats, cmd_stats)

    index = commands.add_parser("index", parents=[common], help="write missing indexes and manifests of archives",
                                description="Write the id index and the manifest of every .gz archive that has no "
                                            "usable one (archives from before them, or from an older version), so "
                                            "trace and session skip the archives that can't hold the id and stats "
                                            "answers from the manifests.")
    _reads_paths(index, cmd_index)

    sql = commands.add_parser(
        "sql", parents=[common], help="a DuckDB SQL query over the logs (the sql extra)",
        description="Run a DuckDB SQL query over the log files, in either format, through the view logs: one row "
                    f"per record, with the columns {', '.join(name for name, *_ in VIEW_COLUMNS)}, file "
                    "(DESCRIBE logs gives their types); the view lines has every line as written (file, json) "
                    "and fields, the record's own fields in either format (fields->>'client_id'). "
                    "The query can read these files and nothing else.",
        epilog="Example: st-logs sql \"SELECT operation, count(*), max(duration_ms) FROM logs "
               "WHERE event = 'failed' GROUP BY ALL\" logs/. Needs DuckDB: "
               "pip install 'duckdb>=1.4' (in a clone: pip install -e '.[sql]').")
    sql.add_argument("query", metavar="QUERY", help="the SQL, over the view logs")
    _reads_paths(sql, cmd_sql)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Like ``parse_args``, with options anywhere: ``trace ID --json logs/`` works too; bad
    arguments raise ``ArgumentsError`` rather than exit.

    argparse stops filling a positional list at the first option; the paths after it come back
    as leftovers and join the ones before.
    """
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        stray = [item for item in extra if item.startswith("-") and item != "-"]
        if stray or not hasattr(args, "paths"):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.paths = extra if args.paths is _DEFAULT_PATHS else [*args.paths, *extra]
    return args


# --- entry point ----------------------------------------------------------------------------


def report_error(message: str, status: int, as_json: bool, lead: str = "error: ") -> int:
    """Say why a command failed: under ``--json`` one object on stdout, where its reader looks for
    the answer; else ``lead`` and the message on stderr. Returns ``status``."""
    if as_json:
        print(dump_json({"error": message, "status": status}), file=sys.stdout)
    else:
        print(f"{lead}{message}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """``st-logs``: run one command and return its exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    as_json = "--json" in argv  # before parsing: a bad argument is reported in the format asked for
    try:
        args = parse_args(argv)
    except ArgumentsError as exc:
        return report_error(str(exc), exc.status, as_json, lead=f"{exc.usage}{exc.prog}: error: ")
    out = sys.stdout
    if isinstance(out, io.TextIOWrapper):
        try:
            out.reconfigure(errors="backslashreplace")  # an ASCII-only terminal
        except ValueError:  # a detached or closed stream: printing will say so
            pass
    style = Style(not args.json and use_color(args.color, out))
    try:
        return args.run(args, out, style)
    except CliError as exc:
        return report_error(str(exc), exc.status, args.json)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, and keep Python's exit flush from failing too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        return EXIT_OK
    except OSError as exc:  # e.g. the file to follow can't be opened
        where = f"{safe(exc.filename)}: " if exc.filename else ""
        return report_error(f"{where}{safe(exc.strerror or exc)}", EXIT_USAGE, args.json)
