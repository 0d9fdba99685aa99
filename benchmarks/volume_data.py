"""A log folder at real volume, written by the library itself: 14 days of a modest production app.

    python benchmarks/volume_data.py --format flat            # -> /work/volume-data/flat
    python benchmarks/volume_data.py --format loguru --out DIR
    python benchmarks/volume_data.py --format flat --scale 0.1   # ~100 MB, for fast iteration

Used by ``volume.py`` (issue 22, "Logs at real volume"); also a data set for anyone who wants a
realistic folder to try a reader on. Records go through the real ``setup_logging(log_path=...,
json_format=..., rotation="10 MB", compression="gz", retention=None, console=False)``, so the
rotated archives, their id indexes (``<archive>.idx``) and the live file are exactly what the
library writes; ``handle.close()`` waits for the last compressions and indexes.

The app: ~285 users (``user_0001``...: plain ids, so the patcher keeps them as they are) in ~2 000
Streamlit sessions spread over 14 days (weekday office hours busier than nights and weekends);
each session clicks through several pages (Dashboard, Clients, Projects, Reports, Settings).
Each click is one interaction: ``session_id``, ``user_id`` and ``page`` bound with
``logger.contextualize``, a ``correlation_scope`` with a seeded id, a ``script_run`` operation
with the page's tracked operations nested inside (``track_operation`` and
``@with_correlation_logging``, with ``expected=(ValidationError,)`` where a user can be refused),
plain ``logger.info`` lines and stdlib ``logging.getLogger("app.db" / "app.http" / "app.auth")``
lines. About 2 % of interactions hold a failure: refused input (expected, WARNING, no
traceback) or a real error with its traceback (an upstream timeout the page survives, a locked
database or a bug that fails the whole run). A scheduled job logs outside any interaction.

Simulated time: a loguru patcher of our own, installed with ``logger.configure(patcher=...)``
before ``setup_logging()`` (which chains it, first), sets each record's ``time`` from a
simulated clock. The app "works" by advancing that clock (durations drawn from lognormal
distributions per operation), and the patcher replaces ``duration_ms`` on each end record by
the simulated time since the operation's start record, so ``duration_ms`` equals the distance
between the two timestamps, as it does in a real run. Interactions run one after the other in
start order (one app process), so records are in time order. After writing, every line is read
back and checked: time order, the 14-day span, and ``duration_ms`` against the timestamps.

Deterministic for a seed: the same interactions, ids, users, pages, times, durations and
failures (only the library's own ``op_`` ids, process and thread ids differ). The folder holds
``volume-manifest.json`` (generator version, parameters, what was written and the ids the
benchmark looks up); a folder whose manifest doesn't match is regenerated.
"""

from __future__ import annotations

import argparse
import bisect
import datetime
import json
import logging
import math
import random
import shutil
import sqlite3
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import clean_log_env, iter_lines, log_files, machine_info
from loguru import logger

from streamlit_extension import correlation_logger, correlation_scope, setup_logging, with_correlation_logging
from streamlit_extension.sinks.id_index import VERSION as INDEX_VERSION

GENERATOR_VERSION = 1
DEFAULT_ROOT = Path("/work/volume-data")
MANIFEST = "volume-manifest.json"
FORMATS = ("flat", "loguru")
SEED = 22  # the number
DAYS = 14
END = datetime.datetime(2026, 12, 3, tzinfo=datetime.timezone.utc)  # fixed, so the folder is deterministic
USERS = 285
SESSIONS = 2_000
# Per format, so that each folder is ~1 GB uncompressed (108 archives of 10 MB + the live file):
# a loguru-format line is ~1.8x a flat one, so the same 14 days hold fewer interactions there.
INTERACTIONS = {"flat": 166_000, "loguru": 87_500}
JOB_EVERY_S = 600  # the scheduled job's period: records outside any interaction

US = 1_000_000
PAGES = ("Dashboard", "Clients", "Projects", "Reports", "Settings")
PAGE_WEIGHTS = (30, 30, 22, 10, 8)
STAY_ON_PAGE = 0.55

DB = logging.getLogger("app.db")
HTTP = logging.getLogger("app.http")
AUTH = logging.getLogger("app.auth")


class ValidationError(ValueError):
    """A user's mistake (a duplicate key, a bad e-mail): refused, not a fault."""


