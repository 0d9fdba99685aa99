"""The benchmark suite: this project side by side with loguru, stdlib + python-json-logger,
structlog, the original spec's design and a bare orjson floor.

    pip install -e '.[bench]'
    python benchmarks/run.py            # full run (about 15 minutes on 2 cores)
    python benchmarks/run.py --quick    # smaller samples and fewer rounds (about 3 minutes)
    python benchmarks/run.py --quick --only throughput,disabled

Every measurement runs in a fresh subprocess (``child.py``, ``streamlit_runs.py``,
``streamlit_server_runs.py``, ``trace_lookup.py``); within each group the configurations are
interleaved over several rounds, in a new random order each round, so drift on a noisy machine
hits them all alike. The table shows medians and min/max over rounds; ratios are ratios of
medians, with the spread of the per-round ratios beside them. Results go to
``benchmarks/results.json`` (or ``--out``). See ``docs/benchmarks.md`` for the method and the
findings.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import last_json_line, machine_info, ratio, start_otlp_endpoint, summarize  # noqa: E402
from configs import DESCRIPTIONS, THROUGHPUT_CONFIGS  # noqa: E402

# Typographic characters of the report, spelled by name so they read as intended, not as look-alikes of x and -.
TIMES = "\N{MULTIPLICATION SIGN}"
EN_DASH = "\N{EN DASH}"

GROUPS = ("throughput", "sporadic", "disabled", "concurrency", "memory", "streamlit", "trace", "failure_context")

PLANS = {
    "quick": {
        "throughput": {"n": 20_000, "warmup": 2_000, "blocks": 5, "rounds": 3},
        "sporadic": {"n": 300, "rounds": 3},
        "disabled": {"n": 200_000, "blocks": 5, "rounds": 3},
        "concurrency": {"n": 16_000, "rounds": 2, "rotation": "1 MB"},
        "memory": {"big": 200_000, "small": 10_000, "rounds": 1},
        "streamlit": {"rounds": 8, "runs": 6},
        "trace": {"mb": 50, "rounds": 3},
        "failure_context": {"n": 1_000, "blocks": 3, "rounds": 3},
    },
    "full": {
        "throughput": {"n": 50_000, "warmup": 5_000, "blocks": 5, "rounds": 7},
        "sporadic": {"n": 600, "rounds": 5},
        "disabled": {"n": 1_000_000, "blocks": 5, "rounds": 5},
        "concurrency": {"n": 80_000, "rounds": 3, "rotation": "1 MB"},
        "memory": {"big": 1_000_000, "small": 10_000, "rounds": 1},
        "streamlit": {"rounds": 25, "runs": 8},
        "trace": {"mb": 1024, "rounds": 5},
        "failure_context": {"n": 3_000, "blocks": 5, "rounds": 5},
    },
}

# (name, numerator, denominator, goal): lower is better, goal is a maximum.
THROUGHPUT_RATIOS = [
    ("default / loguru", "ours-default", "loguru", 1.15),
    ("flat / loguru", "ours-flat", "loguru", 0.50),
    ("flat / stdlib-pjl", "ours-flat", "stdlib-pjl", 1.0),
    ("structlog / loguru", "structlog", "loguru", None),
    ("structlog / flat", "structlog", "ours-flat", None),
    ("floor / loguru", "floor", "loguru", None),
    ("floor / flat", "floor", "ours-flat", None),
    ("spec / flat", "spec", "ours-flat", None),
    ("default+rotation / default", "ours-default-rot", "ours-default", None),
    ("flat+otel / flat", "ours-flat-otel", "ours-flat", 1.20),
    ("flat+traces / flat", "ours-flat-traces", "ours-flat", 1.20),
    # The same OpenTelemetry work done the peer's way (its LoggingHandler on stdlib): what the SDK costs.
    ("stdlib-pjl+otel / stdlib-pjl", "stdlib-pjl-otel", "stdlib-pjl", None),
    ("flat+otel / stdlib-pjl+otel", "ours-flat-otel", "stdlib-pjl-otel", None),
    # The floor under "flat / loguru": loguru's own work before any sink, ours included, starts.
    ("loguru front end / loguru", "loguru-frontend", "loguru", None),
    ("loguru front end / stdlib-pjl", "loguru-frontend", "stdlib-pjl", None),
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def child(args: list[str], timeout: float = 3600) -> dict:
    """Run one measurement script in a fresh interpreter; return its JSON result."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOG_")}
    env["PYTHONHASHSEED"] = "0"
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return last_json_line(done.stdout)


