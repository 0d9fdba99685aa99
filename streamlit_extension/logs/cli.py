"""``st-logs``: read the correlation logs from a terminal (also ``python -m streamlit_extension.logs``).

    st-logs trace REQ_ID [PATH ...]      one interaction's timeline, nested by operation
    st-logs session SESSION_ID [PATH ...] the interactions of one Streamlit session
    st-logs tail [PATH]                  follow every process's current log file, like ``tail -f``
    st-logs stats [PATH ...]             per operation: count, error rate, p50/p95/p99

PATH (default ``logs/``) is a folder searched for ``*.jsonl`` / ``*.jsonl.gz`` or log files, in
either JSON format. ``--json`` gives machine output. Everything printed for humans goes through
``escape_control``, so a logged value can't forge a line or repaint the terminal.

Exit status: 0 done, 1 id not found, 2 bad usage or unreadable input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from ..sinks.console import escape_control
from .follow import POLL_SECONDS, Tail
from .reader import DEFAULT_PATH, LogPathError, ReadStats, find_log_files, is_server_line, read_records, records_with_id
from .timeline import Interaction, OperationStats, build_interaction, interactions, operation_stats

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
LEVELS = {"TRACE": 5, "DEBUG": 10, "INFO": 20, "SUCCESS": 25, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
PROGRESS_DELAY = 0.5  # seconds before a scan shows a progress bar
_END_EVENTS = ("complete", "failed")
OUTCOME_STYLE = {"failed": "red", "complete": "green", "rerun": "green", "stop": "yellow"}


def outcome_style(summary: str) -> str | None:
    """``complete, 1 error`` reads as a problem, not as green."""
    if "error" in summary:
        return "red"
    if "refused" in summary:
        return "yellow"
    return OUTCOME_STYLE.get(summary)


class UsageError(Exception):
    """Input the user can fix (missing path, no log files, nothing readable): one line, exit 2."""


# --- output helpers -------------------------------------------------------------------------


def safe(value: Any) -> str:
    """Any value as printable text: ``-`` for nothing, control characters escaped."""
    return "-" if value is None or value == "" else escape_control(str(value))


def fmt_ms(value: Any) -> str:
    """A duration in milliseconds, with more decimals for the sub-millisecond ones."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "-"
    return f"{value:.1f}ms" if abs(value) >= 1 else f"{value:.3f}ms"


def dump_json(obj: Any) -> str:
    # ensure_ascii: C1 controls and U+2028 come out escaped too, not only what JSON must escape.
    return json.dumps(obj, ensure_ascii=True, default=str)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class Style:
    """ANSI colours, or plain text when they are off."""

    CODES = {"dim": "2", "bold": "1", "red": "31", "green": "32", "yellow": "33", "cyan": "36",
             "magenta": "35", "bold_red": "1;31"}
    LEVEL = {"TRACE": "dim", "DEBUG": "dim", "INFO": "green", "SUCCESS": "green", "WARNING": "yellow",
             "ERROR": "red", "CRITICAL": "bold_red"}

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, name: str | None) -> str:
        code = self.CODES.get(name or "")
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and code else text

    def level(self, level: Any, width: int = 8) -> str:
        text = safe(level)
        return self(text.ljust(width), self.LEVEL.get(text))


def use_color(mode: str, stream: TextIO) -> bool:
    """``auto``: only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if mode != "auto":
        return mode == "always"
    return not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb" and _isatty(stream)


class Progress:
    """``files done/total`` on stderr: only on a terminal, and only once a scan takes a moment."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None, delay: float = PROGRESS_DELAY) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _isatty(self.stream)
        self.total, self.label, self.delay = total, label, delay
        self.done = 0
        self.started = time.monotonic()
        self.shown = False
        self._drawn_at = 0.0

    def advance(self) -> None:
        self.done += 1
        self.tick()

    def tick(self) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < self.delay or now - self._drawn_at < 0.1:
            return
        self._drawn_at = now
        width = 24
        filled = width * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (width - filled)
        self._write(f"\r{self.label} [{bar}] {self.done}/{self.total} files")
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self._write("\r\x1b[K")  # leave the terminal as it was before the bar
            self.shown = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False