class UpstreamTimeoutError(TimeoutError):
    """The exchange-rate service did not answer in time."""


# -- the simulated clock ------------------------------------------------------------------------


@dataclass
class SimClock:
    """Microseconds since the epoch; the app advances it as it "works"."""

    now_us: int

    def advance_ms(self, ms: float) -> None:
        self.now_us += max(int(ms * 1000), 1)


@dataclass
class TimePatcher:
    """A loguru patcher: each record's time from the simulated clock (plus a few tens of µs of
    logging cost), and ``duration_ms`` of end records from the simulated start."""

    clock: SimClock
    rng: random.Random
    starts: dict[str, int] = field(default_factory=dict)
    records: int = 0

    def __call__(self, record: Any) -> None:
        self.records += 1
        clock = self.clock
        clock.now_us += 20 + int(self.rng.random() * 180)
        moment = clock.now_us / US
        # loguru's own datetime subclass: its "text" formats the time with loguru's tokens.
        record["time"] = type(record["time"]).fromtimestamp(moment, tz=datetime.timezone.utc)
        extra = record["extra"]
        event = extra.get("event")
        if event == "start":
            self.starts[extra["operation_id"]] = clock.now_us
        elif event in ("complete", "failed"):
            started = self.starts.pop(extra.get("operation_id"), None)
            if started is not None:
                extra["duration_ms"] = round((clock.now_us - started) / 1000, 3)


# -- the plan: users, sessions, interactions in time order ---------------------------------------


@dataclass(frozen=True)
class Session:
    session_id: str
    user_id: str
    start_us: int
    clicks: int
    role: str


@dataclass(frozen=True)
class Click:
    """One interaction as planned: when, whose session, which page, its correlation id."""

    start_us: int
    session: int
    seq: int
    page: str
    correlation_id: str


def seeded_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def session_start(rng: random.Random, start_us: int) -> int:
    """A moment in the 14 days, weighted to weekday office hours (UTC)."""
    while True:
        day = rng.randrange(DAYS)
        hour = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 2, 4, 8, 12, 12, 11, 10, 9, 11, 12, 11, 9, 6,
                                              4, 3, 2, 2, 1, 1])[0]
        moment = start_us + (day * 86_400 + hour * 3_600 + rng.random() * 3_600) * US
        weekday = datetime.datetime.fromtimestamp(moment / US, datetime.timezone.utc).weekday()
        if weekday < 5 or rng.random() < 0.3:
            return int(moment)


def click_counts(rng: random.Random, sessions: int, total: int) -> list[int]:
    """Clicks per session: lognormal (a few long sessions, many short ones), summing to ``total``."""
    raw = [rng.lognormvariate(0, 1.0) for _ in range(sessions)]
    scale = total / sum(raw)
    counts = [max(1, round(value * scale)) for value in raw]
    while sum(counts) != total:  # rounding: nudge random sessions until the total is exact
        index = rng.randrange(sessions)
        step = 1 if sum(counts) < total else -1
        if counts[index] + step >= 1:
            counts[index] += step
    return counts


def plan_sessions(rng: random.Random, sessions: int, interactions: int, start_us: int) -> list[Session]:
    users = [f"user_{n:04d}" for n in range(1, USERS + 1)]
    activity = [1 / (rank + 5) for rank in range(USERS)]  # a few heavy users, a long tail
    owners = users[:sessions] + rng.choices(users, weights=activity, k=max(sessions - USERS, 0))
    rng.shuffle(owners)
    counts = click_counts(rng, sessions, interactions)
    roles = {user: rng.choices(("viewer", "editor", "admin"), weights=(60, 35, 5))[0] for user in users}
    return [Session(seeded_uuid(rng), owner, session_start(rng, start_us), clicks, roles[owner])
            for owner, clicks in zip(owners, counts, strict=True)]


def next_page(rng: random.Random, page: str) -> str:
    return page if rng.random() < STAY_ON_PAGE else rng.choices(PAGES, weights=PAGE_WEIGHTS)[0]


