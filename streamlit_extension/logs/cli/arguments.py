"""``st-logs``' arguments and its entry point ``main``: parse, run one command, word its errors.

Only what parsing needs is imported here; a command's module (``commands``, and through it the
reader, the SQL view, the manifests) is imported once a command is chosen, so ``st-logs --help``
and a mistyped command answer at once.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO

from ...schema import DEFAULT_PATH, LEVELS, level_number
from ..sql import VIEW_COLUMNS
from .errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CliError, UsageError
from .rendering import Style, dump_json, safe, use_color


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


def _reads_paths(command: argparse.ArgumentParser, run: str) -> None:
    """A command over log folders or files: ``PATH...`` (default: the default folder), then
    ``commands.cmd_<run>``."""
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
    _reads_paths(trace, "trace")

    session = commands.add_parser("session", parents=[common], help="a session's interactions",
                                  description="The interactions of one session, one line each.")
    session.add_argument("session_id", metavar="SESSION_ID")
    _reads_paths(session, "session")

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
    tail.set_defaults(run="tail")

    stats = commands.add_parser("stats", parents=[common], help="per-operation counts, error rate, percentiles",
                                description="Per operation: finished count, error rate, p50/p95/p99 of duration_ms.")
    _reads_paths(stats, "stats")

    index = commands.add_parser("index", parents=[common], help="write missing indexes and manifests of archives",
                                description="Write the id index and the manifest of every .gz archive that has no "
                                            "usable one (archives from before them, or from an older version), so "
                                            "trace and session skip the archives that can't hold the id and stats "
                                            "answers from the manifests.")
    _reads_paths(index, "index")

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
    _reads_paths(sql, "sql")
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
        from . import commands  # here: parsing, --help and usage errors don't need the readers

        run: Callable[[argparse.Namespace, TextIO, Style], int] = getattr(commands, f"cmd_{args.run}")
        return run(args, out, style)
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
