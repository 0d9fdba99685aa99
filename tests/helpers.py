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
