"""The supported range is the tested range: setup.cfg, tox.ini, CI and the README agree."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import streamlit

ROOT = Path(__file__).resolve().parents[1]
EN_DASH = "\N{EN DASH}"  # the README writes its version range with a typographic dash


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def _streamlit_range() -> tuple[tuple[int, int], tuple[int, int]]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    (spec,) = [line.strip() for line in cfg["options"]["install_requires"].splitlines()
               if line.strip().startswith("streamlit")]
    match = re.fullmatch(r"streamlit>=(\d+\.\d+),<(\d+)\.(\d+)", spec)
    assert match, f"expected streamlit>=FLOOR,<CEILING in setup.cfg, got {spec!r}"
    floor = _minor(match[1])
    return floor, (int(match[2]), int(match[3]) - 1)


def test_tox_has_an_env_for_every_minor_release_in_the_range():
    floor, newest = _streamlit_range()
    tox = (ROOT / "tox.ini").read_text()
    pinned = {(1, int(m)) for m in re.findall(r"st1(\d\d): streamlit==1\.\1\.\*", tox)}
    assert pinned == {(1, minor) for minor in range(floor[1], newest[1] + 1)}
    envlist = tox.split("envlist =")[1].split("[testenv]")[0]
    listed = {f"st{minor}" for group in re.findall(r"st\{([0-9,]+)\}", envlist) for minor in group.split(",")}
    assert {f"st{floor[0]}{floor[1]}", "st156", "st157"} <= listed
    assert "stnewest" in envlist


def test_ci_runs_the_floor_and_the_last_tornado_release():
    floor, _ = _streamlit_range()
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"for version in {floor[0]}.{floor[1]} 1.56; do" in ci


def test_the_readme_states_the_same_range():
    floor, newest = _streamlit_range()
    readme = (ROOT / "README.md").read_text()
    assert f"**Streamlit {floor[0]}.{floor[1]} {EN_DASH} {newest[0]}.{newest[1]} on Python" in readme


def test_this_streamlit_is_inside_the_range():
    floor, newest = _streamlit_range()
    assert floor <= _minor(streamlit.__version__) <= newest
