"""Logs at real volume (issue 22): ``st-logs`` and the Log Explorer on ~1 GB folders, against DuckDB and zcat.

    python benchmarks/volume.py                        # both formats, the 1 GB folders, 3 rounds
    python benchmarks/volume.py --quick                # the ~100 MB folders (scale 0.1), for iteration
    python benchmarks/volume.py --formats flat --only stats,trace --rounds 5

The folders are made once by ``volume_data.py`` (the library itself writing 14 days of a modest
app: rotation 10 MB + gz with id indexes, plus the live file) under ``/work/volume-data/`` and
reused while their manifest matches. On each format's folder, as separate processes timed by
wall clock (interpreter start-up and imports included, as a user sees them):

- ``stats``: ``st-logs stats FOLDER`` vs ``stats_duckdb``, DuckDB's per-operation count, errors,
  expected failures and nearest-rank p50/p95/p99 (``quantile_disc``) over the same files, in a
  ``python -c`` process (the SQL of the field notes: typed ``read_json`` columns for the flat
  format, ``read_ndjson_objects`` + ``json_extract_string`` for loguru's);
- ``trace`` / ``session``: ``st-logs trace ID FOLDER`` / ``st-logs session SID FOLDER`` vs
  ``*_zcat`` (``{ zcat ARCHIVES; cat LIVE; } | grep -F ID``) vs ``*_duckdb`` (``WHERE
  correlation_id = ?`` / ``session_id = ?``); the ids are the manifest's, the interaction in the
  middle of the 14 days and its session;
- ``explorer``: the Log Explorer page under AppTest in a fresh process (``volume_explorer.py``):
  first open with the default filters, a rerun after changing the minimum level, a rerun that
  changes nothing, and the peak RSS the page added.

Every measurement runs once untimed first (warm page cache, compiled bytecode; its output is
checked: same counts from every tool), then ``--rounds`` times, all formats' measurements in
one shuffled order per round. Reported: medians with min-max, ratios of medians, and the
issue's goals met or not. A Markdown table is printed and everything is written to
``benchmarks/volume_results.json`` (or ``--out``). Never part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import HERE, REPO, last_json_line, machine_info, ratio, summarize
from volume_data import FORMATS, dataset

from streamlit_extension.sinks.sketch import RELATIVE_ERROR

GROUPS = ("stats", "trace", "session", "explorer")
DASH = "\u2013"  # an en dash, for ranges in the Markdown table
EXPLORER_PAGE = "streamlit_extension.explorer.page.render_log_explorer_page"  # what is measured by default
EXPLORER_METRICS = ("first_open_s", "rerun_changed_s", "rerun_same_s", "rss_added_mb", "peak_rss_mb")


# -- DuckDB, in its own process ------------------------------------------------------------------

STATS_FLAT = """
SELECT operation, count(*) AS count,
  count(*) FILTER (WHERE event='failed' AND coalesce(error.expected,false)=false) AS errors,
  count(*) FILTER (WHERE event='failed' AND error.expected) AS expected,
  quantile_disc(duration_ms,0.50) p50, quantile_disc(duration_ms,0.95) p95, quantile_disc(duration_ms,0.99) p99
FROM read_json({files}, format='newline_delimited',
  columns={{operation:'VARCHAR', event:'VARCHAR', duration_ms:'DOUBLE', error:'STRUCT(expected BOOLEAN)'}})
WHERE event IN ('complete','failed') AND operation IS NOT NULL AND operation<>''
GROUP BY operation ORDER BY operation
"""

STATS_LOGURU = """
WITH r AS (
  SELECT json_extract_string(json, ['$.record.extra.operation', '$.record.extra.event',
                                    '$.record.extra.duration_ms', '$.record.extra.error.expected']) AS v
  FROM read_ndjson_objects({files}))
SELECT v[1] AS operation, count(*) AS count,
  count(*) FILTER (WHERE v[2]='failed' AND coalesce(v[4]::BOOLEAN,false)=false) AS errors,
  count(*) FILTER (WHERE v[2]='failed' AND v[4]::BOOLEAN) AS expected,
  quantile_disc(v[3]::DOUBLE,0.50) p50, quantile_disc(v[3]::DOUBLE,0.95) p95, quantile_disc(v[3]::DOUBLE,0.99) p99