def interleave(jobs: list[Any], rounds: int, run: Callable[[Any], dict], rng: random.Random,
               label: Callable[[Any], str]) -> dict[Any, list[dict]]:
    """Each round runs every job once, in a fresh random order."""
    results: dict[Any, list[dict]] = {job: [] for job in jobs}
    for number in range(1, rounds + 1):
        order = list(jobs)
        rng.shuffle(order)
        started = time.perf_counter()
        for job in order:
            results[job].append(run(job))
        log(f"  round {number}/{rounds} done in {time.perf_counter() - started:.0f} s: "
            f"{', '.join(label(j) for j in order)}")
    return results


def paired(numerators: list[float], denominators: list[float], goal: float | None) -> dict:
    """Ratio of medians, and the spread of the per-round ratios (same round, close in time)."""
    value = ratio(statistics.median(numerators), statistics.median(denominators))
    per_round = [n / d for n, d in zip(numerators, denominators, strict=True) if d]
    return {
        "value": value,
        "per_round": summarize(per_round),
        "goal": goal,
        "met": None if goal is None or value is None else value <= goal,
    }


def verified(rows: list[dict]) -> bool:
    return all(row.get("verify", {}).get("ok", True) for row in rows)


# -- groups -------------------------------------------------------------------------------------


def run_throughput(plan: dict, rng: random.Random) -> dict:
    def one(config: str) -> dict:
        return child([str(HERE / "child.py"), "throughput", "--config", config, "--n", str(plan["n"]),
                      "--warmup", str(plan["warmup"]), "--blocks", str(plan["blocks"])])

    raw = interleave(list(THROUGHPUT_CONFIGS), plan["rounds"], one, rng, str)
    configs = {}
    for name, rows in raw.items():
        configs[name] = {"description": DESCRIPTIONS[name], **summarize([r["us_per_record"] for r in rows]),
                         "mean_of_blocks": summarize([r["us_per_record_mean"] for r in rows]),
                         "verified": verified(rows), "verify": rows[-1]["verify"]}
    ratios = {}
    for label, num, den, goal in THROUGHPUT_RATIOS:
        ratios[label] = paired([r["us_per_record"] for r in raw[num]], [r["us_per_record"] for r in raw[den]], goal)
    return {"plan": plan, "unit": "µs/record (best of the sample's blocks)", "configs": configs, "ratios": ratios}


def run_sporadic(plan: dict, rng: random.Random) -> dict:
    def one(config: str) -> dict:
        return child([str(HERE / "child.py"), "sporadic", "--config", config, "--n", str(plan["n"])])

    raw = interleave(list(THROUGHPUT_CONFIGS), plan["rounds"], one, rng, str)
    configs = {name: {**summarize([r["us_per_call"] for r in rows]), "p90": summarize([r["p90_us"] for r in rows]),
                      "slowest": summarize([r["max_us"] for r in rows]), "verified": verified(rows)}
               for name, rows in raw.items()}
    ratios = {}
    for label, num, den, _ in THROUGHPUT_RATIOS:
        # Informational here: the goals were set for the hot loop.
        ratios[label] = paired([r["us_per_call"] for r in raw[num]], [r["us_per_call"] for r in raw[den]], None)
    return {"plan": plan, "unit": "µs/call, median over the sample's calls", "configs": configs, "ratios": ratios}


