"""The Log Explorer's rerun after its live file grew: reading on from the last offset vs re-parsing.

    python benchmarks/explorer_reread.py [--mb 100] [--append-mb 1] [--rounds 5] [--format loguru]

A live file of ``--mb`` MB is written by the real library (``setup_logging``, no rotation), and
read once through the page's own ``LiveFile`` entry (what a first visit does). Then, each round,
``--append-mb`` MB more is logged into it (the library again, in this process, between
measurements) and timed, single-threaded, on warm page cache:

- ``incremental``: ``LiveFile.load()`` on the warm entry, as the page's next rerun calls it:
  parse the appended bytes, build their frame, concatenate it to the cached one;
- ``full``: what the page did before, a new parse of the whole file into a frame
  (``records_frame(read_records([file]))``);
- ``folder``: the page's whole view of the folder (``explorer_view`` with the default filters,
  on a warm ``FileCache``: the above, plus the table, tallies and interactions), for context.

The last line printed is one JSON object: medians, the issue's goal (incremental <= 0.1 s) and
whether it is met. Never part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import clean_log_env, machine_info

GOAL_S = 0.1


def _interaction(logger, correlation_logger, correlation_scope, index: int) -> None:
    """About 9 records, like one click in the demo: nested operations and plain records."""
    session, user = f"sess_{index % 97:04d}", f"user_{index % 13:02d}"
    with correlation_scope():
        bound = logger.bind(session_id=session, user_id=user, request_hash=uuid.uuid4().hex)
        with correlation_logger.track_operation("render_clients_page", {"page": "Clients"}):
            bound.info("listing clients for page {}", index % 5)
            with correlation_logger.track_operation("create_client", {"client_key": f"CL{index:07d}"}):
                bound.bind(client_key=f"CL{index:07d}", rows=index % 50).info("created client {}", f"CL{index:07d}")
            bound.bind(clients=index % 50).info("rendered table")


def write(path: Path, megabytes: float, json_format: str, start: int) -> int:
    """Log about ``megabytes`` MB more into ``path`` with the real library; returns the next index."""
    from loguru import logger

    from streamlit_extension import correlation_logger, correlation_scope, setup_logging

    handle = setup_logging(log_path=str(path), per_process=False, json_format=json_format, console=False,
                           intercept_stdlib=False, rotation=None, retention=None, compression=None)
    target = (path.stat().st_size if path.exists() else 0) + megabytes * 1024 * 1024
    index = start
    try:
        while True:
            for _ in range(50):
                _interaction(logger, correlation_logger, correlation_scope, index)
                index += 1
            if path.stat().st_size >= target:
                return index
    finally:
        handle.close()


def timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="size of the live file (default 100)")
    parser.add_argument("--append-mb", type=float, default=1.0, help="appended before each rerun (default 1)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--format", choices=("loguru", "flat"), default="loguru",
                        help="the file's JSON format (default: the library's default, loguru)")
    args = parser.parse_args()
    clean_log_env()
    warnings.filterwarnings("ignore")

    from streamlit_extension.explorer import page
    from streamlit_extension.explorer.data import FileCache, LiveFile, explorer_view, list_files, records_frame
    from streamlit_extension.explorer.filters import Filters
    from streamlit_extension.explorer.reports import FolderSummary
    from streamlit_extension.logs import read_records

    defaults = Filters(since=None, until=None, min_level=0, user_id="", session_id="", correlation_id="", text="",
                       hide_own=True, server=False)  # what the page first opens with
    cache = FileCache()

    def view_folder(folder: Path):
        refs = list_files([folder], FolderSummary())
        return explorer_view(refs, defaults, table_rows=page.MAX_TABLE_ROWS, interactions=page.RECENT_INTERACTIONS,
                             error_rows=page.MAX_ERRORS_SHOWN, cache=cache)

    logging.getLogger("streamlit").setLevel(logging.ERROR)  # bare mode: "missing ScriptRunContext"

    with tempfile.TemporaryDirectory(prefix="explorer_reread_") as scratch:
        folder = Path(scratch) / "logs"
        folder.mkdir()
        path = folder / "app.jsonl"
        print(f"writing {args.mb:g} MB of {args.format} records ...", file=sys.stderr)
        generated_s, index = timed(lambda: write(path, args.mb, args.format, 0))
        live = LiveFile(str(path), None)  # what the page's FileCache keeps for a plain file
        first_s, (frame, _) = timed(live.load)  # the first visit: the cache is warm from here on
        view_folder(folder)  # the whole view's first visit too (untimed), so its cache is warm as well
        rows_before = len(frame)
        incremental, full, whole_folder = [], [], []
        for round_ in range(args.rounds):
            index = write(path, args.append_mb, args.format, index)
            seconds, (frame, report) = timed(live.load)
            incremental.append(seconds)
            seconds, fresh = timed(lambda: records_frame(read_records([path])))
            full.append(seconds)
            assert len(fresh) == len(frame) == report["records"], (len(fresh), len(frame), report["records"])
            index = write(path, args.append_mb, args.format, index)
            seconds, _ = timed(lambda: view_folder(folder))
            whole_folder.append(seconds)
            print(f"round {round_ + 1}: incremental {incremental[-1]:.3f} s, full {full[-1]:.3f} s, "
                  f"folder {whole_folder[-1]:.3f} s", file=sys.stderr)
        assert live.source.reads_from_start == 1, "the live file was read afresh: not incremental"
        result = {
            "benchmark": "explorer_reread",
            "format": args.format,
            "file_mb": round(path.stat().st_size / 1024 / 1024, 1),
            "append_mb": args.append_mb,
            "rows_before": rows_before,
            "rows_after": len(frame),
            "generated_s": round(generated_s, 1),
            "first_load_s": round(first_s, 3),
            "incremental_s": round(statistics.median(incremental), 4),
            "full_s": round(statistics.median(full), 4),
            "folder_s": round(statistics.median(whole_folder), 4),
            "incremental_samples": [round(s, 4) for s in incremental],
            "full_samples": [round(s, 4) for s in full],
            "speedup": round(statistics.median(full) / statistics.median(incremental), 1),
            "goal": f"incremental_s <= {GOAL_S}",
            "goal_met": statistics.median(incremental) <= GOAL_S,
            "machine": {key: value for key, value in machine_info().items()
                        if key in ("cpu_model", "cores", "load_average", "python", "git_commit")},
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