FROM r
WHERE v[2] IN ('complete','failed') AND v[1] IS NOT NULL AND v[1]<>''
GROUP BY v[1] ORDER BY v[1]
"""

LOOKUP_FLAT = """
SELECT timestamp, level, message, operation, event, duration_ms
FROM read_json({files}, format='newline_delimited',
  columns={{timestamp:'VARCHAR', level:'VARCHAR', message:'VARCHAR', correlation_id:'VARCHAR',
           session_id:'VARCHAR', operation:'VARCHAR', event:'VARCHAR', duration_ms:'DOUBLE'}})
WHERE {column} = ? ORDER BY timestamp
"""

LOOKUP_LOGURU = """
SELECT json_extract_string(json, ['$.record.time.repr', '$.record.level.name', '$.record.message',
                                  '$.record.extra.operation', '$.record.extra.event',
                                  '$.record.extra.duration_ms']) AS v
FROM read_ndjson_objects({files})
WHERE json_extract_string(json, '$.record.extra.{column}') = ?
ORDER BY v[1]
"""

DUCKDB_CHILD = """
import json, sys
import duckdb
sql, params = sys.argv[1], sys.argv[2:]
connection = duckdb.connect()
connection.execute("SET enable_progress_bar = false")  # it prints on stdout in long queries
rows = connection.execute(sql, params).fetchall()
print(json.dumps({"rows": len(rows), "result": rows if len(rows) <= 100 else None}, default=str))
"""


def duckdb_files(folder: Path) -> str:
    """The same files the CLI reads: the archives and the live file(s), as a DuckDB list of globs."""
    return f"['{folder}/*.jsonl.gz', '{folder}/*.jsonl']"


def duckdb_sql(json_format: str, kind: str, folder: Path) -> str:
    files = duckdb_files(folder)
    if kind == "stats":
        return (STATS_FLAT if json_format == "flat" else STATS_LOGURU).format(files=files)
    template = LOOKUP_FLAT if json_format == "flat" else LOOKUP_LOGURU
    return template.format(files=files, column=kind)


# -- the commands --------------------------------------------------------------------------------


def st_logs() -> list[str]:
    """The ``st-logs`` console script of this interpreter's environment (else ``-m``, the same program)."""
    script = Path(sys.executable).with_name("st-logs")
    return [str(script)] if script.exists() else [sys.executable, "-m", "streamlit_extension.logs"]


def log_file_names(folder: Path) -> tuple[list[str], list[str]]:
    """The archives and the live file(s): what ``st-logs`` reads (``*.jsonl.gz``, ``*.jsonl``)."""
    return sorted(map(str, folder.glob("*.jsonl.gz"))), sorted(map(str, folder.glob("*.jsonl")))


def zcat_grep(folder: Path, needle: str) -> list[str]:
    archives, live = log_file_names(folder)
    script = (f"{{ zcat -- {shlex.join(archives)}; cat -- {shlex.join(live)}; }} "
              f"| grep -F -- {shlex.quote(needle)}")
    return ["sh", "-c", script]


@dataclass
class Target:
    """One format's folder and what the benchmark looks up in it."""

    json_format: str
    folder: Path
    manifest: dict[str, Any]

    @property
    def cid(self) -> str:
        return self.manifest["written"]["lookup"]["correlation_id"]

    @property
    def sid(self) -> str:
        return self.manifest["written"]["lookup"]["session_id"]

    def expected_lines(self, column: str) -> int:
        return self.manifest["check"]["lookup_records"][column]


def commands(target: Target, groups: list[str]) -> dict[str, list[str]]:
    """Every timed command for one folder (the explorer is started separately)."""
    folder, fmt = target.folder, target.json_format
    out: dict[str, list[str]] = {}
    if "stats" in groups:
        out["stats"] = [*st_logs(), "stats", str(folder)]
        out["stats_duckdb"] = [sys.executable, "-c", DUCKDB_CHILD, duckdb_sql(fmt, "stats", folder)]
    for group, column, needle in (("trace", "correlation_id", target.cid), ("session", "session_id", target.sid)):
        if group in groups:
            out[group] = [*st_logs(), group, needle, str(folder)]
            out[f"{group}_zcat"] = zcat_grep(folder, needle)
            out[f"{group}_duckdb"] = [sys.executable, "-c", DUCKDB_CHILD, duckdb_sql(fmt, column, folder), needle]
    return out


