"""Script-run duration of the demo's Clients page under ``AppTest``, logging on vs off.

    python benchmarks/streamlit_runs.py --rounds 5 --runs 10

One process, one ``AppTest`` session on ``streamlit_extension/app.py`` (its default page is
Clients, seeded with 5 clients). Variants, switched through the environment the app's own
``init_streamlit_logging()`` reads at each run:

- ``on``: the default JSON file (``serialize=True``), console off;
- ``on-flat``: the same with ``LOG_FORMAT=flat``;
- ``off``: ``LOG_FILE=""`` and console off: ``setup_logging`` runs and the integration is
  installed, but no sink exists, so loguru drops every record at its first check. The page,
  its decorators and the Streamlit hooks run exactly as with logging on.

Two interactions are timed (wall time of ``AppTest.run()``):

- ``rerun``: a plain rerun of the page (4 records: script_run and render_clients_page,
  start and complete);
- ``save``: "Save changes" on a client: one run that updates the client and calls
  ``st.rerun()``, then the rerun AppTest performs, in one ``run()`` call (11 records).

Each round visits the variants in a shuffled order; after a switch, one untimed run absorbs the
re-installation. Medians over all timed runs are reported.
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
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO, clean_log_env, log_files, summarize, verify_json_lines

APP = REPO / "streamlit_extension" / "app.py"
VARIANTS = ("on", "on-flat", "off")
ACTIONS = ("rerun", "save")


def _environment(variant: str, folder: Path) -> None:
    os.environ["LOG_CONSOLE"] = "0"
    if variant == "off":
        os.environ["LOG_FILE"] = ""
        os.environ.pop("LOG_FORMAT", None)
    else:
        os.environ["LOG_FILE"] = str(folder / variant / "app.jsonl")
        os.environ["LOG_FORMAT"] = "flat" if variant == "on-flat" else "loguru"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10, help="timed runs per variant, action and round")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    folder = Path(tempfile.mkdtemp(prefix="bench-streamlit-"))
    clean_log_env()
    os.environ["DEMO_DB_PATH"] = str(folder / "app.db")
    os.chdir(folder)

    from streamlit.testing.v1 import AppTest

    from streamlit_extension import demo_store, installation

    for index in range(5):
        demo_store.insert_client(f"C{index}", f"Client {index}", f"c{index}@example.com", "active")

    at = AppTest.from_file(str(APP), default_timeout=60)
    _environment("off", folder)  # the first run imports and installs: not counted anywhere
    at.run()
    if at.exception:
        raise SystemExit(f"the page failed: {at.exception}")

    def rerun() -> None:
        at.run()

    def save() -> None:
        next(b for b in at.button if b.label == "Save changes").click()
        at.run()

    actions = {"rerun": rerun, "save": save}
    times: dict[str, dict[str, list[float]]] = {v: {a: [] for a in ACTIONS} for v in VARIANTS}
    # Per round: the median of each block, so ratios can be paired within a round.
    blocks: dict[str, dict[str, list[float]]] = {v: {a: [] for a in ACTIONS} for v in VARIANTS}
    for _ in range(args.rounds):
        order = [(v, a) for v in VARIANTS for a in ACTIONS]
        rng.shuffle(order)
        for variant, action in order:
            _environment(variant, folder)
            actions[action]()  # untimed: absorbs a re-installation after the switch
            block = []
            for _ in range(args.runs):
                start = time.perf_counter()
                actions[action]()
                block.append((time.perf_counter() - start) * 1000)
            times[variant][action].extend(block)
            blocks[variant][action].append(statistics.median(block))
            if at.exception:
                raise SystemExit(f"the page failed: {at.exception}")

    handle = installation._installation.handle
    if handle is not None:
        handle.close()

    result: dict = {"rounds": args.rounds, "runs_per_block": args.runs, "variants": {}, "ratios": {}}
    for variant in VARIANTS:
        result["variants"][variant] = {action: summarize(times[variant][action]) for action in ACTIONS}
        if variant != "off":
            files = log_files(folder / variant) if (folder / variant).exists() else []
            result["variants"][variant]["records_written"] = sum(1 for path in files for _ in open(path, "rb"))
    # Records per interaction from the file: the mean over both actions (rerun 4, save 11).
    interactions = 2 * args.rounds * (args.runs + 1)
    on_lines = result["variants"]["on"]["records_written"]
    result["records_per_interaction_on"] = round(on_lines / interactions, 2)
    for variant in ("on", "on-flat"):
        check = verify_json_lines(folder / variant, on_lines if variant == "on" else
                                  result["variants"][variant]["records_written"])
        result["variants"][variant]["verify"] = check
    for action in ACTIONS:
        off = statistics.median(times["off"][action])
        for variant in ("on", "on-flat"):
            result["ratios"][f"{variant}/off {action}"] = statistics.median(times[variant][action]) / off
            per_round = [on / base for on, base in zip(blocks[variant][action], blocks["off"][action], strict=True)]
            result.setdefault("per_round_ratios", {})[f"{variant}/off {action}"] = summarize(per_round)
    # "off" must have written nothing anywhere (a default logs/ folder would appear in the cwd).
    strays = [p for p in log_files(folder) if p.parent.name not in ("on", "on-flat") and ".jsonl" in p.name]
    result["variants"]["off"]["records_written"] = sum(1 for path in strays for _ in open(path, "rb"))
    os.chdir(tempfile.gettempdir())
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
