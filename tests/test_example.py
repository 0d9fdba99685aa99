"""The README's example script, run for real in a subprocess, in both formats."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import read_json_lines

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "basic.py"


@pytest.mark.parametrize("json_format", ["loguru", "flat"])
def test_example_writes_one_interaction(tmp_path, json_format):
    env = {**os.environ, "LOG_FORMAT": json_format, "LOG_CONSOLE": "0"}
    done = subprocess.run([sys.executable, str(EXAMPLE)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    records = read_json_lines(tmp_path / "logs" / "example.jsonl")
    flat = records if json_format == "flat" else [
        {**r["record"]["extra"], "message": r["record"]["message"]} for r in records
    ]
    assert len(flat) == 6
    assert len({r["correlation_id"] for r in flat}) == 1
    assert [r.get("event") for r in flat] == ["start", "start", None, None, "complete", "complete"]
    legacy = flat[2]
    assert legacy["message"] == "inserting client ACME"
    assert legacy["table"] == "clients"
    assert "never-written" not in (tmp_path / "logs" / "example.jsonl").read_text()