def child_env(target: Target) -> dict[str, str]:
    """The caller's environment without ``LOG_*``, plus what the Explorer needs to open on the folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOG_")}
    env.update(LOG_EXPLORER_USERS="localhost", LOG_FILE=str(target.folder / "app.jsonl"))
    return env


def run_command(command: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env, cwd=REPO)
    return time.perf_counter() - started, done


def run_explorer(target: Target, page: Path | None, timeout: float) -> dict[str, Any]:
    """One ``volume_explorer.py`` process (``page``: a page file instead of the Log Explorer's own
    page); its JSON result (wall time of the process added)."""
    listing = folder_listing(target.folder)
    command = [sys.executable, str(HERE / "volume_explorer.py"), *([str(page)] if page else []),
               "--timeout", str(timeout)]
    seconds, done = run_command(command, child_env(target))
    if done.returncode != 0:
        raise RuntimeError(f"the explorer child failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    result = last_json_line(done.stdout.decode())
    result["process_s"] = seconds
    if folder_listing(target.folder) != listing:
        raise RuntimeError(f"the explorer run changed {target.folder}: the data set is no longer the measured one")
    return result


def folder_listing(folder: Path) -> list[tuple[str, int]]:
    return sorted((p.name, p.stat().st_size) for p in folder.iterdir())


# -- checks (on the untimed warm-up run's output) -------------------------------------------------


def check(name: str, done: subprocess.CompletedProcess, target: Target) -> dict[str, Any]:
    """Did the command find what the folder holds? Same counts from every tool."""
    out = done.stdout.decode(errors="replace")
    result: dict[str, Any] = {"returncode": done.returncode}
    if name.endswith("_zcat"):
        column = "correlation_id" if name.startswith("trace") else "session_id"
        result["lines"] = out.count("\n")
        result["ok"] = result["lines"] == target.expected_lines(column)
    elif name.endswith("_duckdb"):
        rows = last_json_line(out) if done.returncode == 0 else {}
        result["rows"] = rows.get("rows")
        if name == "stats_duckdb":
            result["operations"] = {row[0]: row[1:] for row in rows.get("result") or []}
            result["ok"] = bool(result["operations"])
        else:
            column = "correlation_id" if name.startswith("trace") else "session_id"
            result["ok"] = result["rows"] == target.expected_lines(column)
    else:
        needle = {"trace": target.cid, "session": target.sid}.get(name, "")
        result["ok"] = done.returncode == 0 and needle in out
        result["stdout_head"] = out[:400]
    if not result["ok"]:
        result["stderr_tail"] = done.stderr.decode(errors="replace")[-600:]
    return result


def _same_row(mine: dict[str, Any] | None, theirs: list[Any] | None) -> bool:
    """Counts exactly; percentiles exactly, or within the sketch's error where stats says approximate."""
    if mine is None or theirs is None:
        return False
    counts = [mine[name] for name in ("count", "errors", "expected")]
    if counts != theirs[:3]:
        return False
    error = RELATIVE_ERROR if mine.get("approximate") else 0.0
    return all(mine[q] == want or (mine[q] is not None and want is not None
                                   and abs(mine[q] - want) <= error * want * (1 + 1e-9))
               for q, want in zip(("p50", "p95", "p99"), theirs[3:], strict=True))