# --- reading --------------------------------------------------------------------------------


def log_files(paths: Sequence[str]) -> list[Path]:
    """The files to read; a missing path or a folder without log files is a UsageError."""
    try:
        files = find_log_files(paths)
    except LogPathError as exc:
        raise UsageError(str(exc)) from None
    if not files:
        # find_log_files returns [] for a folder without *.jsonl[.gz]: say so rather than "not found".
        raise UsageError(f"no log files (*.jsonl, *.jsonl.gz) in {', '.join(paths)}")
    unique: dict[Path, Path] = {}
    for path in files:  # ``logs logs/app.jsonl`` must not count a record twice
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def scan(files: Sequence[Path], needle: str | None, stats: ReadStats, label: str) -> Iterator[dict[str, Any]]:
    """Records of ``files``, one file after the other, with a progress bar on a slow scan.

    One ``read_records`` call per file rather than one merged call: the merge opens every file
    at once, so "files done" could not be counted. Callers sort by time themselves.
    """
    progress = Progress(len(files), label)
    try:
        for path in files:
            try:
                stream = read_records([path], needle=needle, stats=stats)
            except LogPathError:  # rotated away since it was listed
                stats.errors.append((str(path), "vanished during the scan"))
            else:
                for count, record in enumerate(stream):
                    if count % 512 == 0:
                        progress.tick()
                    yield record
            progress.advance()
    finally:
        progress.close()


def damage_summary(stats: ReadStats) -> str | None:
    """One line about what the reader had to skip or could not read, or None."""
    damaged: Counter = Counter(stats.skipped_by_file)
    parts = []
    if damaged:
        total = sum(damaged.values())
        where = _some_files(damaged.items(), lambda path, n: f"{safe(path)}: {n}")
        parts.append(f"skipped {total} damaged line{'s' if total != 1 else ''} in {where}")
    if stats.errors:
        parts.append("could not read " + _some_files(stats.errors, lambda path, why: f"{safe(path)} ({safe(why)})"))
    return "warning: " + "; ".join(parts) if parts else None


def _some_files(items: Iterable[tuple[str, Any]], describe: Callable[[str, Any], str], limit: int = 3) -> str:
    items = list(items)
    if len(items) == 1:
        path, value = items[0]
        return safe(path) if isinstance(value, int) else describe(path, value)
    shown = ", ".join(describe(path, value) for path, value in items[:limit])
    more = f", and {len(items) - limit} more" if len(items) > limit else ""
    return f"{len(items)} files ({shown}{more})"


def check_readable(files: Sequence[Path], stats: ReadStats) -> None:
    """A UsageError when not one of ``files`` could be read (damage elsewhere is only a warning)."""
    unreadable = {path for path, _ in stats.errors}
    if files and stats.lines == 0 and stats.records == 0 and all(str(path) in unreadable for path in files):
        reasons = "; ".join(f"{safe(path)} ({safe(why)})" for path, why in stats.errors[:3])
        raise UsageError(f"could not read any log file: {reasons}")


def warn_damage(stats: ReadStats) -> None:
    warning = damage_summary(stats)
    if warning:
        print(warning, file=sys.stderr)


def finish_scan(files: Sequence[Path], stats: ReadStats) -> None:
    """After a scan: fail when no file could be read at all, else warn once about damage."""
    check_readable(files, stats)
    warn_damage(stats)


# --- trace ----------------------------------------------------------------------------------


def interaction_header(interaction: Interaction) -> dict[str, Any]:
    return {
        "correlation_id": interaction.correlation_id,
        "session_id": interaction.session_id,
        "user_id": interaction.user_id,
        "page": interaction.page,
        "started": interaction.started,
        "duration_ms": interaction.duration_ms,
        "outcome": interaction.summary,
        "failures": interaction.failures,
        "refused": interaction.refusals,
        "records": len(interaction.records),
        "errors": len(interaction.errors),
    }


