"""Small helpers shared by the tests."""

from __future__ import annotations

import json
from pathlib import Path


def read_json_lines(path) -> list[dict]:
    """Every line of a JSON-lines file, parsed strictly (NaN/Infinity refused)."""

    def refuse(token: str):
        raise ValueError(f"non-strict JSON token {token}")

    lines = Path(path).read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "", "file must end with a newline"
    return [json.loads(line, parse_constant=refuse) for line in lines[:-1]]


def run_together(count: int, work) -> None:
    """Run ``work(n)`` for n in range(count), each in its own thread, released at one barrier."""
    import threading

    barrier = threading.Barrier(count)

    def start(n: int) -> None:
        barrier.wait()
        work(n)

    threads = [threading.Thread(target=start, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
