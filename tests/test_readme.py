"""The README's commands work as written: its two set-up commands, and install lines that name
extras setup.cfg declares, from a clone (the package is on no package index)."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import streamlit

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PACKAGE = "streamlit-correlation-logging"


def setup_commands() -> list[str]:
    return [line for line in README.read_text().splitlines() if line.startswith("python3 -m venv .venv && ")]


def extras() -> set[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return set(config["options.extras_require"])


def texts_with_install_lines() -> dict[Path, str]:
    """The README, the docs and the library's own hints (an error message saying what to install)."""
    paths = [README, ROOT / "benchmarks" / "README.md", *ROOT.glob("docs/*.md"),
             *ROOT.glob("streamlit_extension/**/*.py")]
    return {path: path.read_text() for path in paths}


def test_the_readme_keeps_two_set_up_commands_and_the_demo_sends_no_usage_statistics():
    demo, tests = setup_commands()
    assert tests.endswith(".venv/bin/python -m pytest")
    run = shlex.split(demo.split(" && ")[-1])
    assert run[:4] == ["LOG_EXPLORER_USERS=localhost", ".venv/bin/streamlit", "run", "streamlit_extension/app.py"]
    options = dict(zip(run[4::2], run[5::2], strict=True))
    assert options == {"--server.headless": "true", "--browser.gatherUsageStats": "false"}
    for name in options:
        streamlit.config.get_option(name.removeprefix("--"))  # a real option of this Streamlit (raises if not)


def test_install_lines_name_declared_extras_and_install_from_a_clone():
    declared = extras()
    assert {"otel", "sql", "test", "lint", "bench"} <= declared
    for path, text in texts_with_install_lines().items():
        for extra in re.findall(r"pip install[^\n`]*?-e '\.\[([a-z,]+)\]'", text):
            assert set(extra.split(",")) <= declared, (path, extra)
        # ``pip install streamlit-correlation-logging[...]`` asks an index for a name none has.
        assert not re.search(rf"pip install '?{PACKAGE}", text), path
