"""Round trips of the demo's Clients page on real ``streamlit run`` servers, logging on vs off.

    python benchmarks/streamlit_server_runs.py --rounds 8 --runs 6
    python benchmarks/streamlit_server_runs.py --rounds 8 --runs 6 --profile /tmp/profiles  # + py-spy

Three servers of ``streamlit_extension/app.py`` run side by side, each with its own folder,
SQLite database (seeded with 5 clients) and log folder:

- ``on``: the default JSON file (``serialize=True``), console off;
- ``on-flat``: the same with ``LOG_FORMAT=flat``;
- ``off``: ``LOG_FILE=""`` and console off: ``init_streamlit_logging()`` runs and the integration
  is installed, but no sink exists, so loguru drops every record at its first check (the same
  "off" as ``streamlit_runs.py``).

One session per server, driven by ``tests/support/streamlit_server.py``'s ``StreamlitSession``
over the websocket protocol, the way a browser does. Two interactions are timed, from sending
the ``rerun_script`` message to the terminal ``script_finished``:

- ``rerun``: a plain rerun of the Clients page (4 records);
- ``save``: "Save changes" on a client: a run that updates it and calls ``st.rerun()``, then
  that rerun (11 records).

Each round visits every (server, interaction) in a shuffled order; each block starts with one
untimed interaction (the other servers just had the CPU). Medians over all timed interactions
are reported, with ratios of medians and the spread of the per-round ratios; means too, as
information.

Most of a round trip is not the script (~7 ms of a ~48 ms rerun here), and two things of
Streamlit's own hide it:

- Streamlit 1.67's server binds its listening socket with ``socket.socket(family)``
  (protocol 0), and asyncio only sets ``TCP_NODELAY`` on sockets whose protocol is
  ``IPPROTO_TCP``: so after its first message of a run, each of the server's small writes
  waits for the client's (delayed, ~40 ms) ACK. The run's messages arrive together ~40 ms
  after the first, whatever the script costs below that. ``--tcp-nodelay`` puts a
  ``sitecustomize`` on the servers' ``PYTHONPATH`` that sets ``TCP_NODELAY`` on every TCP
  socket (as Tornado, Streamlit's server before, did for websockets).
- After every run Streamlit runs a full ``gc.collect(2)`` (``runner.postScriptGC``, on by
  default), ~20-25 ms in this process. ``--no-post-script-gc`` starts the servers with
  ``--runner.postScriptGC false``.

So by default a rerun's round trip comes in steps of ~4 ms (44, 48 ms) and its median moves only
when a cost crosses a step. Neither option is Streamlit's default, so the plain run is what a
user sees; with both (~13 ms a rerun), a round trip is mostly the script, and shows what
logging adds to the page itself.

``--profile DIR`` attaches ``py-spy record`` (``pip install py-spy``) to every server for the
timed rounds and writes ``DIR/<variant>.txt`` (collapsed stacks, ``--format raw``) and
``DIR/<variant>.summary.txt`` (the hottest frames of the script threads, self and total, and the
share of their samples inside a loguru call); profiling slows the servers, so its ratios are
not the result.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import REPO, log_files, summarize, verify_json_lines  # noqa: E402

sys.path.insert(0, str(REPO))  # tests.support.streamlit_server: the protocol client the tests use

from tests.support.streamlit_server import StreamlitServer, StreamlitSession  # noqa: E402

APP = REPO / "streamlit_extension" / "app.py"
VARIANTS = ("on", "on-flat", "off")
ACTIONS = ("rerun", "save")
GOAL = 1.05
RECORDS = {"rerun": 4, "save": 11}  # per interaction with logging on (checked against the files)


def _environment(variant: str, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOG_")}
    env.update({
        "LOG_CONSOLE": "0",
        "DEMO_DB_PATH": str(folder / "app.db"),
        "XDG_STATE_HOME": str(folder / "state"),
        "PYTHONHASHSEED": "0",
    })
    env.pop("LOG_EXPLORER_USERS", None)
    if variant == "off":
        env["LOG_FILE"] = ""
    else:
        env["LOG_FILE"] = str(folder / "logs" / "app.jsonl")
        env["LOG_FORMAT"] = "flat" if variant == "on-flat" else "loguru"
    return env


_NODELAY_SITE = """\
# benchmarks/streamlit_server_runs.py --tcp-nodelay: TCP_NODELAY on every TCP socket asyncio wraps,
# also those whose protocol number is 0 (Streamlit 1.67 binds its listening socket that way).
import asyncio.base_events as _base_events
import socket as _socket


def _set_nodelay(sock):
    if sock.family in (_socket.AF_INET, _socket.AF_INET6) and sock.type == _socket.SOCK_STREAM:
        sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)


