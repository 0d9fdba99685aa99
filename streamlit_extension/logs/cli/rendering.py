"""How ``st-logs`` writes for people: colours, the lines of each command, the progress bar.

Every logged value printed here goes through ``safe`` (``escape_control``), so a value can't
forge a line or repaint the terminal; ``dump_json`` is the machine form.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TextIO

from ...schema import END_EVENTS
from ...sinks.console import escape_control

if TYPE_CHECKING:
    from ..timeline import Interaction

PROGRESS_DELAY = 0.5  # seconds before a scan shows a progress bar

# ANSI SGR codes by colour name, and the colour of each level's name.
COLOR_CODES: Mapping[str, str] = MappingProxyType(
    {"dim": "2", "bold": "1", "red": "31", "green": "32", "yellow": "33", "cyan": "36", "magenta": "35",
     "bold_red": "1;31"}
)
LEVEL_COLORS: Mapping[str, str] = MappingProxyType(
    {"TRACE": "dim", "DEBUG": "dim", "INFO": "green", "SUCCESS": "green", "WARNING": "yellow", "ERROR": "red",
     "CRITICAL": "bold_red"}
)
OUTCOME_STYLE: Mapping[str, str] = MappingProxyType(
    {"failed": "red", "complete": "green", "rerun": "green", "stop": "yellow"}
)


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
    """One line of JSON output."""
    # ensure_ascii: C1 controls and U+2028 come out escaped too, not only what JSON must escape.
    return json.dumps(obj, ensure_ascii=True, default=str)


def isatty(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal; a closed or odd stream is not."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


# --- colours --------------------------------------------------------------------------------


class Style:
    """ANSI colours, or plain text when they are off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, name: str | None) -> str:
        code = COLOR_CODES.get(name or "")
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and code else text

    def level(self, level: Any, width: int = 8) -> str:
        text = safe(level)
        return self(text.ljust(width), LEVEL_COLORS.get(text))


def use_color(mode: str, stream: TextIO) -> bool:
    """``auto``: only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if mode != "auto":
        return mode == "always"
    return not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb" and isatty(stream)


def outcome_style(summary: str) -> str | None:
    """``complete, 1 error`` reads as a problem, not as green."""
    if "error" in summary:
        return "red"
    if "refused" in summary:
        return "yellow"
    return OUTCOME_STYLE.get(summary)


# --- progress -------------------------------------------------------------------------------


class Progress:
    """``files done/total`` on stderr: only on a terminal, and only once a scan takes a moment."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None, delay: float = PROGRESS_DELAY) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = isatty(self.stream)
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


# --- records --------------------------------------------------------------------------------


def record_label(record: dict[str, Any], style: Style) -> str:
    """``operation:event duration`` for lifecycle records; empty for plain ones (indentation says where)."""
    event = record.get("event")
    operation = record.get("operation")
    if not event:
        # A StructuredLogger record about an operation it isn't inside of.
        return style(f"[{safe(operation)}]", "cyan") + " " if operation and not record.get("operation_id") else ""
    text = style(f"{safe(operation)}:{safe(event)}", "red" if event == "failed" else "cyan")
    if event in END_EVENTS:
        text += " " + style(fmt_ms(record.get("duration_ms")), "yellow")
    return text + "  "


def error_lines(error: dict[str, Any]) -> list[str]:
    """An error's traceback (or ``Type: message`` without one), one escaped line each."""
    traceback = error.get("traceback")
    if isinstance(traceback, str) and traceback.strip():
        return [escape_control(line) for line in traceback.rstrip("\n").split("\n")]
    return [f"{safe(error.get('type'))}: {safe(error.get('message'))}"]


def format_record(record: dict[str, Any], style: Style) -> list[str]:
    """One tail line (``HH:MM:SS.mmm LEVEL cid user [op:event] message``), plus any traceback."""
    timestamp = str(record.get("timestamp") or "")
    clock = safe(timestamp[11:23] or timestamp)
    cid = style(safe(record.get("correlation_id")), "cyan")
    line = (f"{style(clock, 'dim')} {style.level(record.get('level'))} {cid} "
            f"{safe(record.get('user_id'))}  {record_label(record, style)}{safe(record.get('message'))}")
    lines = [line]
    error = record.get("error")
    if isinstance(error, dict):
        lines.extend("    " + style(text, "red") for text in error_lines(error))
    return lines