def plan_clicks(rng: random.Random, sessions: list[Session], end_us: int) -> list[Click]:
    """Every session's clicks (think time between them lognormal, median 8 s), in start order.

    A session that would run past the end starts earlier instead, so every planned click happens.
    """
    clicks: list[Click] = []
    for index, session in enumerate(sessions):
        offsets = [0]
        for _ in range(session.clicks - 1):
            offsets.append(offsets[-1] + int(min(rng.lognormvariate(math.log(8), 1.0), 900) * US))
        start = min(session.start_us, end_us - offsets[-1] - 60 * US)
        page = PAGES[0]  # a session opens on the default page
        for seq, offset in enumerate(offsets):
            clicks.append(Click(start + offset, index, seq, page, f"req_{rng.getrandbits(48):012x}"))
            page = next_page(rng, page)
    clicks.sort(key=lambda click: click.start_us)
    return clicks


# -- the app: pages and their operations ---------------------------------------------------------

@dataclass
class App:
    """The simulated app: a seeded random source and the clock it spends time on."""

    rng: random.Random
    clock: SimClock
    next_key: int = 1

    def spend(self, median_ms: float, sigma: float = 0.6) -> float:
        ms = self.rng.lognormvariate(math.log(median_ms), sigma)
        self.clock.advance_ms(ms)
        return ms

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def key(self) -> str:
        self.next_key += 1
        return f"CL{self.next_key:07d}"


def query(app: App, sql: str, median_ms: float, rows: int) -> int:
    """A database call: a stdlib ``app.db`` line; now and then the database is locked."""
    ms = app.spend(median_ms)
    if app.chance(0.001):
        raise sqlite3.OperationalError("database is locked")
    DB.info("%s (%d rows, %.1f ms)", sql, rows, ms)
    return rows


def _http_get(app: App, url: str) -> dict[str, float]:
    ms = app.spend(120, 0.7)
    if app.chance(0.06):
        raise UpstreamTimeoutError(f"{url} did not answer within 5.0 s")
    if ms > 400:
        HTTP.warning("slow response from %s: %.0f ms", url, ms)
    else:
        HTTP.info("GET %s 200 (%.0f ms)", url, ms)
    return {"EUR": 1.0, "USD": 1.08 + app.rng.random() / 100}


@with_correlation_logging("fetch_exchange_rates", lambda app, base: {"base": base})
def fetch_exchange_rates(app: App, base: str) -> dict[str, float]:
    return _http_get(app, f"https://rates.example.net/v2/latest?base={base}")


@with_correlation_logging("create_client", lambda app, data: {"client_key": data["key"]}, expected=(ValidationError,))
def create_client(app: App, data: dict[str, str]) -> None:
    app.spend(4)
    if app.chance(0.08):
        raise ValidationError(f"A client with key '{data['key']}' already exists.")
    if app.chance(0.04):
        raise ValidationError(f"'{data['email']}' is not a valid e-mail address.")
    query(app, "INSERT INTO clients (key, name, email) VALUES (?, ?, ?)", 3, 1)
    logger.info("created client {}", data["key"])


def render_dashboard(app: App) -> None:
    with correlation_logger.track_operation("render_dashboard_page"):
        with correlation_logger.track_operation("load_kpis", {"period": app.rng.choice(("7d", "30d", "90d"))}):
            query(app, "SELECT kpi, value FROM kpi_daily WHERE day >= ?", 25, app.rng.randint(7, 90))
        with correlation_logger.track_operation("load_recent_activity"):
            rows = query(app, "SELECT * FROM activity ORDER BY at DESC LIMIT 50", 12, 50)
        with correlation_logger.track_operation("build_charts", {"charts": 4}):
            app.spend(35)
        logger.info("dashboard rendered: {} activity rows", rows)


def render_clients(app: App) -> None:
    with correlation_logger.track_operation("render_clients_page", {"filter": app.rng.choice(("all", "active"))}):
        with correlation_logger.track_operation("list_clients", {"page": app.rng.randint(1, 12)}):
            rows = query(app, "SELECT * FROM clients ORDER BY name LIMIT 25 OFFSET ?", 10, app.rng.randint(5, 25))
        total = query(app, "SELECT count(*) FROM clients WHERE active", 3, 1)
        logger.info("listed {} of {} clients", rows, total * 400 + rows)
        if app.chance(0.2):
            key = app.key()
            try:
                create_client(app, {"key": key, "email": f"ops@{key.lower()}.example"})
            except ValidationError:
                logger.info("showed the validation message for {}", key)
        elif app.chance(0.08):
            with correlation_logger.track_operation("update_client", {"client_key": app.key()}):
                query(app, "UPDATE clients SET name = ?, email = ? WHERE key = ?", 4, 1)
        app.spend(15)