_base_events._set_nodelay = _set_nodelay
"""


def _nodelay_site(root: Path) -> Path:
    folder = root / "nodelay-site"
    if not folder.exists():
        folder.mkdir()
        (folder / "sitecustomize.py").write_text(_NODELAY_SITE)
    return folder


def _seed(db: Path) -> None:
    """Five clients, written by the demo's own store (its schema, its validation)."""
    previous = os.environ.get("DEMO_DB_PATH")
    os.environ["DEMO_DB_PATH"] = str(db)
    try:
        from streamlit_extension import demo_store

        for index in range(5):
            demo_store.insert_client(f"C{index}", f"Client {index}", f"c{index}@example.com", "active")
    finally:
        if previous is None:
            os.environ.pop("DEMO_DB_PATH", None)
        else:
            os.environ["DEMO_DB_PATH"] = previous


def _start_profilers(servers: dict[str, StreamlitServer], out: Path) -> dict[str, subprocess.Popen]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists() and shutil.which(py_spy) is None:
        raise SystemExit("--profile needs py-spy: pip install py-spy")
    out.mkdir(parents=True, exist_ok=True)
    procs = {}
    for variant, server in servers.items():
        procs[variant] = subprocess.Popen(
            [py_spy, "record", "--pid", str(server.pid), "--rate", "200", "--format", "raw", "--threads",
             "-o", str(out / f"{variant}.txt")],
            stdout=subprocess.DEVNULL, stderr=open(out / f"{variant}.py-spy.log", "w"))
    time.sleep(1.0)  # attached before the first timed block
    return procs


def _stop_profilers(procs: dict[str, subprocess.Popen], out: Path) -> dict[str, dict]:
    for proc in procs.values():
        proc.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
    summaries = {}
    for variant, proc in procs.items():
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        path = out / f"{variant}.txt"
        if path.exists():
            summaries[variant] = _summarize_profile(path, out / f"{variant}.summary.txt")
    return summaries


def _summarize_profile(path: Path, summary: Path, top: int = 80) -> dict:
    """Self samples per frame (line) and total samples per function, over the script-run threads
    only (``ScriptRunner``)."""
    self_counts: collections.Counter = collections.Counter()
    total_counts: collections.Counter = collections.Counter()
    all_samples = script_samples = in_loguru = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        all_samples += n
        frames = stack.split(";")
        if not any("_run_script_thread" in frame for frame in frames):
            continue
        script_samples += n
        in_loguru += n if any("loguru/" in frame for frame in frames) else 0
        self_counts[frames[-1]] += n
        for frame in {re.sub(r":\d+\)$", ")", frame) for frame in frames}:  # per function, not per line
            total_counts[frame] += n
    share = in_loguru / max(script_samples, 1)
    lines = [f"{script_samples} samples in script threads of {all_samples} in all threads; "
             f"{in_loguru} ({100 * share:.1f}%) inside a loguru call", "", "self:"]
    lines += [f"{n:7d} {100 * n / max(script_samples, 1):5.1f}%  {frame}" for frame, n in self_counts.most_common(top)]
    lines += ["", "total:"]
    lines += [f"{n:7d} {100 * n / max(script_samples, 1):5.1f}%  {frame}" for frame, n in total_counts.most_common(top)]
    summary.write_text("\n".join(lines) + "\n")
    return {"samples": all_samples, "script_thread_samples": script_samples, "in_loguru_share": round(share, 4),
            "file": str(path), "summary": str(summary)}


