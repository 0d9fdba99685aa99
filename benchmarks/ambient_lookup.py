"""Per-record cost of the ambient lookup inside a real Streamlit script run (AppTest).

    python benchmarks/ambient_lookup.py --rounds 5 [--user none|id|email]

    # another revision, for a before/after: export its package and put it first on the path
    git archive <rev> streamlit_extension | tar -x -C /tmp/base
    PYTHONPATH=/tmp/base python benchmarks/ambient_lookup.py --rounds 5

One ``AppTest`` session runs a script that, inside its script thread, times
``context.ambient_fields()`` (what the patcher calls for every record: the run's correlation
id, session and user id, page, operation) ``--n`` times, then logs ``--n`` loguru records. The
script is rerun with logging on (default JSON file), on-flat and off (``LOG_FILE=""``: loguru
drops every record before the patcher), in a shuffled order per round; medians per variant, in
µs. ``--user`` sets ``st.session_state["user_id"]`` first: ``id`` a plain id, ``email`` an
address (pseudonymised by an HMAC). Not part of ``run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import clean_log_env

SCRIPT = '''
import json, os, time
from streamlit_extension import init_streamlit_logging
init_streamlit_logging()
import streamlit as st
from loguru import logger
from streamlit_extension.context import ambient_fields

N = int(os.environ["BENCH_N"])
user = os.environ["BENCH_USER"]
if user == "id":
    st.session_state["user_id"] = "alice"
elif user == "email":
    st.session_state["user_id"] = "alice@example.com"
ambient_fields()  # the run's first record starts it
out = {}
start = time.perf_counter()
for _ in range(N):
    ambient_fields()
out["ambient_fields_us"] = (time.perf_counter() - start) / N * 1e6
start = time.perf_counter()
for i in range(N):
    logger.info("record {}", i)
out["record_us"] = (time.perf_counter() - start) / N * 1e6
st.session_state["_bench"] = json.dumps(out)
'''

VARIANTS = ("on", "on-flat", "off")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=20_000, help="lookups and records per run")
    parser.add_argument("--user", choices=("none", "id", "email"), default="none")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    folder = Path(tempfile.mkdtemp(prefix="bench-ambient-"))
    clean_log_env()
    os.environ.update(LOG_CONSOLE="0", BENCH_N=str(args.n), BENCH_USER=args.user,
                      XDG_STATE_HOME=str(folder / "state"))
    os.chdir(folder)
    script = folder / "ambient_app.py"
    script.write_text(SCRIPT)

    from streamlit.testing.v1 import AppTest

    import streamlit_extension

    at = AppTest.from_file(str(script), default_timeout=600)

    def run(variant: str) -> dict:
        os.environ["LOG_FILE"] = "" if variant == "off" else str(folder / variant / "app.jsonl")
        os.environ["LOG_FORMAT"] = "flat" if variant == "on-flat" else "loguru"
        at.run()
        if at.exception:
            raise SystemExit(f"the script failed: {at.exception}")
        return json.loads(at.session_state["_bench"])

    for variant in VARIANTS:  # untimed: imports, the first installation of each setting
        run(variant)
    rows: dict[str, list[dict]] = {variant: [] for variant in VARIANTS}
    for _ in range(args.rounds):
        order = list(VARIANTS)
        rng.shuffle(order)
        for variant in order:
            rows[variant].append(run(variant))
    result = {"library": str(Path(streamlit_extension.__file__).parent), "user": args.user, "n": args.n,
              "rounds": args.rounds}
    for variant, samples in rows.items():
        result[variant] = {key: round(statistics.median(s[key] for s in samples), 3) for key in samples[0]}
    os.chdir(tempfile.gettempdir())
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
