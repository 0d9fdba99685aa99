"""From records to interactions: the nesting, timing and outcome of one correlation id.

Shared by the CLI and the Log Explorer, so both tell the same story: operations nest by
``parent_operation_id``, spans come from ``start`` and ``complete``/``failed`` records, and an
interaction's duration and outcome are its ``script_run``'s when it has one.
"""

from __future__ import annotations

import datetime
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..schema import END_EVENTS, EVENT_START, LEVELS, RUN_OPERATION, is_expected, level_number


def parse_time(timestamp: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


@dataclass
class Span:
    """One operation of an interaction, placed in time (milliseconds from the first record)."""

    operation: str
    operation_id: str
    parent_operation_id: str | None
    depth: int
    start_ms: float
    duration_ms: float | None
    outcome: str  # "complete", "failed", "refused" (an expected failure), "rerun", "stop" or "running"
    error: dict | None = None


@dataclass
class Interaction:
    """Everything one correlation id covers."""

    correlation_id: str
    records: list[dict[str, Any]]
    session_id: str | None = None
    user_id: str | None = None
    page: str | None = None
    started: str | None = None
    duration_ms: float | None = None
    outcome: str | None = None
    spans: list[Span] = field(default_factory=list)
    depths: dict[str, int] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        """Operations inside that failed, refusals not included (the interaction itself may still
        have completed)."""
        return sum(span.outcome == "failed" and span.depth > 0 for span in self.spans)

    @property
    def refusals(self) -> int:
        """Operations inside that ended in an expected failure (a user's mistake)."""
        return sum(span.outcome == "refused" for span in self.spans)

    @property
    def summary(self) -> str | None:
        """The outcome with what went wrong inside it: ``failed``, ``complete, 1 error``,
        ``complete, 1 refused``; the same in every reader."""
        if self.outcome is None or self.outcome == "failed":
            return self.outcome
        parts = [self.outcome]
        if self.failures:
            parts.append(f"{self.failures} error{'s' if self.failures != 1 else ''}")
        if self.refusals:
            parts.append(f"{self.refusals} refused")
        return ", ".join(parts)

    def depth_of(self, record: dict[str, Any]) -> int:
        """Indentation for a record: its operation's depth (+1 inside, for plain records)."""
        depth = self.depths.get(record.get("operation_id") or "", -1)
        return max(depth if record.get("event") else depth + 1, 0)

    def offset_ms(self, record: dict[str, Any]) -> float:
        return (parse_time(record["timestamp"]) - parse_time(self.records[0]["timestamp"])).total_seconds() * 1000

    @property
    def errors(self) -> list[dict[str, Any]]:
        """The records carrying an ``error``: failures, refusals and logged exceptions."""
        return [r for r in self.records if isinstance(r.get("error"), dict)]

    @property
    def error_records(self) -> int:
        """Records logged at ERROR or above: a refusal (logged at WARNING) is not one."""
        return sum((level_number(r.get("level")) or 0) >= LEVELS["ERROR"] for r in self.records)


def _most_common(values: Iterable[Any]) -> Any:
    counts = Counter(v for v in values if v not in (None, ""))
    return counts.most_common(1)[0][0] if counts else None


def _depths(records: list[dict[str, Any]]) -> dict[str, int]:
    parents: dict[str, str | None] = {}
    for r in records:
        op_id = r.get("operation_id")
        if op_id and op_id not in parents:
            parents[op_id] = r.get("parent_operation_id")
    depths: dict[str, int] = {}
    for op_id in parents:
        depth, seen, cursor = 0, {op_id}, parents.get(op_id)
        while cursor in parents and cursor not in seen:  # unknown parent: a root here
            seen.add(cursor)
            depth += 1
            cursor = parents[cursor]
        depths[op_id] = depth
    return depths


def _outcome(end: dict[str, Any]) -> str:
    if end.get("event") == "failed":
        return "refused" if is_expected(end.get("error")) else "failed"
    metadata = end.get("metadata")
    outcome = metadata.get("outcome") if isinstance(metadata, dict) else None
    return outcome or "complete"


def _spans(records: list[dict[str, Any]], depths: dict[str, int], origin: datetime.datetime) -> list[Span]:
    starts: dict[str, dict] = {}
    ends: dict[str, dict] = {}
    order: dict[str, None] = {}  # first appearance; timestamps tie within a millisecond
    for r in records:
        op_id = r.get("operation_id")
        if not op_id or r.get("event") not in (EVENT_START, *END_EVENTS) or op_id in ends:
            continue
        order.setdefault(op_id)
        (starts if r["event"] == "start" else ends)[op_id] = r
    spans = []
    for op_id in order:
        start, end = starts.get(op_id), ends.get(op_id)
        first = start if start is not None else ends[op_id]  # every op_id in order has one or the other
        duration = end.get("duration_ms") if end else None
        begin = parse_time(first["timestamp"])
        if start is None and isinstance(duration, (int, float)):
            begin -= datetime.timedelta(milliseconds=duration)
        spans.append(Span(
            operation=first.get("operation") or "?",
            operation_id=op_id,
            parent_operation_id=first.get("parent_operation_id"),
            depth=depths.get(op_id, 0),
            start_ms=max((begin - origin).total_seconds() * 1000, 0.0),
            duration_ms=duration if isinstance(duration, (int, float)) else None,
            outcome=_outcome(end) if end else "running",
            error=end.get("error") if end else None,
        ))
    return spans


def _nest_within_parents(spans: list[Span]) -> None:
    """Keep each child bar inside its parent's.

    Starts come from wall-clock timestamps and durations from the monotonic clock; for steps of a
    millisecond or less the two can disagree by a few microseconds, and a child must still never
    start before its parent or end after it.
    """
    by_id = {span.operation_id: span for span in spans}
    for span in sorted(spans, key=lambda s: s.depth):
        parent = by_id.get(span.parent_operation_id or "")
        if parent is None or parent.duration_ms is None:
            continue
        parent_end = parent.start_ms + parent.duration_ms
        if span.duration_ms is not None:
            span.duration_ms = min(span.duration_ms, parent.duration_ms)
            span.start_ms = min(span.start_ms, parent_end - span.duration_ms)
        span.start_ms = min(max(span.start_ms, parent.start_ms), parent_end)


def build_interaction(correlation_id: str, records: Iterable[dict[str, Any]]) -> Interaction:
    """The interaction of ``correlation_id`` from (at least) its records, in time order."""
    mine = sorted((r for r in records if r.get("correlation_id") == correlation_id), key=lambda r: r["timestamp"])
    interaction = Interaction(correlation_id=correlation_id, records=mine)
    if not mine:
        return interaction
    origin = parse_time(mine[0]["timestamp"])
    interaction.depths = _depths(mine)
    interaction.spans = _spans(mine, interaction.depths, origin)
    _nest_within_parents(interaction.spans)
    interaction.started = mine[0]["timestamp"]
    interaction.session_id = _most_common(r.get("session_id") for r in mine)
    interaction.user_id = _most_common(r.get("user_id") for r in mine)
    run_end = next((r for r in reversed(mine)
                    if r.get("operation") == RUN_OPERATION and r.get("event") in END_EVENTS), None)
    pages = [r.get("page") for r in mine]
    if run_end is not None and isinstance(run_end.get("metadata"), dict):
        pages.append(run_end["metadata"].get("page"))
    interaction.page = _most_common(pages)
    if run_end is not None:
        interaction.duration_ms = run_end.get("duration_ms")
        interaction.outcome = _outcome(run_end)
    else:
        interaction.duration_ms = round((parse_time(mine[-1]["timestamp"]) - origin).total_seconds() * 1000, 3)
        # A nested failure the caller caught doesn't fail the interaction; a failed root does.
        roots = [s.outcome for s in interaction.spans if s.depth == 0]
        if "failed" in roots:
            interaction.outcome = "failed"
        elif roots and "running" not in roots:
            interaction.outcome = "complete"
        if len(roots) == 1 and interaction.spans[0].duration_ms is not None:  # one root: its own time
            interaction.duration_ms = interaction.spans[0].duration_ms
    return interaction


def interactions(records: Iterable[dict[str, Any]]) -> list[Interaction]:
    """Group records by correlation id; one Interaction each, in order of first record."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        cid = r.get("correlation_id")
        if cid:
            grouped[cid].append(r)
    built = [build_interaction(cid, group) for cid, group in grouped.items()]
    return sorted(built, key=lambda i: i.started or "")


@dataclass
class OperationStats:
    operation: str
    count: int
    errors: int  # failures that are faults
    p50: float | None
    p95: float | None
    p99: float | None
    expected: int = 0  # failures the operation declared expected (users' mistakes)

    @property
    def error_rate(self) -> float:
        return self.errors / self.count if self.count else 0.0


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values) / 100))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def operation_stats(records: Iterable[dict[str, Any]]) -> list[OperationStats]:
    """Per operation: how many ended, how many failed, and p50/p95/p99 of ``duration_ms``."""
    durations: dict[str, list[float]] = defaultdict(list)
    counts: Counter = Counter()
    errors: Counter = Counter()
    expected: Counter = Counter()
    for r in records:
        if r.get("event") not in END_EVENTS or not r.get("operation"):
            continue
        op = r["operation"]
        counts[op] += 1
        if r["event"] == "failed":
            (expected if is_expected(r.get("error")) else errors)[op] += 1
        if isinstance(r.get("duration_ms"), (int, float)):
            durations[op].append(float(r["duration_ms"]))
    stats = []
    for op in sorted(counts):
        values = sorted(durations[op])
        stats.append(OperationStats(op, counts[op], errors[op], percentile(values, 50), percentile(values, 95),
                                    percentile(values, 99), expected[op]))
    return stats