def run_disabled(plan: dict, rng: random.Random) -> dict:
    def one(config: str) -> dict:
        return child([str(HERE / "child.py"), "disabled", "--config", config, "--n", str(plan["n"]),
                      "--blocks", str(plan["blocks"])])

    raw = interleave(["ours-default", "loguru"], plan["rounds"], one, rng, str)
    ours = [r["debug_us"] for r in raw["ours-default"]]
    loguru = [r["debug_us"] for r in raw["loguru"]]
    log_operation = [r["log_operation_debug_us"] for r in raw["ours-default"]]
    return {
        "plan": plan,
        "unit": "µs/call",
        "calls": {
            "ours logger.debug (level INFO)": summarize(ours),
            "loguru logger.debug (INFO sink by hand)": summarize(loguru),
            "ours correlation_logger.log_operation(level='DEBUG')": summarize(log_operation),
        },
        "verified": verified(raw["ours-default"] + raw["loguru"]),
        "ratios": {
            "ours debug / loguru debug": paired(ours, loguru, 1.2),
            "log_operation DEBUG / loguru debug": paired(log_operation, loguru, None),
        },
    }


def run_concurrency(plan: dict, rng: random.Random) -> dict:
    jobs = [(config, threads, rotation) for config in ("ours-default", "ours-flat")
            for threads, rotation in ((1, plan["rotation"]), (8, plan["rotation"]), (8, "none"))]

    def one(job: tuple) -> dict:
        config, threads, rotation = job
        return child([str(HERE / "child.py"), "concurrency", "--config", config, "--threads", str(threads),
                      "--n", str(plan["n"]), "--rotation", rotation])

    raw = interleave(jobs, plan["rounds"], one, rng,
                     lambda j: f"{j[0]}{TIMES}{j[1]}{'' if j[2] != 'none' else ' no-rot'}")
    runs = {}
    for (config, threads, rotation), rows in raw.items():
        key = f"{config} threads={threads} rotation={'off' if rotation == 'none' else rotation}"
        runs[key] = {
            "records_per_s": summarize([r["records_per_s"] for r in rows]),
            "latency_median_us": summarize([r["latency_us"]["median"] for r in rows]),
            "latency_p99_us": summarize([r["latency_us"]["p99"] for r in rows]),
            "latency_p999_us": summarize([r["latency_us"]["p999"] for r in rows]),
            "latency_max_us": summarize([r["latency_us"]["max"] for r in rows]),
            "max_over_median": summarize([r["max_over_median"] for r in rows]),
            "calls_over_5ms": summarize([r["calls_over_5ms"] for r in rows]),
            "calls_over_10ms": summarize([r["calls_over_10ms"] for r in rows]),
            "gz_archives": rows[-1]["gz_archives"],
            "gzip_1mb_ms": summarize([r["gzip_1mb_ms"] for r in rows if r["gzip_1mb_ms"] is not None]),
            "verified": verified(rows),
        }
    ratios = {}
    for config in ("ours-default", "ours-flat"):
        one_thread = [r["records_per_s"] for r in raw[(config, 1, plan["rotation"])]]
        eight = [r["records_per_s"] for r in raw[(config, 8, plan["rotation"])]]
        # Higher is better here: report it, no goal.
        ratios[f"{config}: throughput 8 threads / 1 thread"] = paired(eight, one_thread, None)
        with_rot = [r["latency_us"]["max"] for r in raw[(config, 8, plan["rotation"])]]
        without = [r["latency_us"]["max"] for r in raw[(config, 8, "none")]]
        ratios[f"{config}: 8 threads max latency, rotation on / off"] = paired(with_rot, without, None)
    return {"plan": plan, "runs": runs, "ratios": ratios}


