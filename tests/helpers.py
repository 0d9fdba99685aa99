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


def open_url_path(at, url_path: str):
    """Point an AppTest's next run at the ``st.navigation`` page served at ``/url_path``, as a
    browser opening that URL does; returns ``at``.

    ``AppTest.switch_page`` takes a page *file*, and the Log Explorer is a callable page
    (``st.Page(fn)``), which it can't reach (1.67 refuses, older releases hash the file name).
    Every supported release names an ``st.navigation`` page by the hash of its url_path
    (``StreamlitPage._script_hash``), which is what a run asks for, so the test asks for that.
    Callers check the title after the run: a hash that names no page opens the default one.
    """
    try:
        from streamlit.util import calc_hash  # 1.67
    except ImportError:  # before: md5, under this name
        from streamlit.util import calc_md5 as calc_hash
    at._page_hash = calc_hash(url_path)
    return at