def record_label(record: dict[str, Any], style: Style) -> str:
    """``operation:event duration`` for lifecycle records; empty for plain ones (indentation says where)."""
    event = record.get("event")
    operation = record.get("operation")
    if not event:
        # A StructuredLogger record about an operation it isn't inside of.
        return style(f"[{safe(operation)}]", "cyan") + " " if operation and not record.get("operation_id") else ""
    text = style(f"{safe(operation)}:{safe(event)}", "red" if event == "failed" else "cyan")
    if event in _END_EVENTS:
        text += " " + style(fmt_ms(record.get("duration_ms")), "yellow")
    return text + "  "


def error_lines(error: dict[str, Any]) -> list[str]:
    """An error's traceback (or ``Type: message`` without one), one escaped line each."""
    traceback = error.get("traceback")
    if isinstance(traceback, str) and traceback.strip():
        return [escape_control(line) for line in traceback.rstrip("\n").split("\n")]
    return [f"{safe(error.get('type'))}: {safe(error.get('message'))}"]


def render_trace(interaction: Interaction, style: Style) -> Iterator[str]:
    head = interaction_header(interaction)
    outcome = head["outcome"] or "-"
    yield (style(safe(interaction.correlation_id), "bold") + "  "
           + style(safe(outcome), outcome_style(outcome)) + "  " + fmt_ms(head["duration_ms"]))
    yield (f"session: {safe(head['session_id'])}  user: {safe(head['user_id'])}  page: {safe(head['page'])}  "
           f"started: {safe(head['started'])}  records: {head['records']}")
    printed: set[str] = set()
    for record in interaction.records:
        depth = interaction.depth_of(record)
        offset = f"+{interaction.offset_ms(record):.1f}ms".rjust(10)
        prefix = f"{style(offset, 'dim')}  {style.level(record.get('level'))}  " + "  " * depth
        yield prefix + record_label(record, style) + safe(record.get("message"))
        error = record.get("error")
        if isinstance(error, dict):
            pad = " " * (10 + 2 + 8 + 2 + 2 * depth + 4)
            lines = error_lines(error)
            key = "\n".join(lines)
            # An exception failing several nested operations is logged by each: print it once.
            shown = ["(traceback as above)"] if key in printed and len(lines) > 1 else lines
            printed.add(key)
            yield from (pad + style(line, "red") for line in shown)


def records_with(field: str, value: str, paths: list[str], command: str) -> list[dict[str, Any]]:
    """The records whose ``field`` equals ``value``; an error message names the id if none."""
    label = field.replace("_", " ")
    if not value.strip():
        raise UsageError(f"the {label} is empty")
    files = log_files(paths)
    stats = ReadStats()
    progress = Progress(len(files), command)
    try:
        records = records_with_id(files, field, value, stats=stats, on_file_done=progress.advance, processes=True)
    finally:
        progress.close()
    finish_scan(files, stats)
    if not records:
        print(f"error: {label} {safe(value)} not found in {safe(', '.join(paths))} "
              f"({len(files)} file{'s' if len(files) != 1 else ''})", file=sys.stderr)
    return records


def cmd_trace(args: argparse.Namespace, out: TextIO, style: Style) -> int:
    cid = args.correlation_id
    records = records_with("correlation_id", cid, args.paths, "trace")
    if not records:
        return EXIT_NOT_FOUND
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
    if not records:
        return EXIT_NOT_FOUND
    items = [interaction_header(i) for i in interactions(records)]
    if args.json:
        print(dump_json(items), file=out)
        return EXIT_OK
    users = sorted({safe(r.get("user_id")) for r in records})
    print(f"{style('session ' + safe(args.session_id), 'bold')}  user: {', '.join(users)}  interactions: {len(items)}", file=out)
    page_width = min(max((len(safe(i["page"])) for i in items), default=1), 30)
    for item in items:
        started = safe(item["started"]).replace("T", " ").rstrip("Z")[:23]  # milliseconds read better
        outcome = item["outcome"] or "-"
        print(f"{style(started, 'dim')}  {safe(item['page']).ljust(page_width)}  {safe(item['correlation_id'])}  "
              f"{fmt_ms(item['duration_ms']).rjust(10)}  {style(safe(outcome), outcome_style(outcome))}",
              file=out)
    return EXIT_OK