async def _measure(servers: dict[str, StreamlitServer], rounds: int, runs: int, warmup: int,
                   rng: random.Random, between_rounds=None) -> tuple[dict, dict]:
    sessions = {v: StreamlitSession(server, timeout=120) for v, server in servers.items()}
    for variant, session in sessions.items():
        await session.connect()
        await session.rerun()  # the page load, as a browser's
        if not session.last_result.contains("Clients"):
            raise SystemExit(f"{variant}: the Clients page did not render: {session.last_result.texts[:5]}")

    async def rerun(session: StreamlitSession):
        return await session.rerun()

    async def save(session: StreamlitSession):
        return await session.click_button("Save changes")

    actions = {"rerun": rerun, "save": save}

    async def act(variant: str, action: str) -> float:
        start = time.perf_counter()
        result = await actions[action](sessions[variant])
        elapsed = (time.perf_counter() - start) * 1000
        if not result.ok:
            raise SystemExit(f"{variant} {action}: {result.status} {result.exceptions}")
        return elapsed

    for variant in VARIANTS:  # untimed: imports, caches, the first save
        for action in ACTIONS:
            for _ in range(warmup):
                await act(variant, action)
    times = {v: {a: [] for a in ACTIONS} for v in VARIANTS}
    blocks = {v: {a: [] for a in ACTIONS} for v in VARIANTS}
    if between_rounds is not None:
        between_rounds()
    for _ in range(rounds):
        order = [(v, a) for v in VARIANTS for a in ACTIONS]
        rng.shuffle(order)
        for variant, action in order:
            await act(variant, action)  # untimed: the other servers just had the CPU
            block = [await act(variant, action) for _ in range(runs)]
            times[variant][action].extend(block)
            blocks[variant][action].append(statistics.median(block))
    for session in sessions.values():
        await session.close()
    return times, blocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--runs", type=int, default=6, help="timed interactions per server, action and round")
    parser.add_argument("--warmup", type=int, default=5, help="untimed interactions per server and action first")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--profile", default=None, help="a folder: record every server with py-spy")
    parser.add_argument("--no-post-script-gc", action="store_true",
                        help="start the servers with --runner.postScriptGC false (see above)")
    parser.add_argument("--tcp-nodelay", action="store_true",
                        help="set TCP_NODELAY on the servers' sockets (see above)")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    root = Path(tempfile.mkdtemp(prefix="bench-streamlit-server-"))
    servers: dict[str, StreamlitServer] = {}
    profilers: dict[str, subprocess.Popen] = {}
    profile_out = Path(args.profile).resolve() if args.profile else None
    try:
        for variant in VARIANTS:
            folder = root / variant
            folder.mkdir()
            _seed(folder / "app.db")
            env = _environment(variant, folder)
            if args.tcp_nodelay:
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_nodelay_site(root)), env.get("PYTHONPATH")]))
            extra = ("--runner.postScriptGC", "false") if args.no_post_script_gc else ()
            servers[variant] = StreamlitServer(APP, env=env, cwd=str(folder), extra_args=extra,
                                               log_dir=folder / "server", startup_timeout=120)
            servers[variant].start()

        def attach() -> None:
            if profile_out is not None:
                profilers.update(_start_profilers(servers, profile_out))

        started = time.perf_counter()
        times, blocks = asyncio.run(_measure(servers, args.rounds, args.runs, args.warmup, rng, attach))
        wall = time.perf_counter() - started
    finally:
        profiles = _stop_profilers(profilers, profile_out) if profilers else {}
        for server in servers.values():
            server.stop()

    result: dict = {"rounds": args.rounds, "runs_per_block": args.runs, "warmup": args.warmup,
                    "post_script_gc": not args.no_post_script_gc, "tcp_nodelay": args.tcp_nodelay,
                    "seconds": round(wall, 1), "variants": {},
                    "ratios": {}, "per_round_ratios": {}, "ratios_of_means": {}, "goal": GOAL, "met": {}}
    # Interactions per server: warm-up, then per round and action one untimed + the timed ones.
    interactions = {a: args.warmup + args.rounds * (args.runs + 1) for a in ACTIONS}
    for variant in VARIANTS:
        row = {action: {**summarize(times[variant][action]), "mean": statistics.fmean(times[variant][action])}
               for action in ACTIONS}
        folder = root / variant / "logs"
        written = sum(1 for path in log_files(folder) for _ in open(path, "rb")) if folder.exists() else 0
        row["records_written"] = written
        if variant != "off":
            row["verify"] = verify_json_lines(folder, written, check=functools.partial(_has_ids, variant=variant))
        result["variants"][variant] = row
    on_lines = result["variants"]["on"]["records_written"]
    result["records_per_interaction_on"] = round(on_lines / (sum(interactions.values()) + 1), 2)  # + page load
    # "off" must have written nothing anywhere (a default logs/ folder would appear in its cwd).
    strays = [p for p in log_files(root / "off") if ".jsonl" in p.name]
    result["variants"]["off"]["records_written"] = sum(1 for path in strays for _ in open(path, "rb"))
    for action in ACTIONS:
        off = statistics.median(times["off"][action])
        for variant in ("on", "on-flat"):
            label = f"{variant}/off {action}"
            value = statistics.median(times[variant][action]) / off
            result["ratios"][label] = value
            result["met"][label] = value <= GOAL
            per_round = [on / base for on, base in zip(blocks[variant][action], blocks["off"][action], strict=True)]
            result["per_round_ratios"][label] = summarize(per_round)
            mean_off = statistics.fmean(times["off"][action])
            result["ratios_of_means"][label] = statistics.fmean(times[variant][action]) / mean_off
    if profiles:
        result["profiles"] = profiles
        result["note"] = "profiled: py-spy slows the servers, so these ratios are not the result"
    shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(result))


def _has_ids(record: dict, variant: str) -> bool:
    """Records of a script run carry its correlation id (loguru's shape nests them in extra)."""
    fields = record.get("record", {}).get("extra", {}) if variant == "on" else record
    return "correlation_id" in fields


if __name__ == "__main__":
    main()
