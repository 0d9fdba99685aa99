"""What failure context costs a successful click: one interaction, logged with it on vs off.

    python benchmarks/failure_context.py --variant flat-on --n 2000

One interaction, as a Streamlit click that succeeds: a ``correlation_scope`` around a tracked
operation (``start``, ``complete``) that logs ``DEBUG_LINES`` DEBUG lines and one INFO line;
the file's level is INFO, so 3 records reach the file either way. Variants:

- ``<format>-off``: ``failure_context`` off: the DEBUG calls stop at loguru's first check;
- ``<format>-on``: ``failure_context="DEBUG"``: each DEBUG record is patched, kept, and dropped
  when the scope ends;
- ``flat-on-failed``: as ``flat-on``, with an ERROR record at the end of every interaction,
  so its DEBUG lines are written (the price of a failed click, for information).

Prints one JSON line: microseconds per interaction (best of ``blocks``), and the lines checked
on disk. ``run.py`` runs each variant in its own process, interleaved over rounds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import clean_log_env, verify_json_lines

VARIANTS = ("flat-off", "flat-on", "loguru-off", "loguru-on", "flat-on-failed")
DEBUG_LINES = 10  # DEBUG records per interaction
WRITTEN = 3  # records a successful interaction writes: start, the INFO line, complete


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    parser.add_argument("--n", type=int, default=2000, help="interactions per block")
    parser.add_argument("--blocks", type=int, default=5)
    args = parser.parse_args()

    clean_log_env()
    folder = Path(tempfile.mkdtemp(prefix="bench-failure-context-"))
    from loguru import logger

    from streamlit_extension import correlation_logger, correlation_scope, setup_logging

    json_format, state = args.variant.split("-", 2)[:2]
    failing = args.variant.endswith("-failed")
    handle = setup_logging(log_path=str(folder / "app.jsonl"), json_format=json_format, console=False, level="INFO",
                           rotation=None, retention=None, compression=None, per_process=False,
                           failure_context="DEBUG" if state == "on" else None)

    def interaction(index: int) -> None:
        with correlation_scope(), correlation_logger.track_operation("save_client"):
            for line in range(DEBUG_LINES):
                logger.debug("checked field {} of client {}", line, index)
            logger.bind(client_key=f"CL{index:07d}").info("saved client {}", index)
            if failing:
                logger.error("the save failed")

    for index in range(200):  # warm-up
        interaction(index)
    blocks = []
    for _ in range(args.blocks):
        started = time.perf_counter()
        for index in range(args.n):
            interaction(index)
        blocks.append((time.perf_counter() - started) / args.n * 1e6)
    handle.close()
    per = WRITTEN + (1 + DEBUG_LINES if failing else 0)
    check = verify_json_lines(folder, (200 + args.blocks * args.n) * per)
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps({"variant": args.variant, "us_per_interaction": min(blocks), "blocks": blocks,
                      "records_per_interaction": per, "verify": check}))


if __name__ == "__main__":
    main()
