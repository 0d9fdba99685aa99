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


def current_key(at, key: str) -> str:
    """A demo create form's widget key now, in an AppTest: ``new_client_key``, then
    ``new_client_key_1``... after each success (the demo renews the keys, so a browser empties the
    form)."""
    keys = {w.key for w in (*at.selectbox, *at.text_input) if w.key}
    matches = [k for k in keys if k == key or (k.startswith(key + "_") and k[len(key) + 1:].isdigit())]
    assert len(matches) == 1, f"no single widget for {key!r} among {sorted(keys)}"
    return matches[0]
