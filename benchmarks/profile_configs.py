"""Where the time goes in this project's hot path: py-spy and pyinstrument on the default and
flat configurations (and loguru by hand, for reference), logging the same records as
``child.py throughput``.

    python benchmarks/profile_configs.py                  # 50 000 records each
    python benchmarks/profile_configs.py --n 20000 --cprofile

For each configuration it writes, under ``benchmarks/profiles/`` (or ``--out``):

- ``<config>.pyspy.txt`` (when py-spy is installed): py-spy samples the child from outside
  (1 000 Hz, no overhead inside the process); every function's self and inclusive share of
  the samples taken inside the logging loop (recursion counted once), largest first. These are
  the numbers to quote.
- ``<config>.pyinstrument.txt``: pyinstrument's call tree, for reading the structure. Its
  profile hook runs on every call, so it inflates Python-level functions relative to C ones.
- ``<config>.functions.txt``: the same self/inclusive table computed from pyinstrument's tree.
- with ``--cprofile``, ``<config>.cprofile.txt``: deterministic call counts and times (use it
  for counts; its overhead distorts the shares).

Each configuration is profiled in its own subprocess, so one does not warm the other.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

CONFIGS = ("ours-default", "ours-flat", "loguru")


def _pyspy_table(raw: Path, config_name: str, n: int) -> str:
    """Aggregate py-spy's collapsed stacks: share of in-loop samples per function."""
    self_count: dict[str, int] = defaultdict(int)
    incl_count: dict[str, int] = defaultdict(int)
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any(frame.startswith("_drive ") for frame in frames):
            continue
        at = next(i for i, frame in enumerate(frames) if frame.startswith("_drive "))
        inner = frames[at:]
        weight = int(count)
        total += weight
        # "func (file:line)" -> "func (file)": lines of one function are summed.
        names = [frame.rsplit(":", 1)[0] + ")" if frame.endswith(")") and ":" in frame else frame for frame in inner]
        self_count[names[-1]] += weight
        for name in set(names):
            incl_count[name] += weight
    lines = [f"{config_name}: py-spy, {total} samples inside the logging loop ({n} records measured + warm-up)",
             f"{'self %':>7} {'incl %':>7}  function"]
    for name in sorted(incl_count, key=lambda k: -incl_count[k]):
        self_pct, incl_pct = 100 * self_count[name] / total, 100 * incl_count[name] / total
        if incl_pct >= 0.5 or self_pct >= 0.5:
            lines.append(f"{self_pct:7.1f} {incl_pct:7.1f}  {name}")
    return "\n".join(lines) + "\n"


def run_pyspy(config_name: str, n: int, out: Path) -> str | None:
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(pyspy).exists():
        return None
    raw = out / f"{config_name}.pyspy.raw"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOG_")}
    subprocess.run([pyspy, "record", "-r", "1000", "-f", "raw", "-o", str(raw), "--",
                    sys.executable, str(HERE / "child.py"), "throughput", "--config", config_name, "--n", str(n)],
                   check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    table = _pyspy_table(raw, config_name, n)
    raw.unlink()
    (out / f"{config_name}.pyspy.txt").write_text(table, encoding="utf-8")
    return table


def _aggregate(root) -> tuple[float, list[dict]]:
    """Self and inclusive time per function over a pyinstrument frame tree."""
    self_time: dict[str, float] = defaultdict(float)
    inclusive: dict[str, float] = defaultdict(float)

    def name(frame) -> str:
        path = frame.file_path_short or frame.file_path or "?"
        return f"{frame.function} ({path}:{frame.line_no})" if not frame.is_synthetic else frame.function

    def walk(frame, active: set) -> None:
        key = name(frame)
        if not frame.is_synthetic:
            self_time[key] += frame.total_self_time
            if key not in active:
                inclusive[key] += frame.time
        for child in frame.children:
            walk(child, active | {key})

    walk(root, set())
    total = root.time
    rows = [{"function": key, "self_pct": 100 * self_time[key] / total, "inclusive_pct": 100 * inclusive[key] / total}
            for key in inclusive]
    rows.sort(key=lambda row: -row["inclusive_pct"])
    return total, rows


def profile_one(config_name: str, n: int, out: Path, use_cprofile: bool) -> dict:
    from child import _cids, _drive, _keys
    from common import clean_log_env
    from configs import build
    from pyinstrument import Profiler

    clean_log_env()
    folder = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    config = build(config_name, folder)
    _drive(config, _keys(2000), _cids(2000))
    keys, cids = _keys(n), _cids(n)

    profiler = Profiler(interval=0.0001)
    profiler.start()
    _drive(config, keys, cids)
    profiler.stop()
    (out / f"{config_name}.pyinstrument.txt").write_text(
        profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")

    session = profiler.last_session
    root = session.root_frame()
    # The loop itself: the _drive frame (the tree may start above it).
    stack = [root]
    drive = root
    while stack:
        frame = stack.pop()
        if frame.function == "_drive":
            drive = frame
            break
        stack.extend(frame.children)
    total, rows = _aggregate(drive)
    lines = [f"{config_name}: {n} records, {total:.3f} s sampled in the loop "
             f"({total / n * 1e6:.1f} µs/record under the profiler)",
             f"{'self %':>7} {'incl %':>7}  function"]
    for row in rows:
        if row["inclusive_pct"] >= 0.5 or row["self_pct"] >= 0.5:
            lines.append(f"{row['self_pct']:7.1f} {row['inclusive_pct']:7.1f}  {row['function']}")
    (out / f"{config_name}.functions.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

    if use_cprofile:
        import cProfile
        import io
        import pstats

        keys2, cids2 = _keys(n), _cids(n)
        prof = cProfile.Profile()
        prof.enable()
        _drive(config, keys2, cids2)
        prof.disable()
        buffer = io.StringIO()
        stats = pstats.Stats(prof, stream=buffer)
        stats.sort_stats("tottime").print_stats(40)
        (out / f"{config_name}.cprofile.txt").write_text(buffer.getvalue(), encoding="utf-8")
    config.close()
    shutil.rmtree(folder, ignore_errors=True)
    return {"config": config_name, "n": n, "sampled_s": total,
            "top": [row for row in rows if row["inclusive_pct"] >= 1.0][:60]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--out", default=str(HERE / "profiles"))
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.child:
        print(json.dumps(profile_one(args.child, args.n, out, args.cprofile)))
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOG_")}
    for name in args.configs.split(","):
        table = run_pyspy(name, args.n, out)
        if table:
            print(table)
        command = [sys.executable, __file__, "--child", name, "--n", str(args.n), "--out", str(out)]
        if args.cprofile:
            command.append("--cprofile")
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
        if not table:
            print((out / f"{name}.functions.txt").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
