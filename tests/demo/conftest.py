"""What the installed Streamlit's AppTest can do, probed once per test run.

AppTest before Streamlit 1.44 builds its pages manager without a script cache, so every
``st.Page("file.py")`` runs as an empty script: the demo's pages render nothing there. The
entrypoint still runs (the sidebar, logging setup, every run's correlation), and the pages are
covered on those releases by the real-server tests in ``tests/test_demo_server.py``.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pytest


@functools.cache
def apptest_runs_file_pages() -> bool:
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "page.py").write_text("import streamlit as st\nst.title('probe page')\n")
        entry = Path(folder) / "entry.py"
        entry.write_text("import streamlit as st\nst.navigation([st.Page('page.py', default=True)]).run()\n")
        at = AppTest.from_file(str(entry), default_timeout=30).run()
        return [title.value for title in at.title] == ["probe page"]


@pytest.fixture
def file_pages() -> None:
    """Skip a test of the demo's page content where AppTest can't run file pages."""
    if not apptest_runs_file_pages():
        pytest.skip("this Streamlit's AppTest runs st.Page files as empty scripts (fixed in 1.44); "
                    "the pages are tested on a real server instead")