def stats_agree(target: Target, duckdb_check: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """``st-logs stats --json`` against DuckDB's rows: the same operations, counts, errors and
    expected failures, and percentiles (both nearest-rank) within the sketch's stated error."""
    done = subprocess.run([*st_logs(), "stats", "--json", str(target.folder)], capture_output=True, env=env)
    mine = {row["operation"]: row for row in json.loads(done.stdout)}
    theirs = {op: list(values) for op, values in duckdb_check.get("operations", {}).items()}
    differences = {op: (mine.get(op), theirs.get(op)) for op in set(mine) | set(theirs)
                   if not _same_row(mine.get(op), theirs.get(op))}
    return {"ok": not differences, "operations": len(mine), "differences": differences,
            "approximate": any(row.get("approximate") for row in mine.values())}


# -- rounds --------------------------------------------------------------------------------------


@dataclass
class Task:
    target: Target
    name: str  # a command's name, or "explorer"


def measure(tasks: list[Task], cmds: dict[str, dict[str, list[str]]], page: Path | None, timeout: float,
            samples: dict[str, dict[str, list[float]]], explorer_runs: dict[str, list[dict]]) -> None:
    """Run each task once, recording its time(s)."""
    for task in tasks:
        fmt = task.target.json_format
        if task.name == "explorer":
            result = run_explorer(task.target, page, timeout)
            explorer_runs[fmt].append(result)
            for metric in EXPLORER_METRICS:
                samples[fmt].setdefault(f"explorer_{metric}", []).append(result[metric])
            label = f"first {result['first_open_s']:.2f} s, reruns {result['rerun_changed_s']:.2f} / " \
                    f"{result['rerun_same_s']:.2f} s, +{result['rss_added_mb']:.0f} MB"
        else:
            seconds, done = run_command(cmds[fmt][task.name], child_env(task.target))
            if done.returncode not in (0, 1) or (done.returncode == 1 and not task.name.endswith("_zcat")):
                raise RuntimeError(f"{fmt} {task.name} failed: {done.stderr.decode()[-1000:]}")
            samples[fmt].setdefault(task.name, []).append(seconds)
            label = f"{seconds:.3f} s"
        print(f"    {fmt:6} {task.name:16} {label}", file=sys.stderr, flush=True)


def warm_up(targets: list[Target], cmds: dict[str, dict[str, list[str]]], groups: list[str], page: Path | None,
            timeout: float) -> dict[str, dict[str, Any]]:
    """Each command once, untimed, and its output checked; the explorer once (its result is a check)."""
    checks: dict[str, dict[str, Any]] = {}
    for target in targets:
        fmt = target.json_format
        env = child_env(target)
        checks[fmt] = {}
        for name, command in cmds[fmt].items():
            _, done = run_command(command, env)
            checks[fmt][name] = check(name, done, target)
        if "stats" in groups:
            checks[fmt]["stats_agree"] = stats_agree(target, checks[fmt]["stats_duckdb"], env)
        if "explorer" in groups:
            result = run_explorer(target, page, timeout)
            records = target.manifest["check"]["records"]
            # The page reads only what it must; it must still account for every record in range.
            checks[fmt]["explorer"] = {"ok": result["ok"] and result["first"]["in_range"] == records,
                                       "records_read": result["first"]["records"],
                                       "records_in_range": result["first"]["in_range"], "records_in_folder": records,
                                       "first_open_s": result["first_open_s"]}
        failed = [name for name, result in checks[fmt].items() if not result["ok"]]
        print(f"  {fmt}: warm-up done; checks {'FAILED: ' + ', '.join(failed) if failed else 'all ok'}",
              file=sys.stderr, flush=True)
    return checks


# -- results -------------------------------------------------------------------------------------

Measured = Callable[[dict[str, float | None]], float | None]
# (goal, group, what is measured, its unit, the limit); "faster than" goals are strict.
GOALS: tuple[tuple[str, str, Measured, str, float], ...] = (
    ("st-logs stats <= 0.5 s", "stats", lambda m: m.get("stats"), "s", 0.5),
    ("st-logs stats <= 0.25 x DuckDB", "stats", lambda m: ratio(m.get("stats"), m.get("stats_duckdb")), "x", 0.25),
    ("Explorer first open <= 3 s", "explorer", lambda m: m.get("explorer_first_open_s"), "s", 3.0),
    ("Explorer rerun, one widget changed <= 0.5 s", "explorer", lambda m: m.get("explorer_rerun_changed_s"), "s",
     0.5),
    ("Explorer rerun, nothing changed <= 0.5 s", "explorer", lambda m: m.get("explorer_rerun_same_s"), "s", 0.5),
    ("Explorer peak RSS added <= 200 MB", "explorer", lambda m: m.get("explorer_rss_added_mb"), "MB", 200.0),
    ("trace <= 0.1 x zcat | grep -F", "trace", lambda m: ratio(m.get("trace"), m.get("trace_zcat")), "x", 0.1),
    ("trace faster than DuckDB", "trace", lambda m: ratio(m.get("trace"), m.get("trace_duckdb")), "x", 1.0),
    ("session <= 0.1 x zcat | grep -F", "session", lambda m: ratio(m.get("session"), m.get("session_zcat")), "x",
     0.1),
    ("session faster than DuckDB", "session", lambda m: ratio(m.get("session"), m.get("session_duckdb")), "x", 1.0),
)

RATIOS = (("stats", "stats_duckdb"), ("trace", "trace_zcat"), ("trace", "trace_duckdb"),
          ("session", "session_zcat"), ("session", "session_duckdb"))


def format_result(target: Target, samples: dict[str, list[float]], groups: list[str]) -> dict[str, Any]:
    seconds = {name: summarize(values) for name, values in samples.items()}
    medians = {name: value["median"] for name, value in seconds.items()}
    goals = []
    for text, group, measured, unit, limit in GOALS:
        if group in groups:
            value = measured(medians)
            strict = "faster than" in text
            met = value is not None and (value < limit if strict else value <= limit)
            goals.append({"goal": text, "measured": value, "unit": unit, "limit": limit, "met": met})
    check = target.manifest["check"]
    return {
        "folder": str(target.folder),
        "dataset": {key: check[key] for key in ("records", "uncompressed_bytes", "on_disk_bytes", "archives",
                                                "live_files", "interactions", "sessions", "users", "first", "last")},
        "lookup": {"correlation_id": target.cid, "session_id": target.sid,
                   "trace_records": target.expected_lines("correlation_id"),
                   "session_records": target.expected_lines("session_id")},
        "samples": seconds,
        "ratios": {f"{a}/{b}": ratio(medians.get(a), medians.get(b)) for a, b in RATIOS
                   if a in medians and b in medians},
        "goals": goals,
    }


ROW_NAMES = {
    "stats": "`st-logs stats`", "stats_duckdb": "DuckDB per-operation stats",
    "trace": "`st-logs trace ID`", "trace_zcat": "`zcat | grep -F ID`", "trace_duckdb": "DuckDB `correlation_id = ?`",
    "session": "`st-logs session SID`", "session_zcat": "`zcat | grep -F SID`",
    "session_duckdb": "DuckDB `session_id = ?`",
    "explorer_first_open_s": "Explorer: first open", "explorer_rerun_changed_s": "Explorer: rerun, level changed",
    "explorer_rerun_same_s": "Explorer: rerun, nothing changed",
    "explorer_rss_added_mb": "Explorer: peak RSS added (MB)", "explorer_peak_rss_mb": "Explorer: peak RSS (MB)",
}


def table(results: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown: one row per measurement, one column group per format; then the goals."""
    formats = list(results)
    lines = ["| measurement | " + " | ".join(f"{f} median | {f} min{DASH}max" for f in formats) + " |",
             "|---|" + "---:|---|" * len(formats)]
    for name, label in ROW_NAMES.items():
        cells = []
        for fmt in formats:
            sample = results[fmt]["samples"].get(name)
            if not sample or sample["median"] is None:
                cells += ["", ""]
                continue
            unit = "" if name.endswith("_mb") else " s"
            digits = 0 if name.endswith("_mb") else 3 if sample["median"] < 10 else 1
            cells += [f"{sample['median']:.{digits}f}{unit}",
                      f"{sample['min']:.{digits}f}{DASH}{sample['max']:.{digits}f}"]
        if any(cells):
            lines.append(f"| {cell(label)} | " + " | ".join(cells) + " |")
    lines += ["", "| ratio of medians | " + " | ".join(formats) + " |", "|---|" + "---:|" * len(formats)]
    for key in results[formats[0]]["ratios"]:
        lines.append(f"| {key} | " + " | ".join(_num(results[f]["ratios"].get(key)) for f in formats) + " |")
    lines += ["", "| goal | " + " | ".join(formats) + " |", "|---|" + "---|" * len(formats)]
    for index, goal in enumerate(results[formats[0]]["goals"]):
        cells = []
        for fmt in formats:
            mine = results[fmt]["goals"][index]
            unit = " MB" if mine["unit"] == "MB" else " s" if mine["unit"] == "s" else "\u00d7"
            cells.append(f"{_num(mine['measured'])}{unit} {'**met**' if mine['met'] else 'not met'}")
        lines.append(f"| {cell(goal['goal'])} | " + " | ".join(cells) + " |")
    return lines


def cell(text: str) -> str:
    """Text for a Markdown table cell: a pipe would end the cell."""
    return text.replace("|", "\\|")


def _num(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


# -- main ----------------------------------------------------------------------------------------


def targets_for(formats: list[str], scale: float) -> list[Target]:
    out = []
    for fmt in formats:
        folder, manifest = dataset(fmt, scale=scale)
        if manifest["problems"]:
            raise SystemExit(f"{folder}: the generator's check found problems: {manifest['problems']}")
        out.append(Target(fmt, folder, manifest))
    return out


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the ~100 MB folders (scale 0.1)")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated: flat,loguru")
    parser.add_argument("--only", default=",".join(GROUPS), help=f"comma-separated groups: {','.join(GROUPS)}")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=22, help="the shuffle's seed")
    parser.add_argument("--explorer-page", type=Path, default=None,
                        help="a page file to measure instead of the Log Explorer's page (an older checkout's)")
    parser.add_argument("--explorer-timeout", type=float, default=600.0, help="AppTest's timeout per run (s)")
    parser.add_argument("--out", type=Path, default=HERE / "volume_results.json")
    args = parser.parse_args()
    args.formats = [f for f in args.formats.split(",") if f]
    args.only = [g for g in args.only.split(",") if g]
    for value, allowed in ((args.formats, FORMATS), (args.only, GROUPS)):
        if not value or set(value) - set(allowed):
            parser.error(f"choose from {', '.join(allowed)}")
    return args


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    machine = machine_info()
    targets = targets_for(args.formats, 0.1 if args.quick else 1.0)
    prepared = time.perf_counter()
    cmds = {t.json_format: commands(t, args.only) for t in targets}
    print("warm-up (untimed, checked) ...", file=sys.stderr, flush=True)
    checks = warm_up(targets, cmds, args.only, args.explorer_page, args.explorer_timeout)
    tasks = [Task(t, name) for t in targets for name in cmds[t.json_format]]
    tasks += [Task(t, "explorer") for t in targets if "explorer" in args.only]
    rng = random.Random(args.seed)
    samples: dict[str, dict[str, list[float]]] = {t.json_format: {} for t in targets}
    explorer_runs: dict[str, list[dict]] = {t.json_format: [] for t in targets}
    loads = []  # the machine is shared: how busy it was around each round
    for round_ in range(args.rounds):
        loads.append(round(os.getloadavg()[0], 2))
        print(f"  round {round_ + 1}/{args.rounds} (load average {loads[-1]})", file=sys.stderr, flush=True)
        rng.shuffle(tasks)
        measure(tasks, cmds, args.explorer_page, args.explorer_timeout, samples, explorer_runs)
    loads.append(round(os.getloadavg()[0], 2))
    results = {t.json_format: format_result(t, samples[t.json_format], args.only) for t in targets}
    lines = table(results)
    print("\n".join(lines))
    out = {
        "benchmark": "volume", "quick": args.quick, "rounds": args.rounds, "groups": args.only,
        "explorer_page": str(args.explorer_page or EXPLORER_PAGE), "machine": machine,
        "machine_at_end": {key: value for key, value in machine_info().items()
                           if key in ("git_commit", "load_average", "library_files_modified")},
        "load_average_per_round": loads,
        "data_ready_s": round(prepared - started, 1), "total_s": round(time.perf_counter() - started, 1),
        "results": results, "checks": checks, "explorer_runs": explorer_runs, "table": lines,
    }
    args.out.write_text(json.dumps(out, indent=1, default=str) + "\n")
    print(f"\n{out['total_s']:.0f} s in all; results in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