def summarise_budgets(app: App, rows: int) -> float:
    budgets = {"spent": app.rng.random() * rows}
    if app.chance(0.005):
        return budgets["budget"] / rows  # a real bug: a project without a budget fails the run
    return budgets["spent"]


def render_projects(app: App) -> None:
    with correlation_logger.track_operation("render_projects_page"):
        with correlation_logger.track_operation("list_projects", {"status": app.rng.choice(("open", "all"))}):
            rows = query(app, "SELECT * FROM projects WHERE status = ?", 18, app.rng.randint(3, 40))
        with correlation_logger.track_operation("load_timesheets", {"weeks": 4}):
            hours = query(app, "SELECT project_id, sum(hours) FROM timesheets GROUP BY project_id", 30, rows)
        spent = summarise_budgets(app, hours)
        logger.info("{} projects, {:.0f} hours booked", rows, spent)
        if app.chance(0.12):
            name = f"P-{app.rng.randint(1000, 9999)}"
            try:
                with correlation_logger.track_operation("create_project", {"project": name},
                                                        expected=(ValidationError,)):
                    app.spend(5)
                    if app.chance(0.08):
                        raise ValidationError(f"A project named {name} already exists for this client.")
                    query(app, "INSERT INTO projects (name, client_id) VALUES (?, ?)", 3, 1)
            except ValidationError:
                logger.info("showed the validation message for {}", name)
        app.spend(20)


def render_reports(app: App) -> None:
    with correlation_logger.track_operation("render_reports_page"):
        kind = app.rng.choice(("revenue", "utilisation", "aging"))
        logger.info("report {} not in the cache (key {:x})", kind, app.rng.getrandbits(32))
        with correlation_logger.track_operation("generate_report", {"report": kind}):
            rows = query(app, f"SELECT * FROM report_{kind} WHERE month = ?", 150, app.rng.randint(50, 2000))
            try:
                fetch_exchange_rates(app, "EUR")
            except UpstreamTimeoutError:
                logger.warning("exchange rates unavailable; report {} uses yesterday's rates", kind)
            app.spend(200, 0.8)
            logger.info("report {} built from {} rows", kind, rows)
        app.spend(40)


def render_settings(app: App) -> None:
    with correlation_logger.track_operation("render_settings_page"):
        query(app, "SELECT * FROM preferences WHERE user_id = ?", 3, 1)
        query(app, "SELECT * FROM notification_rules WHERE user_id = ?", 3, 4)
        if app.chance(0.3):
            try:
                theme = app.rng.choice(("light", "dark"))
                with correlation_logger.track_operation("save_preferences", {"theme": theme},
                                                        expected=(ValidationError,)):
                    app.spend(6)
                    if app.chance(0.08):
                        raise ValidationError("the time zone is not one of the IANA names")
                    query(app, "UPDATE preferences SET value = ? WHERE user_id = ? AND name = ?", 3, 1)
            except ValidationError:
                logger.info("showed the validation message for the settings form")
        app.spend(10)


RENDER: dict[str, Callable[[App], None]] = {
    "Dashboard": render_dashboard, "Clients": render_clients, "Projects": render_projects,
    "Reports": render_reports, "Settings": render_settings,
}


def interaction(app: App, click: Click, session: Session) -> None:
    """One click: the session's fields bound, a scope with the planned id, the script run."""
    app.clock.now_us = max(app.clock.now_us, click.start_us)
    with logger.contextualize(session_id=session.session_id, user_id=session.user_id, page=click.page), \
            correlation_scope(click.correlation_id):
        if click.seq == 0:
            AUTH.info("session started for %s", session.user_id)
        try:
            with correlation_logger.track_operation("script_run"):
                started = app.clock.now_us
                AUTH.info("%s may open %s (role %s)", session.user_id, click.page, session.role)
                app.spend(3, 0.4)
                RENDER[click.page](app)
                logger.info("page {} rendered in {:.0f} ms", click.page, (app.clock.now_us - started) / 1000)
        except (sqlite3.OperationalError, KeyError):
            pass  # Streamlit shows the error; the run is already logged as failed


def scheduled_job(app: App, moment_us: int) -> None:
    """The background refresh, outside any interaction (correlation_id null, user anonymous)."""
    app.clock.now_us = max(app.clock.now_us, moment_us)
    logger.bind(job="refresh_rates").info("refreshed the exchange-rate cache ({} currencies)", 31)


