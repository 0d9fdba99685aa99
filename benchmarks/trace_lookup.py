"""Finding one interaction in compressed logs: our reader (or the ``trace`` CLI) vs ``zcat | grep -F``.

    python benchmarks/trace_lookup.py --mb 1024 --rounds 5

The logs are made once by the real library (``setup_logging`` with the default JSON format,
rotation 10 MB, gz: each rotated archive gets its id index from the background compressor)
into a cache folder under the temp dir, and reused by later runs. Each interaction is ~10
records (operations, nested operations, plain records); one interaction, about 60 % of the way
in, carries the correlation id we look for. The last (live) file is compressed by hand at the
end, so it has no index and is always scanned, as the live file is in practice.

Timed, each as its own process and wall clock (interpreter start-up included, as a user sees it):

- ``zcat``: ``zcat FILES | grep -F ID``;
- ``reader``: ``python -c`` importing ``streamlit_extension.logs.reader`` and keeping the records
  of ``read_records(FILES, needle=ID)`` whose correlation_id is ID (one file after the other,
  no index: the sequential floor);
- ``cli``: ``python -m streamlit_extension.logs trace ID FOLDER`` (indexes used);
- ``cli_scan``: the same over a folder of hard links to the same archives without their
  indexes (old archives): every file scanned, in parallel.

The commands are run in a shuffled order each round, after one untimed warm-up each (the
files are then in the page cache for all of them).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO, summarize, wait_for_background_work

from streamlit_extension.sinks.id_index import VERSION as INDEX_VERSION

CACHE_ROOT = Path(tempfile.gettempdir()) / "streamlit_extension_bench_cache"
RECORDS_PER_INTERACTION = 9

READER = """
import json, sys, time
started = time.perf_counter()
from streamlit_extension.logs.reader import ReadStats, read_records
imported = time.perf_counter()
needle, paths = sys.argv[1], sys.argv[2:]
stats = ReadStats()
hits = [r for r in read_records(paths, needle=needle, stats=stats) if r.get("correlation_id") == needle]
done = time.perf_counter()
print(json.dumps({"records": len(hits), "import_s": imported - started, "read_s": done - imported,
                  "lines_scanned": stats.lines}))
