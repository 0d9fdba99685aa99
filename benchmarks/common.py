"""Helpers shared by the benchmark scripts: counting records on disk, statistics, machine info.

Nothing here is timed: it runs before or after a measurement.
"""

from __future__ import annotations

import bz2
import datetime
import gzip
import json
import lzma
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# Correlation fields every benchmark record carries (values are synthetic).
SESSION_ID = "6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f"
USER_ID = "user_3f2a1b0c9d8e7f60"
OPERATION = "create_client"
MESSAGE_PERCENT = "created client %s"  # stdlib, structlog, spec design, floor
MESSAGE_BRACES = "created client {}"  # loguru

_OPENERS: dict[str, Callable[[Path], Any]] = {
    ".gz": lambda p: gzip.open(p, "rb"),
    ".bz2": lambda p: bz2.open(p, "rb"),
    ".xz": lambda p: lzma.open(p, "rb"),
    ".lzma": lambda p: lzma.open(p, "rb"),
}


def clean_log_env() -> None:
    """Drop every ``LOG_*`` variable: the library reads them when an argument is left to its
    default, and a run must measure the configuration it names, not the caller's shell."""
    for name in [name for name in os.environ if name.startswith("LOG_")]:
        del os.environ[name]


def log_files(folder: Path) -> list[Path]:
    """Every finished log file under ``folder``: plain and compressed, no temporaries.

    A plain file whose compressed twin already exists is left out: a background compressor
    renames the finished archive into place before it removes the plain file.
    """
    # Not temporaries, and not an archive's sidecars (``<archive>.idx``, ``<archive>.manifest``):
    # only log files.
    files = sorted(p for p in Path(folder).rglob("*")
                   if p.is_file() and not p.name.endswith((".tmp", ".idx", ".manifest")))
    names = {p.name for p in files}
    out = []
    for path in files:
        if path.suffix not in _OPENERS and any(path.name + ext in names for ext in _OPENERS):
            continue
        out.append(path)
    return out


def iter_lines(path: Path) -> Iterable[bytes]:
    opener = _OPENERS.get(path.suffix, lambda p: open(p, "rb"))
    with opener(path) as handle:
        yield from handle


def verify_json_lines(folder: Path, expected: int, check: Callable[[dict], bool] | None = None,
                      parse_every: int = 1) -> dict[str, Any]:
    """Count lines in every log file under ``folder`` and parse them (each ``parse_every``-th).

    ``check`` is called on each parsed object (e.g. "carries a correlation id"). Returns a
    summary; ``ok`` is True when the count matches and every parsed line passed.
    """
    lines = parsed = bad_json = failed_check = 0
    files = log_files(folder)
    for path in files:
        for line in iter_lines(path):
            if not line.strip():
                continue
            lines += 1
            if (lines - 1) % parse_every:
                continue
            parsed += 1
            try:
                obj = json.loads(line)
            except ValueError:
                bad_json += 1
                continue
            if not isinstance(obj, dict) or (check is not None and not check(obj)):
                failed_check += 1
    ok = lines == expected and bad_json == 0 and failed_check == 0
    return {"ok": ok, "files": len(files), "lines": lines, "expected": expected, "parsed": parsed,
            "bad_json": bad_json, "failed_check": failed_check}


def wait_for_background_work(folder: Path, timeout: float = 60.0) -> None:
    """Give a background compressor time to finish (no ``*.tmp`` left, listing stable)."""
    import time

    deadline = time.monotonic() + timeout
    previous = None
    while time.monotonic() < deadline:
        listing = sorted((p.name, p.stat().st_size) for p in Path(folder).rglob("*") if p.is_file())
        if listing == previous and not any(name.endswith(".tmp") for name, _ in listing):
            return
        previous = listing
        time.sleep(0.25)


def summarize(samples: list[float]) -> dict[str, Any]:
    if not samples:
        return {"n": 0, "median": None, "min": None, "max": None, "samples": []}
    return {
        "n": len(samples),
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "samples": [round(s, 4) for s in samples],
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.rstrip() if out.returncode == 0 else None


def machine_info() -> dict[str, Any]:
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    try:
        mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                          if line.startswith("MemTotal")))
    except (OSError, StopIteration, ValueError):
        mem_kb = None
    dirty = _git("status", "--porcelain", "--", "streamlit_extension")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "memory_gb": round(mem_kb / 1024 / 1024, 1) if mem_kb else None,
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "packages": {
            name: _version(name)
            for name in ("streamlit-correlation-logging", "loguru", "streamlit", "structlog",
                         "python-json-logger", "orjson", "pyinstrument")
        },
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        # Other work lands in the tree while benchmarks run: say what was measured.
        "library_files_modified": [line[3:].strip() for line in dirty.splitlines() if line.strip()] if dirty else [],
    }


def start_otlp_endpoint() -> subprocess.Popen:
    """A local OTLP/HTTP endpoint (``otlp_discard.py``) in a process of its own, so its work is
    not billed to what is measured; its URL goes to OTEL_EXPORTER_OTLP_ENDPOINT for children."""
    proc = subprocess.Popen([sys.executable, str(HERE / "otlp_discard.py")], stdout=subprocess.PIPE, text=True)
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = proc.stdout.readline().strip()  # type: ignore[union-attr]
    return proc


def last_json_line(text: str) -> dict[str, Any]:
    """A child's result: the last stdout line that is a JSON object."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON result line in the child's output")