# -- writing --------------------------------------------------------------------------------------


def events(clicks: list[Click], start_us: int, end_us: int) -> Iterator[tuple[int, Click | None]]:
    """The clicks and the scheduled job's runs, merged in time order."""
    jobs = range(start_us + JOB_EVERY_S * US, end_us, JOB_EVERY_S * US)
    starts = [click.start_us for click in clicks]
    previous = 0
    for job in jobs:
        upto = bisect.bisect_left(starts, job)
        for index in range(previous, upto):
            yield clicks[index].start_us, clicks[index]
        previous = upto
        yield job, None
    for index in range(previous, len(clicks)):
        yield clicks[index].start_us, clicks[index]


def write_folder(folder: Path, json_format: str, interactions: int, sessions_n: int, seed: int) -> dict[str, Any]:
    """Run the simulated app for 14 days into ``folder`` through the real ``setup_logging``."""
    end_us = int(END.timestamp() * US)
    start_us = end_us - DAYS * 86_400 * US
    rng = random.Random(seed)
    sessions = plan_sessions(rng, sessions_n, interactions, start_us)
    clicks = plan_clicks(rng, sessions, end_us)
    clock = SimClock(start_us)
    patcher = TimePatcher(clock, random.Random(seed + 1))
    app = App(random.Random(seed + 2), clock)

    clean_log_env()
    logger.configure(patcher=patcher)  # before setup_logging(), which chains it ahead of its own
    handle = setup_logging(log_path=str(folder / "app.jsonl"), json_format=json_format, rotation="10 MB",
                           compression="gz", retention=None, console=False)
    started = time.perf_counter()
    step = max(len(clicks) // 20, 1)
    done = 0
    try:
        for moment, click in events(clicks, start_us, end_us):
            if click is None:
                scheduled_job(app, moment)
                continue
            interaction(app, click, sessions[click.session])
            done += 1
            if done % step == 0:
                progress(json_format, done, len(clicks), patcher.records, time.perf_counter() - started)
    finally:
        closing = time.perf_counter()
        handle.close()  # waits for the pending compressions and their id indexes
        logger.configure(patcher=lambda record: None)
    middle = clicks[len(clicks) // 2]
    return {
        "records_logged": patcher.records,
        "interactions_planned": len(clicks),
        "open_operations_left": len(patcher.starts),
        "write_s": round(closing - started, 1),
        "close_s": round(time.perf_counter() - closing, 1),
        "lookup": {"correlation_id": middle.correlation_id, "session_id": sessions[middle.session].session_id},
    }


def progress(json_format: str, done: int, total: int, records: int, elapsed: float) -> None:
    eta = elapsed / done * (total - done)
    print(f"  {json_format}: {done / total:4.0%}  {done:,}/{total:,} interactions, {records:,} records, "
          f"{elapsed:.0f} s ({elapsed / max(records, 1) * 1e6:.0f} µs/record), ~{eta:.0f} s to go",
          file=sys.stderr, flush=True)


# -- checking what was written --------------------------------------------------------------------


@dataclass
class Tally:
    """What a read-back of the folder found."""

    records: int = 0
    bytes: int = 0
    out_of_order: int = 0
    duration_mismatches: int = 0
    max_duration_gap_ms: float = 0.0
    first_ts: float | None = None
    last_ts: float = 0.0
    levels: Counter = field(default_factory=Counter)
    end_events: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    cids: set = field(default_factory=set)
    failed_cids: set = field(default_factory=set)
    sessions: set = field(default_factory=set)
    users: set = field(default_factory=set)
    pages: Counter = field(default_factory=Counter)
    starts: dict = field(default_factory=dict)
    lookup_records: Counter = field(default_factory=Counter)


def flat_view(obj: dict[str, Any], json_format: str) -> tuple[float, dict[str, Any], str]:
    """(epoch seconds, the correlation fields, level name) of one parsed line in either format."""
    if json_format == "flat":
        stamp = datetime.datetime.fromisoformat(obj["timestamp"].replace("Z", "+00:00")).timestamp()
        return stamp, obj, obj["level"]
    record = obj["record"]
    return record["time"]["timestamp"], record["extra"], record["level"]["name"]


def tally_line(tally: Tally, line: bytes, json_format: str, lookup: dict[str, str], loads: Any) -> None:
    obj = loads(line)
    stamp, fields, level = flat_view(obj, json_format)
    tally.records += 1
    tally.bytes += len(line)
    if stamp < tally.last_ts:
        tally.out_of_order += 1
    tally.last_ts = stamp
    if tally.first_ts is None:
        tally.first_ts = stamp
    tally.levels[level] += 1
    cid = fields.get("correlation_id")
    if cid:
        tally.cids.add(cid)
        tally.sessions.add(fields.get("session_id"))
        tally.users.add(fields.get("user_id"))
        if fields.get("event") == "start" and fields.get("operation") == "script_run":
            tally.pages[fields.get("page")] += 1
    for name, value in lookup.items():
        tally.lookup_records[name] += fields.get(name) == value
    event = fields.get("event")
    if event == "start":
        tally.starts[fields["operation_id"]] = stamp
    elif event in ("complete", "failed"):
        tally.end_events[fields.get("operation")] += 1
        started = tally.starts.pop(fields.get("operation_id"), None)
        if started is not None:
            gap = abs((stamp - started) * 1000 - fields["duration_ms"])
            tally.max_duration_gap_ms = max(tally.max_duration_gap_ms, gap)
            tally.duration_mismatches += gap > 0.01
        if event == "failed":
            tally.failed["expected" if (fields.get("error") or {}).get("expected") else "error"] += 1
            tally.failed_cids.add(cid)


def check_folder(folder: Path, json_format: str, lookup: dict[str, str]) -> dict[str, Any]:
    """Read every line back in file order (rotated archives by name, then the live file) and check it."""
    import orjson

    tally = Tally()
    files = [p for p in log_files(folder) if p.name.endswith((".jsonl", ".jsonl.gz"))]
    for path in files:
        for line in iter_lines(path):
            if line.strip():
                tally_line(tally, line, json_format, lookup, orjson.loads)
    archives = [p for p in files if p.suffix == ".gz"]
    first, last = tally.first_ts or 0.0, tally.last_ts
    return {
        "records": tally.records,
        "uncompressed_bytes": tally.bytes,
        "on_disk_bytes": sum(p.stat().st_size for p in files),
        "archives": len(archives),
        "indexed_archives": sum(Path(f"{p}.idx").exists() for p in archives),
        "live_files": [p.name for p in files if p.suffix != ".gz"],
        "interactions": len(tally.cids),
        "sessions": len(tally.sessions),
        "users": len(tally.users),
        "pages": dict(tally.pages.most_common()),
        "levels": dict(tally.levels.most_common()),
        "operations_ended": dict(sorted(tally.end_events.items())),
        "failed_operations": dict(tally.failed),
        "interactions_with_a_failure": len(tally.failed_cids),
        "first": datetime.datetime.fromtimestamp(first, datetime.timezone.utc).isoformat(),
        "last": datetime.datetime.fromtimestamp(last, datetime.timezone.utc).isoformat(),
        "span_days": round((last - first) / 86_400, 2),
        "out_of_order_records": tally.out_of_order,
        "duration_mismatches": tally.duration_mismatches,
        "max_duration_gap_ms": round(tally.max_duration_gap_ms, 4),
        "unended_operations": len(tally.starts),
        "lookup_records": dict(tally.lookup_records),
    }


# -- the cache ------------------------------------------------------------------------------------


def parameters(json_format: str, scale: float, seed: int) -> dict[str, Any]:
    return {"generator_version": GENERATOR_VERSION, "format": json_format, "scale": scale, "seed": seed,
            "interactions": round(INTERACTIONS[json_format] * scale), "sessions": round(SESSIONS * scale),
            "days": DAYS, "end": END.isoformat(), "index_version": INDEX_VERSION}


def cached(folder: Path, wanted: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest of a complete folder made with these parameters, else None."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("parameters") != wanted:
        return None
    if not all((folder / name).exists() for name in manifest.get("files", [])):
        return None
    return manifest


def default_folder(json_format: str, scale: float) -> Path:
    return DEFAULT_ROOT / (json_format if scale == 1 else f"{json_format}-x{scale:g}")


def clear(folder: Path) -> None:
    """Remove a folder this generator made (it holds our manifest, or nothing); refuse any other."""
    if not folder.exists():
        return
    if (folder / MANIFEST).exists() or not any(folder.iterdir()):
        shutil.rmtree(folder)
        return
    raise SystemExit(f"{folder} holds files but no {MANIFEST}: not ours, so not replaced; pick another --out")


def generate(folder: Path, json_format: str, scale: float = 1.0, seed: int = SEED) -> dict[str, Any]:
    """Write the folder afresh (into a sibling ``.partial`` folder, renamed when complete and checked)."""
    wanted = parameters(json_format, scale, seed)
    partial = folder.with_name(folder.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)  # a crashed earlier run of ours
    partial.mkdir(parents=True)
    started = time.perf_counter()
    print(f"writing the {json_format} folder ({wanted['interactions']:,} interactions) into {partial} ...",
          file=sys.stderr, flush=True)
    written = write_folder(partial, json_format, wanted["interactions"], wanted["sessions"], seed)
    checking = time.perf_counter()
    print(f"  {json_format}: written in {checking - started:.0f} s; reading every line back to check it ...",
          file=sys.stderr, flush=True)
    check = check_folder(partial, json_format, written["lookup"])
    problems = problems_in(check, written)
    manifest = {
        "parameters": wanted,
        "written": written,
        "check": check,
        "problems": problems,
        "files": sorted(p.name for p in partial.iterdir()),
        "generated_in_s": round(time.perf_counter() - started, 1),
        "check_s": round(time.perf_counter() - checking, 1),
        "machine": {key: value for key, value in machine_info().items()
                    if key in ("date", "cpu_model", "cores", "python", "git_commit", "library_files_modified")},
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    clear(folder)
    partial.rename(folder)
    if problems:
        print(f"  {json_format}: PROBLEMS: {problems}", file=sys.stderr)
    return manifest


def problems_in(check: dict[str, Any], written: dict[str, Any]) -> list[str]:
    """What the read-back found wrong (empty when the folder is as planned)."""
    problems = []
    if check["records"] != written["records_logged"]:
        problems.append(f"{written['records_logged']} records logged, {check['records']} on disk")
    for name in ("out_of_order_records", "duration_mismatches", "unended_operations"):
        if check[name]:
            problems.append(f"{name}: {check[name]}")
    if check["indexed_archives"] != check["archives"]:
        problems.append(f"{check['archives'] - check['indexed_archives']} archives without an id index")
    if check["span_days"] < DAYS - 0.5:
        problems.append(f"the records span {check['span_days']} days, not {DAYS}")
    return problems


def dataset(json_format: str, folder: Path | None = None, scale: float = 1.0, seed: int = SEED,
            force: bool = False) -> tuple[Path, dict[str, Any]]:
    """The folder for these parameters: reused when its manifest matches, else written now."""
    folder = folder or default_folder(json_format, scale)
    manifest = None if force else cached(folder, parameters(json_format, scale, seed))
    if manifest is not None:
        return folder, {**manifest, "reused": True}
    return folder, {**generate(folder, json_format, scale, seed), "reused": False}


def summary_line(json_format: str, manifest: dict[str, Any]) -> str:
    check = manifest["check"]
    made = "reused" if manifest["reused"] else f"made in {manifest['generated_in_s']:.0f} s"
    return (f"{json_format}: {check['records']:,} records, {check['uncompressed_bytes'] / 1e9:.2f} GB "
            f"({check['on_disk_bytes'] / 1e6:.0f} MB on disk), {check['archives']} archives + "
            f"{len(check['live_files'])} live, {check['interactions']:,} interactions, {check['sessions']:,} "
            f"sessions, {check['users']} users, {check['first'][:16]} .. {check['last'][:16]} "
            f"({made})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--format", choices=FORMATS, action="append",
                        help="flat or loguru (repeatable; default: both)")
    parser.add_argument("--out", type=Path, help=f"the folder (one format only; default {DEFAULT_ROOT}/<format>)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the sessions and interactions (0.1: ~100 MB)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--force", action="store_true", help="regenerate even if the folder is up to date")
    args = parser.parse_args()
    formats = args.format or list(FORMATS)
    if args.out and len(formats) > 1:
        parser.error("--out takes one --format")
    for json_format in formats:
        folder, manifest = dataset(json_format, args.out, args.scale, args.seed, args.force)
        print(summary_line(json_format, manifest), f"-> {folder}")
        if manifest["problems"]:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