def run_memory(plan: dict, rng: random.Random) -> dict:
    def one(n: int) -> dict:
        return child([str(HERE / "child.py"), "memory", "--n", str(n)])

    raw = interleave([plan["big"], plan["small"]], plan["rounds"], one, rng, lambda n: f"{n:,} records")
    big = [r["peak_rss_mb"] for r in raw[plan["big"]]]
    small = [r["peak_rss_mb"] for r in raw[plan["small"]]]
    growth = statistics.median(big) - statistics.median(small)
    return {
        "plan": plan,
        "peak_rss_mb": {f"{plan['big']:,} records": summarize(big), f"{plan['small']:,} records": summarize(small)},
        "rss_before_logging_mb": statistics.median(r["rss_before_mb"] for r in raw[plan["big"]] + raw[plan["small"]]),
        "us_per_record_big": summarize([r["us_per_record"] for r in raw[plan["big"]]]),
        "growth_mb": growth,
        "goal_mb": 10,
        "met": growth <= 10,
        "verified": verified(raw[plan["big"]] + raw[plan["small"]]),
    }


def run_streamlit(plan: dict, rng: random.Random) -> dict:
    """The Clients page under AppTest (``streamlit_runs.py``), then on real servers
    (``streamlit_server_runs.py``): as Streamlit ships (``"server"``), and with TCP_NODELAY and
    no post-run gc, where a round trip is mostly the script (``"server_script"``)."""
    started = time.perf_counter()
    out = child([str(HERE / "streamlit_runs.py"), "--rounds", str(plan["rounds"]), "--runs", str(plan["runs"]),
                 "--seed", str(rng.randrange(1 << 30))])
    log(f"  AppTest: {plan['rounds']} rounds in {time.perf_counter() - started:.0f} s")
    out["plan"] = plan
    out["goal"] = 1.05
    out["met"] = all(value <= 1.05 for key, value in out["ratios"].items() if key.startswith("on/"))
    for key, options in (("server", []), ("server_script", ["--tcp-nodelay", "--no-post-script-gc"])):
        started = time.perf_counter()
        out[key] = child([str(HERE / "streamlit_server_runs.py"), "--rounds", str(plan["rounds"]), "--runs",
                          str(plan["runs"]), "--seed", str(rng.randrange(1 << 30)), *options])
        log(f"  real servers{' ' + ' '.join(options) if options else ''}: {plan['rounds']} rounds in "
            f"{time.perf_counter() - started:.0f} s")
    return out


def run_trace(plan: dict, rng: random.Random) -> dict:
    started = time.perf_counter()
    out = child([str(HERE / "trace_lookup.py"), "--mb", str(plan["mb"]), "--rounds", str(plan["rounds"]),
                 "--seed", str(rng.randrange(1 << 30))])
    dataset = "reused" if out["dataset"]["reused"] else "generated"
    log(f"  done in {time.perf_counter() - started:.0f} s (data set {dataset})")
    out["plan"] = plan
    out["goals"] = {"cli/zcat": 0.1, "cli_scan/zcat": 0.7}  # indexed; without indexes (old archives)
    out["met"] = {label: out["ratios"].get(label) is not None and out["ratios"][label] <= goal
                  for label, goal in out["goals"].items()}
    return out


def run_failure_context(plan: dict, rng: random.Random) -> dict:
    """A successful click with ``failure_context="DEBUG"`` vs off (``failure_context.py``): each
    variant in its own process, interleaved over rounds."""
    variants = ("flat-off", "flat-on", "loguru-off", "loguru-on", "flat-on-failed")

    def one(variant: str) -> dict:
        return child([str(HERE / "failure_context.py"), "--variant", variant, "--n", str(plan["n"]),
                      "--blocks", str(plan["blocks"])])

    raw = interleave(list(variants), plan["rounds"], one, rng, label=lambda v: v)
    us = {v: [r["us_per_interaction"] for r in raw[v]] for v in variants}
    ratios = {f"{on} / {off}": paired(us[on], us[off], None)
              for on, off in (("flat-on", "flat-off"), ("loguru-on", "loguru-off"), ("flat-on-failed", "flat-on"))}
    return {"plan": plan, "variants": {v: summarize(us[v]) for v in variants}, "ratios": ratios,
            "added_us_per_click": {fmt: statistics.median(us[f"{fmt}-on"]) - statistics.median(us[f"{fmt}-off"])
                                   for fmt in ("flat", "loguru")},
            "verified": all(verified(raw[v]) for v in variants)}