"""


def _interaction(logger, correlation_logger, correlation_scope, index: int, cid: str | None) -> None:
    session, user = f"sess_{index % 97:04d}", f"user_{index % 13:02d}"
    with correlation_scope(cid):
        # A random request hash per interaction, so the data compresses like real logs rather than 25:1.
        bound = logger.bind(session_id=session, user_id=user, request_hash=uuid.uuid4().hex)
        with correlation_logger.track_operation("render_clients_page", {"page": "Clients"}):
            bound.info("listing clients for page {}", index % 5)
            with correlation_logger.track_operation("create_client", {"client_key": f"CL{index:07d}"}):
                bound.bind(client_key=f"CL{index:07d}", rows=index % 50).info("created client {}", f"CL{index:07d}")
                bound.info("validated e-mail for client {}", f"CL{index:07d}")
            bound.bind(clients=index % 50).info("rendered table")
            bound.info("finished rendering")


def generate(folder: Path, target_mb: int) -> dict:
    """Write about ``target_mb`` MB (uncompressed) of JSON lines with the real library."""
    from loguru import logger

    from streamlit_extension import correlation_logger, correlation_scope, setup_logging

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name in list(os.environ):
        if name.startswith("LOG_"):
            del os.environ[name]
    handle = setup_logging(log_path=str(folder / "app.jsonl"), console=False, intercept_stdlib=False,
                           rotation="10 MB", compression="gz", retention=None)
    started = time.perf_counter()
    probe = 200
    for index in range(probe):
        _interaction(logger, correlation_logger, correlation_scope, index, None)
    live = max(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    per_interaction = live.stat().st_size / probe
    total = int(target_mb * 1024 * 1024 / per_interaction)
    needle_at = int(total * 0.6)
    needle = f"req_{uuid.uuid4().hex[:12]}"
    for index in range(probe, total):
        _interaction(logger, correlation_logger, correlation_scope, index, needle if index == needle_at else None)
    handle.close()
    wait_for_background_work(folder)
    # The last (live) file stays plain after close: compress it too, so the set is all .gz.
    for plain in folder.glob("*.jsonl"):
        with open(plain, "rb") as source, gzip.open(str(plain) + ".gz", "wb", compresslevel=6) as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
        plain.unlink()
    files = sorted(folder.glob("*.gz"))
    uncompressed = lines = needle_lines = 0
    needle_bytes = needle.encode()
    for path in files:
        with gzip.open(path, "rb") as handle_in:
            for line in handle_in:
                uncompressed += len(line)
                lines += 1
                needle_lines += needle_bytes in line
    manifest = {
        "complete": True,
        "indexed": sum(1 for path in files if Path(f"{path}.idx").exists()),
        "index_version": INDEX_VERSION,
        "needle": needle,
        "needle_records": needle_lines,
        "files": [p.name for p in files],
        "records": lines,
        "uncompressed_mb": round(uncompressed / 1024 / 1024, 1),
        "compressed_mb": round(sum(p.stat().st_size for p in files) / 1024 / 1024, 1),
        "generated_in_s": round(time.perf_counter() - started, 1),
        "format": "loguru serialize=True (the default)",
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def dataset(target_mb: int, regenerate: bool = False) -> tuple[Path, dict]:
    folder = CACHE_ROOT / f"trace-{target_mb}mb"
    manifest_path = folder / "manifest.json"
    if not regenerate and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        # Indexes of another version are ignored by the reader: such a set measures the scan.
        finished = (manifest.get("complete") and manifest.get("indexed")
                    and manifest.get("index_version") == INDEX_VERSION)
        if finished and all((folder / name).exists() for name in manifest["files"]):
            manifest["reused"] = True
            return folder, manifest
    manifest = generate(folder, target_mb)
    manifest["reused"] = False
    return folder, manifest


def unindexed_copy(folder: Path, names: list[str]) -> Path:
    """A sibling folder of hard links to the archives, without their index files."""
    copy = folder.with_name(folder.name + "-unindexed")
    if copy.exists():
        shutil.rmtree(copy)
    copy.mkdir()
    for name in names:
        os.link(folder / name, copy / name)
    return copy


def _timed(command: list[str], env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env, cwd=REPO)
    return time.perf_counter() - start, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=250, help="uncompressed size of the data set")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    folder, manifest = dataset(args.mb, args.regenerate)
    needle = manifest["needle"]
    files = [str(folder / name) for name in manifest["files"]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOG_")}
    commands = {
        "zcat": ["sh", "-c", 'zcat -- "$@" | grep -F -- "$0"', needle, *files],
        "reader": [sys.executable, "-c", READER, needle, *files],
    }
    has_cli = importlib.util.find_spec("streamlit_extension.logs.__main__") is not None
    if has_cli:
        commands["cli"] = [sys.executable, "-m", "streamlit_extension.logs", "trace", needle, str(folder)]
        commands["cli_scan"] = [sys.executable, "-m", "streamlit_extension.logs", "trace", needle,
                                str(unindexed_copy(folder, manifest["files"]))]

    def check(name: str, done: subprocess.CompletedProcess) -> dict:
        if name == "zcat":
            return {"ok": done.returncode == 0 and done.stdout.count(b"\n") == manifest["needle_records"],
                    "lines": done.stdout.count(b"\n")}
        if name == "reader":
            out = json.loads(done.stdout.decode().strip().splitlines()[-1]) if done.returncode == 0 else {}
            return {"ok": out.get("records") == manifest["needle_records"], **out}
        return {"ok": done.returncode == 0 and needle.encode() in done.stdout,
                "returncode": done.returncode, "stdout_lines": done.stdout.count(b"\n"),
                "stderr_tail": done.stderr.decode(errors="replace")[-300:]}

    samples: dict[str, list[float]] = {name: [] for name in commands}
    checks: dict[str, dict] = {}
    reader_inner: list[float] = []
    for name, command in commands.items():  # warm-up: page cache, .pyc files
        _, done = _timed(command, env)
        checks[name] = check(name, done)
    for _ in range(args.rounds):
        order = list(commands)
        rng.shuffle(order)
        for name in order:
            seconds, done = _timed(commands[name], env)
            samples[name].append(seconds)
            result = check(name, done)
            if not result["ok"]:
                checks[name] = result
            if name == "reader" and "read_s" in result:
                reader_inner.append(result["read_s"])

    out = {
        "dataset": {**manifest, "folder": str(folder)},
        "has_cli": has_cli,
        "seconds": {name: summarize(values) for name, values in samples.items()},
        "reader_in_process_s": summarize(reader_inner),
        "checks": checks,
    }
    zcat = out["seconds"]["zcat"]["median"]
    out["ratios"] = {f"{name}/zcat": out["seconds"][name]["median"] / zcat for name in commands if name != "zcat"}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
