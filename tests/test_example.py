"""The README's example script, run for real in a subprocess, in both formats."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import read_json_lines

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "basic.py"


@pytest.mark.parametrize("json_format", ["loguru", "flat"])
def test_example_writes_one_interaction(tmp_path, json_format):
    # A copy of the repository's layout, run from its root as the README says: the example
    # writes beside itself, not into the demo's logs/ (where the Log Explorer would list it).
    script = tmp_path / "examples" / "basic.py"
    script.parent.mkdir()
    shutil.copy(EXAMPLE, script)
    env = {**os.environ, "LOG_FORMAT": json_format, "LOG_CONSOLE": "0"}
    done = subprocess.run([sys.executable, "examples/basic.py"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    written = tmp_path / "examples" / "logs" / "example.jsonl"
    assert done.stdout == f"wrote {written}\n"
    assert not (tmp_path / "logs").exists()
    records = read_json_lines(written)
    flat = records if json_format == "flat" else [
        {**r["record"]["extra"], "message": r["record"]["message"]} for r in records
    ]
    assert len(flat) == 6
    assert len({r["correlation_id"] for r in flat}) == 1
    assert [r.get("event") for r in flat] == ["start", "start", None, None, "complete", "complete"]
    legacy = flat[2]
    assert legacy["message"] == "inserting client ACME"
    assert legacy["table"] == "clients"
    assert "never-written" not in written.read_text()