RUNNERS = {"throughput": run_throughput, "sporadic": run_sporadic, "disabled": run_disabled,
           "concurrency": run_concurrency, "memory": run_memory, "streamlit": run_streamlit, "trace": run_trace,
           "failure_context": run_failure_context}


# -- report -------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 2) -> str:
    return EN_DASH if value is None else f"{value:.{digits}f}"


def _goal(entry: dict) -> str:
    if entry.get("goal") is None:
        return ""
    return f"goal ≤ {entry['goal']:g}: {'met' if entry['met'] else 'NOT met'}"


def report(results: dict) -> str:
    lines = []
    meta = results["machine"]
    lines.append(f"# {results['mode']} run, {meta['date']}: {meta['cpu_model']}, {meta['cores']} cores, "
                 f"Python {meta['python']}, load {meta['load_average']}; library at {meta['git_commit']}"
                 + (f" (+{len(meta['library_files_modified'])} modified files)"
                    if meta['library_files_modified'] else ""))
    if meta.get("git_commit_end") and meta["git_commit_end"] != meta["git_commit"]:
        lines.append(f"! the library moved to {meta['git_commit_end']} during the run: groups measured different code")
    if "throughput" in results:
        section = results["throughput"]
        configs = section["configs"]
        lines.append("")
        lines.append(f"## Per-record cost, µs/record ({section['plan']['n']:,} records per sample in "
                     f"{section['plan'].get('blocks', 5)} blocks, best block; {section['plan']['rounds']} rounds)")
        lines.append(f"{'configuration':<18} {'median':>8} {'min':>8} {'max':>8} {TIMES + ' loguru':>9} "
                     f"{TIMES + ' flat':>7}  ok")
        for name, row in configs.items():
            lines.append(f"{name:<18} {_fmt(row['median'], 1):>8} {_fmt(row['min'], 1):>8} {_fmt(row['max'], 1):>8} "
                         f"{_fmt(ratio(row['median'], configs['loguru']['median'])):>9} "
                         f"{_fmt(ratio(row['median'], configs['ours-flat']['median'])):>7}  "
                         f"{'yes' if row['verified'] else 'NO'}")
        lines.append("")
        for label, entry in section["ratios"].items():
            spread = entry["per_round"]
            lines.append(f"{label:<28} {_fmt(entry['value'])}  "
                         f"(per round {_fmt(spread['min'])}{EN_DASH}{_fmt(spread['max'])})  {_goal(entry)}")
    if "sporadic" in results:
        section = results["sporadic"]
        configs = section["configs"]
        lines.append("")
        lines.append(f"## Sporadic calls: one record after ~2-3 ms of other work, µs/call "
                     f"({section['plan']['n']} calls per sample, {section['plan']['rounds']} rounds)")
        lines.append(f"{'configuration':<18} {'median':>8} {'min':>8} {'max':>8} {'p90':>8} {'slowest':>9} "
                     f"{TIMES + ' loguru':>9}  ok")
        for name, row in configs.items():
            lines.append(f"{name:<18} {_fmt(row['median'], 1):>8} {_fmt(row['min'], 1):>8} {_fmt(row['max'], 1):>8} "
                         f"{_fmt(row['p90']['median'], 1):>8} {_fmt(row['slowest']['median'], 0):>9} "
                         f"{_fmt(ratio(row['median'], configs['loguru']['median'])):>9}  "
                         f"{'yes' if row['verified'] else 'NO'}")
    if "disabled" in results:
        section = results["disabled"]
        lines.append("")
        lines.append(f"## Disabled-level calls, µs/call ({section['plan']['n']:,} calls per sample)")
        for label, row in section["calls"].items():
            lines.append(f"{label:<55} {_fmt(row['median'], 3)}  ({_fmt(row['min'], 3)}{EN_DASH}{_fmt(row['max'], 3)})")
        for label, entry in section["ratios"].items():
            lines.append(f"{label:<55} {_fmt(entry['value'])}  {_goal(entry)}")
    if "concurrency" in results:
        section = results["concurrency"]
        lines.append("")
        lines.append(f"## Concurrency ({section['plan']['n']:,} records in total per run, rotation "
                     f"{section['plan']['rotation']} + gz)")
        lines.append(f"{'run':<44} {'rec/s':>7} {'med µs':>7} {'p99 µs':>8} {'max ms':>7} {'max/med':>8} "
                     f"{'>5ms':>5} {'>10ms':>6}")
        for label, row in section["runs"].items():
            lines.append(f"{label:<44} {row['records_per_s']['median']:>7.0f} "
                         f"{row['latency_median_us']['median']:>7.1f} "
                         f"{row['latency_p99_us']['median']:>8.1f} {row['latency_max_us']['median'] / 1000:>7.1f} "
                         f"{row['max_over_median']['median']:>8.0f} {row['calls_over_5ms']['median']:>5.0f} "
                         f"{row['calls_over_10ms']['median']:>6.0f}")
        gz = [row["gzip_1mb_ms"]["median"] for row in section["runs"].values() if row["gzip_1mb_ms"]["median"]]
        if gz:
            lines.append(f"(gzip of one rotated 1 MB file, measured in the child: {statistics.median(gz):.1f} ms)")
        for label, entry in section["ratios"].items():
            lines.append(f"{label:<58} {_fmt(entry['value'])}")
    if "memory" in results:
        section = results["memory"]
        lines.append("")
        lines.append("## Memory (peak RSS, library defaults: rotation 10 MB + gz)")
        for label, row in section["peak_rss_mb"].items():
            lines.append(f"{label:<20} {row['median']:.1f} MB")
        lines.append(f"growth {section['growth_mb']:.1f} MB  goal ≤ 10 MB: {'met' if section['met'] else 'NOT met'}")
    if "streamlit" in results:
        section = results["streamlit"]
        lines.append("")
        lines.append(f"## Inside Streamlit: AppTest run of the Clients page, ms (median of "
                     f"{section['rounds'] * section['runs_per_block']} runs each; "
                     f"{section['records_per_interaction_on']} records per interaction on average)")
        for variant, row in section["variants"].items():
            lines.append(f"{variant:<8} rerun {row['rerun']['median']:6.1f}   save {row['save']['median']:6.1f}   "
                         f"records {row['records_written']}")
        for label, value in section["ratios"].items():
            spread = section.get("per_round_ratios", {}).get(label, {})
            lines.append(f"{label:<22} {value:.3f}  "
                         f"(per round {_fmt(spread.get('min'), 3)}{EN_DASH}{_fmt(spread.get('max'), 3)})")
        lines.append(f"goal on/off ≤ 1.05: {'met' if section['met'] else 'NOT met'}")
        titles = {
            "server": "On real `streamlit run` servers, as shipped: round trip of the Clients page, ms",
            "server_script": "The same with TCP_NODELAY and no post-run gc (the script's share; not Streamlit's "
                             "defaults, see streamlit_server_runs.py), ms",
        }
        for key, title in titles.items():
            server = section.get(key)
            if not server:
                continue
            lines.append("")
            lines.append(f"## {title} (rerun sent → script_finished; median of "
                         f"{server['rounds'] * server['runs_per_block']} each; "
                         f"{server['records_per_interaction_on']} records per interaction on average)")
            for variant, row in server["variants"].items():
                check = row.get("verify", {})
                lines.append(f"{variant:<8} rerun {row['rerun']['median']:6.1f}   save {row['save']['median']:6.1f}   "
                             f"records {row['records_written']}" + ("" if check.get("ok", True) else "  CHECK FAILED"))
            for label, value in server["ratios"].items():
                spread = server["per_round_ratios"].get(label, {})
                lines.append(f"{label:<22} {value:.3f}  "
                             f"(per round {_fmt(spread.get('min'), 3)}{EN_DASH}{_fmt(spread.get('max'), 3)};"
                             f" of means {server['ratios_of_means'][label]:.3f})"
                             f"  goal ≤ {server['goal']:g}: {'met' if server['met'][label] else 'NOT met'}")
    if "trace" in results:
        section = results["trace"]
        data = section["dataset"]
        lines.append("")
        lines.append(f"## Trace lookup over {data['uncompressed_mb']} MB uncompressed ({data['compressed_mb']} MB gz, "
                     f"{len(data['files'])} files, {data['records']:,} records), seconds")
        for name, row in section["seconds"].items():
            lines.append(f"{name:<8} {row['median']:.3f}  ({row['min']:.3f}{EN_DASH}{row['max']:.3f})  "
                         f"{'ok' if section['checks'][name]['ok'] else 'CHECK FAILED'}")
        lines.append(f"reader in-process (no start-up) {section['reader_in_process_s']['median']:.3f}")
        for label, value in section["ratios"].items():
            goal = section["goals"].get(label)
            verdict = f"  goal ≤ {goal:g}: {'met' if section['met'][label] else 'NOT met'}" if goal else ""
            lines.append(f"{label:<14} {value:.2f}{verdict}")
    if "failure_context" in results:
        lines.extend(_report_failure_context(results["failure_context"]))
    return "\n".join(lines)


