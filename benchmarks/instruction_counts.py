"""Instructions per record under valgrind's callgrind: a cost that doesn't move with the load of
a shared machine, to set beside the wall-clock ratios of ``run.py``.

    python benchmarks/instruction_counts.py                      # the four per-record goal configs
    python benchmarks/instruction_counts.py --configs ours-flat,loguru --small 300 --large 1300

Each configuration of ``configs.py`` logs ``small`` and then ``large`` records in a fresh process
under ``valgrind --tool=callgrind`` (with ``PYTHONHASHSEED=0``, so dict and set layouts repeat);
(instructions at ``large`` - instructions at ``small``) / (``large`` - ``small``) is the cost of a
record, with start-up, imports and set-up cancelled out. Needs valgrind (Debian: ``valgrind``).
It counts instructions, not time: memory stalls and branch misses don't show, so a ratio here
can be better than the same ratio in wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

LOOP = """
import os, shutil, sys, tempfile
from pathlib import Path
sys.path.insert(0, {here!r})
from common import clean_log_env
from configs import build
clean_log_env()
folder = Path(tempfile.mkdtemp())
config = build(sys.argv[1], folder)
with config.scope("req_abcdef123456"):
    for i in range(int(sys.argv[2])):
        config.log(f"CL{{i:07d}}")
config.close()
shutil.rmtree(folder)
"""


def instructions(config: str, records: int) -> int:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c",
                           LOOP.format(here=str(HERE)), config, str(records)],
                          capture_output=True, text=True, env=env, timeout=1800)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{config}: valgrind failed ({done.returncode}): {done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="loguru,ours-default,ours-flat,stdlib-pjl")
    parser.add_argument("--small", type=int, default=300)
    parser.add_argument("--large", type=int, default=1300)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    per_record = {}
    for config in args.configs.split(","):
        extra = instructions(config, args.large) - instructions(config, args.small)
        per_record[config] = extra / (args.large - args.small)
        print(f"{config:<18} {per_record[config]:>10,.0f} instructions/record", flush=True)
    base = per_record.get("loguru")
    if base:
        for config, value in per_record.items():
            print(f"{config} / loguru: {value / base:.3f}")
    print(json.dumps({"instructions_per_record": per_record, "small": args.small, "large": args.large}))


if __name__ == "__main__":
    main()
