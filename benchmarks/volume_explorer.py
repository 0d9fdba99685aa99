"""One Log Explorer measurement, in this (fresh) process: started by ``volume.py``, one per sample.

    LOG_EXPLORER_USERS=localhost LOG_FILE=FOLDER/app.jsonl python benchmarks/volume_explorer.py [PAGE_FILE]

The Log Explorer's page (``streamlit_extension.explorer.page``), or a page file given instead
(an older checkout's), runs under ``streamlit.testing.v1.AppTest`` as the tests drive it
(``tests/demo/test_log_explorer.py``): it reads the folder of ``$LOG_FILE`` with its default
filters. Timed, each ``AppTest.run()`` on its own:

- ``first_open_s``: the first run (nothing cached yet: every file is read);
- ``rerun_changed_s``: the minimum level set to WARNING, then a run (what a click on a filter costs);
- ``rerun_same_s``: a run that changes nothing (Streamlit reruns the page on any interaction).

Memory, from ``/proc/self/status``: ``VmRSS`` after Streamlit's testing module is imported and
before the page runs (its own imports, pandas and altair among them, count as the page's), and
the peak (``VmHWM``, reset through ``/proc/self/clear_refs`` just before the page runs, where the
kernel allows it) after each run. The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

LEVEL_KEY = "lx_level"  # the page's "Minimum level" selectbox
CHANGED_LEVEL = "WARNING"


def status_mb(field: str) -> float:
    """A ``/proc/self/status`` memory line (``VmRSS``, ``VmHWM``) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def reset_peak() -> bool:
    """Start ``VmHWM`` over from the current RSS (Linux: ``5`` into ``clear_refs``); False if refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def timed_run(at: Any) -> float:
    started = time.perf_counter()
    at.run()
    return time.perf_counter() - started


def page_state(at: Any) -> dict[str, Any]:
    """What the run showed: its exception, titles, and the "Read N file(s), M records" caption."""
    captions = [c.value for c in at.caption]
    read = next((c for c in captions if c.startswith("Read ")), None)
    counts = re.search(r"Read (\d+) file\\?\(s\\?\), ([\d,]+) records", read or "")
    table = next((c for c in captions if "records match" in c or "matching record" in c), None)
    in_range = re.search(r"of the ([\d,]+) in range", table or "")
    return {
        "exception": [str(e.value)[:500] for e in at.exception],
        "titles": [t.value for t in at.title],
        "read_caption": read,
        "files": int(counts.group(1)) if counts else None,
        "records": int(counts.group(2).replace(",", "")) if counts else None,
        "table_caption": table,
        "in_range": int(in_range.group(1).replace(",", "")) if in_range else None,
    }


def explorer_script() -> None:
    """The script AppTest runs by default: the Log Explorer's page, as ``explorer_page()`` runs it."""
    from streamlit_extension.explorer.page import render_log_explorer_page

    render_log_explorer_page()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", nargs="?", help="a page file to run instead of the Log Explorer's page")
    parser.add_argument("--timeout", type=float, default=600.0, help="AppTest's timeout per run (s)")
    args = parser.parse_args()

    from streamlit.testing.v1 import AppTest

    peak_reset = reset_peak()
    before = status_mb("VmRSS")
    at = (AppTest.from_file(args.page, default_timeout=args.timeout) if args.page
          else AppTest.from_function(explorer_script, default_timeout=args.timeout))
    result: dict[str, Any] = {"rss_before_mb": round(before, 1), "peak_reset": peak_reset}
    result["first_open_s"] = timed_run(at)
    result["first"] = page_state(at)
    result["peak_after_first_mb"] = round(status_mb("VmHWM"), 1)
    at.selectbox(key=LEVEL_KEY).set_value(CHANGED_LEVEL)
    result["rerun_changed_s"] = timed_run(at)
    result["changed"] = page_state(at)
    result["rerun_same_s"] = timed_run(at)
    result["same"] = page_state(at)
    result["peak_rss_mb"] = round(status_mb("VmHWM"), 1)
    result["rss_after_mb"] = round(status_mb("VmRSS"), 1)
    result["rss_added_mb"] = round(result["peak_rss_mb"] - before, 1)
    result["ok"] = all(not result[step]["exception"] and result[step]["titles"] == ["Log Explorer"]
                       for step in ("first", "changed", "same"))
    sys.stdout.flush()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