def _report_failure_context(section: dict) -> list[str]:
    lines = ["", f"## Failure context: a successful click (3 records written, 10 DEBUG kept and dropped), "
                 f"µs per interaction ({section['plan']['n']:,} per block, best block; {section['plan']['rounds']} "
                 "rounds)"]
    for name, row in section["variants"].items():
        lines.append(f"{name:<16} {_fmt(row['median'], 1):>8} {_fmt(row['min'], 1):>8} {_fmt(row['max'], 1):>8}")
    for label, entry in section["ratios"].items():
        spread = entry["per_round"]
        lines.append(f"{label:<28} {_fmt(entry['value'])}  (per round {_fmt(spread['min'])}{EN_DASH}"
                     f"{_fmt(spread['max'])})")
    added = section["added_us_per_click"]
    lines.append(f"added per click: flat {_fmt(added['flat'], 0)} µs, loguru {_fmt(added['loguru'], 0)} µs; "
                 f"verified: {'yes' if section['verified'] else 'NO'}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller samples, fewer rounds")
    parser.add_argument("--only", default=",".join(GROUPS), help=f"comma-separated groups: {', '.join(GROUPS)}")
    parser.add_argument("--rounds", type=int, default=None, help="override the rounds of every group")
    parser.add_argument("--out", default=str(HERE / "results.json"), help="where to write the JSON results")
    parser.add_argument("--seed", type=int, default=None, help="seed for the shuffles (default: random)")
    args = parser.parse_args()

    groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = set(groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s): {', '.join(sorted(unknown))}")
    mode = "quick" if args.quick else "full"
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    results: dict[str, Any] = {"mode": mode, "seed": seed, "command": " ".join([Path(sys.executable).name, *sys.argv]),
                               "machine": machine_info()}
    started = time.perf_counter()
    receiver = start_otlp_endpoint()  # for the OpenTelemetry configurations; a process of its own
    for group in groups:
        plan = dict(PLANS[mode][group])
        if args.rounds is not None:
            plan["rounds"] = args.rounds
        log(f"[{group}] {plan}")
        results[group] = RUNNERS[group](plan, rng)
    receiver.terminate()
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    # Others commit while a run goes on: if these differ from the start, say so.
    end = machine_info()
    results["machine"]["git_commit_end"] = end["git_commit"]
    results["machine"]["library_files_modified_end"] = end["library_files_modified"]

    Path(args.out).write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(report(results))
    print(f"\n{results['wall_seconds']:.0f} s; results written to {args.out}")


if __name__ == "__main__":
    main()