# --- stats ----------------------------------------------------------------------------------


def stats_row(op: OperationStats) -> dict[str, Any]:
    return {"operation": op.operation, "count": op.count, "errors": op.errors, "error_rate": op.error_rate,
            "expected": op.expected, "p50": op.p50, "p95": op.p95, "p99": op.p99}


def cmd_stats(args: argparse.Namespace, out: TextIO, style: Style) -> int:
    files = log_files(args.paths)
    stats = ReadStats()
    rows = [stats_row(op) for op in operation_stats(scan(files, None, stats, "stats"))]
    finish_scan(files, stats)
    if args.json:
        print(dump_json(rows), file=out)
        return EXIT_OK
    if not rows:
        print("no finished operations found", file=sys.stderr)
        return EXIT_OK
    table = [["operation", "count", "errors", "error%", "expected", "p50", "p95", "p99"]]
    for row in rows:
        table.append([safe(row["operation"]), str(row["count"]), str(row["errors"]), f"{100 * row['error_rate']:.1f}%",
                      str(row["expected"]), fmt_ms(row["p50"]), fmt_ms(row["p95"]), fmt_ms(row["p99"])])
    widths = [max(len(line[col]) for line in table) for col in range(len(table[0]))]
    for n, line in enumerate(table):
        cells = [line[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(line[1:], widths[1:])]
        text = "  ".join(cells)
        print(style(text, "bold") if n == 0 else text, file=out)
    return EXIT_OK


# --- tail -----------------------------------------------------------------------------------


def parse_level(text: str) -> int:
    """``--level``: a level name (any case) or a number."""
    if text.strip().lstrip("-").isdigit():
        return int(text)
    try:
        return LEVELS[text.strip().upper()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"unknown level {text!r} (use one of {', '.join(LEVELS)} or a number)") from None


def non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def make_filter(args: argparse.Namespace) -> Callable[[dict[str, Any]], bool]:
    def keep(record: dict[str, Any]) -> bool:
        if not args.server and is_server_line(record):
            return False
        if args.level is not None:
            number = LEVELS.get(str(record.get("level")).upper())
            if number is not None and number < args.level:  # custom levels are never hidden
                return False
        return all(args_value is None or record.get(name) == args_value for name, args_value in
                   (("user_id", args.user), ("session_id", args.session), ("operation", args.operation)))
    return keep


def format_record(record: dict[str, Any], style: Style) -> list[str]:
    """One tail line (``HH:MM:SS.mmm LEVEL cid user [op:event] message``), plus any traceback."""
    timestamp = str(record.get("timestamp") or "")
    clock = safe(timestamp[11:23] or timestamp)
    line = (f"{style(clock, 'dim')} {style.level(record.get('level'))} {style(safe(record.get('correlation_id')), 'cyan')} "
            f"{safe(record.get('user_id'))}  {record_label(record, style)}{safe(record.get('message'))}")
    lines = [line]
    error = record.get("error")
    if isinstance(error, dict):
        lines.extend("    " + style(text, "red") for text in error_lines(error))
    return lines


def cmd_tail(args: argparse.Namespace, out: TextIO, style: Style) -> int:
    stats = ReadStats()
    tail = Tail(Path(args.path), make_filter(args), stats)

    def emit(records: list[dict[str, Any]]) -> None:
        for record in records:
            if args.json:
                print(dump_json(record), file=out)
            else:
                for line in format_record(record, style):
                    print(line, file=out)
        out.flush()  # a follower is read live, through pipes too

    log_files([args.path])  # a missing path or a folder without log files: exit 2, like the other commands
    try:
        records = tail.start(args.lines)
        if not tail.following:  # only compressed files: fail like the other commands if none is readable
            check_readable(tail.tried, stats)
    except BaseException:
        tail.close()
        raise
    try:
        emit(records)
        if not args.once:
            deadline = time.monotonic() + args.max_seconds if args.max_seconds else None
            while deadline is None or time.monotonic() < deadline:
                records = tail.poll()
                if records:
                    emit(records)
                elif not tail.busy:
                    time.sleep(POLL_SECONDS)
    finally:
        tail.close()
        warn_damage(stats)
    return EXIT_OK


# --- entry point ----------------------------------------------------------------------------


_DEFAULT_PATHS = [DEFAULT_PATH]  # compared by identity: "no PATH given"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="st-logs",
        description="Read streamlit_extension's JSON logs: trace an interaction, list a session, follow, summarise.",
        epilog="PATH is a folder (searched for *.jsonl and *.jsonl.gz) or log files; default: logs/. "
               "Exit status: 0 ok, 1 id not found, 2 bad usage or unreadable input.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable JSON output")
    common.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the output (auto: on a terminal, unless NO_COLOR is set)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    trace = commands.add_parser("trace", parents=[common], help="one interaction's timeline",
                                description="The timeline of one interaction (correlation id), nested by operation.")
    trace.add_argument("correlation_id", metavar="CORRELATION_ID")
    trace.add_argument("paths", metavar="PATH", nargs="*", default=_DEFAULT_PATHS)
    trace.set_defaults(run=cmd_trace)

    session = commands.add_parser("session", parents=[common], help="a session's interactions",
                                  description="The interactions of one session, one line each.")
    session.add_argument("session_id", metavar="SESSION_ID")
    session.add_argument("paths", metavar="PATH", nargs="*", default=_DEFAULT_PATHS)
    session.set_defaults(run=cmd_session)

    tail = commands.add_parser("tail", parents=[common], help="follow every process's current log file",
                               description="Print the last records over every process's current log file in "
                                           "PATH (or of the file given), then follow them all in time order "
                                           "across rotation, and new processes' files as they appear, like tail -f.")
    tail.add_argument("path", metavar="PATH", nargs="?", default=DEFAULT_PATH)
    tail.add_argument("-n", "--lines", type=non_negative, default=10, metavar="N", help="records to show first (default 10)")
    tail.add_argument("--once", action="store_true", help="print what matches now and exit")
    tail.add_argument("--level", type=parse_level, help="minimum level (name or number)")
    tail.add_argument("--user", help="only this user_id")
    tail.add_argument("--session", help="only this session_id")
    tail.add_argument("--operation", help="only this operation")
    tail.add_argument("--server", action="store_true",
                      help="also the web server's own lines outside any interaction (hidden by default)")
    tail.add_argument("--max-seconds", type=float, default=None, help=argparse.SUPPRESS)  # bounds tests
    tail.set_defaults(run=cmd_tail)

    stats = commands.add_parser("stats", parents=[common], help="per-operation counts, error rate, percentiles",
                                description="Per operation: finished count, error rate, p50/p95/p99 of duration_ms.")
    stats.add_argument("paths", metavar="PATH", nargs="*", default=_DEFAULT_PATHS)
    stats.set_defaults(run=cmd_stats)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Like ``parse_args``, with options anywhere: ``trace ID --json logs/`` works too.

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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    out = sys.stdout
    try:
        out.reconfigure(errors="backslashreplace")  # type: ignore[attr-defined]  # an ASCII-only terminal
    except (AttributeError, ValueError):
        pass
    style = Style(not args.json and use_color(args.color, out))
    try:
        return args.run(args, out, style)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, and keep Python's exit flush from failing too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        return EXIT_OK
    except OSError as exc:  # e.g. the file to follow can't be opened
        where = f"{safe(exc.filename)}: " if exc.filename else ""
        print(f"error: {where}{safe(exc.strerror or exc)}", file=sys.stderr)
        return EXIT_USAGE