# --- trace and session ----------------------------------------------------------------------


def interaction_header(interaction: Interaction) -> dict[str, Any]:
    """An interaction's summary: the head of ``trace`` and one row of ``session``. ``failures``:
    failed operations inside, refusals not included; ``refused``: refused operations (expected
    failures); ``error_records``: records at ERROR or above; the same numbers as ``outcome``'s words."""
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
        "error_records": interaction.error_records,
    }


def render_trace(interaction: Interaction, style: Style) -> Iterator[str]:
    """``trace``: a header, then every record at its offset, indented by operation depth."""
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


def render_session(session_id: str, users: Sequence[str], items: Sequence[dict[str, Any]],
                   style: Style) -> Iterator[str]:
    """``session``: who and how many, then one line per interaction (``interaction_header`` rows)."""
    yield f"{style('session ' + safe(session_id), 'bold')}  user: {', '.join(users)}  interactions: {len(items)}"
    page_width = min(max((len(safe(i["page"])) for i in items), default=1), 30)
    for item in items:
        started = safe(item["started"]).replace("T", " ").rstrip("Z")[:23]  # milliseconds read better
        outcome = item["outcome"] or "-"
        yield (f"{style(started, 'dim')}  {safe(item['page']).ljust(page_width)}  {safe(item['correlation_id'])}  "
               f"{fmt_ms(item['duration_ms']).rjust(10)}  {style(safe(outcome), outcome_style(outcome))}")


# --- stats ----------------------------------------------------------------------------------


def render_stats(rows: Sequence[dict[str, Any]], style: Style) -> Iterator[str]:
    """``stats``: a table with a bold header, names left-aligned and numbers right-aligned."""
    table = [["operation", "count", "errors", "error%", "expected", "p50", "p95", "p99"]]
    for row in rows:
        near = "~" if row.get("approximate") else ""  # from a sketch: within its relative error
        table.append([safe(row["operation"]), str(row["count"]), str(row["errors"]), f"{100 * row['error_rate']:.1f}%",
                      str(row["expected"]), *(near + fmt_ms(row[q]) for q in ("p50", "p95", "p99"))])
    yield from aligned(table, [False] + [True] * 7, style)


def aligned(table: Sequence[Sequence[str]], right: Sequence[bool], style: Style,
            colors: Sequence[Sequence[str | None]] | None = None) -> Iterator[str]:
    """The lines of a table of cells (the first line is the bold header), columns two spaces apart.

    ``colors`` (one colour name or None per cell, header excluded) is applied after padding, so
    escape codes don't shift the columns.
    """
    widths = [max(len(line[col]) for line in table) for col in range(len(table[0]))]
    for n, line in enumerate(table):
        if n == 0:
            cells = [cell.rjust(width) if flush_right else cell.ljust(width)
                     for cell, width, flush_right in zip(line, widths, right, strict=True)]
            yield style("  ".join(cells).rstrip(), "bold")
            continue
        row_colors = colors[n - 1] if colors is not None else [None] * len(line)
        cells = []
        for cell, width, flush_right, color in zip(line, widths, right, row_colors, strict=True):
            pad = " " * (width - len(cell))
            cells.append(pad + style(cell, color) if flush_right else style(cell, color) + pad)
        yield "  ".join(cells).rstrip()


# --- sql ------------------------------------------------------------------------------------

MAX_CELL = 80  # a longer value is cut in a table; --json has it whole


def cell_text(value: Any) -> str:
    """A result value in a table cell: ``-`` for NULL, JSON compact, escaped, cut at ``MAX_CELL``."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (dict, list)):
        text = escape_control(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))
    else:
        text = safe(value)
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 3] + "..."


def render_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], style: Style) -> Iterator[str]:
    """``sql``: a header of column names, then one line per row; numeric columns right-aligned,
    NULLs dim, a ``level`` column in its level's colour."""
    numeric = [all(isinstance(row[col], (int, float)) and not isinstance(row[col], bool)
                   for row in rows if row[col] is not None) and any(row[col] is not None for row in rows)
               for col in range(len(columns))]
    table = [[safe(name) for name in columns], *([cell_text(value) for value in row] for row in rows)]
    colors = [[("dim" if value is None else LEVEL_COLORS.get(str(value)) if name == "level" else None)
               for name, value in zip(columns, row, strict=True)] for row in rows]
    yield from aligned(table, numeric, style, colors)
