"""The ``st-logs`` commands: trace, session, tail, stats, index, sql.

Each ``cmd_*`` takes the parsed arguments (see ``arguments``), the output stream and a ``Style``
and returns the exit status, or raises a ``CliError`` that ``main`` words for the user.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import re
import sys
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from ...sinks.id_index import load_index
from ...sinks.manifest import OperationTally, load_manifest
from ...sinks.sketch import RELATIVE_ERROR
from ..follow import Record
from ..reader import ReadStats
from ..sql import LogDatabase, QueryError, Result, SqlUnavailableError, import_duckdb, plain_value
from ..summary import digest
from ..timeline import build_interaction, interactions
from .errors import EXIT_OK, EXIT_USAGE, NotFoundError, UsageError
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
)
from .scanning import finish_scan, log_files, records_with, warn_damage
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
