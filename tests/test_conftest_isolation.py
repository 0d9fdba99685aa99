"""The isolation conftest.py promises: no setting from the caller's environment reaches a test,
and no "said once" notice of one test silences the next.

The first test reads the library's source, so a new ``LOG_*`` or ``STREAMLIT_EXTENSION_*``
variable fails here until conftest resets it too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import streamlit_extension
from streamlit_extension import _report

from .conftest import _ENV, _ENV_PREFIXES, forget_notices

PACKAGE = Path(streamlit_extension.__file__).parent
ROOT = Path(__file__).resolve().parent.parent
ENV_LITERAL = re.compile(r"""["']((?:LOG|STREAMLIT_EXTENSION|OTEL)_[A-Z0-9_]+)["']""")


def variables_the_library_names() -> dict[str, set[str]]:
    """Each quoted ``LOG_*``, ``STREAMLIT_EXTENSION_*`` and ``OTEL_*`` name in the package
    source, with the files it appears in."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for name in ENV_LITERAL.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, set()).add(str(path.relative_to(PACKAGE)))
    return found


def test_conftest_resets_every_variable_the_library_reads():
    found = variables_the_library_names()
    assert {"LOG_FILE", "LOG_OTEL", "STREAMLIT_EXTENSION_DISABLE", "OTEL_EXPORTER_OTLP_ENDPOINT"} <= set(found)
    missed = {name: sorted(files) for name, files in found.items()
              if name not in _ENV and not name.startswith(_ENV_PREFIXES)}
    assert not missed, f"add these to _ENV in tests/conftest.py: {missed}"


def test_no_setting_reaches_a_test():
    leaked = [name for name in os.environ if name in _ENV or name.startswith(_ENV_PREFIXES)]
    assert leaked == ["LOG_PER_PROCESS"]
    assert os.environ["LOG_PER_PROCESS"] == "0"


def test_a_polluted_environment_does_not_reach_a_test():
    """Run the test above in a fresh pytest whose environment sets every variable."""
    polluted = dict(os.environ)
    for name in [*variables_the_library_names(), *_ENV, "OTEL_EXPORTER_OTLP_HEADERS"]:
        polluted[name] = "junk"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"{Path(__file__).relative_to(ROOT)}::test_no_setting_reaches_a_test"],
        cwd=ROOT, env=polluted, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_forget_notices_lets_a_once_only_notice_out_again(capsys):
    assert _report.notice_once("isolation-test", "first")
    assert not _report.notice_once("isolation-test", "again")
    forget_notices()
    assert _report.notice_once("isolation-test", "after reset")
    assert capsys.readouterr().err.splitlines() == ["streamlit_extension: first", "streamlit_extension: after reset"]


def test_forget_notices_also_forgets_lost_streamlit_capabilities(capsys):
    from streamlit_extension.integration import compat

    compat.lose("stop_request")
    compat.lose("stop_request")  # said once
    assert not compat.available("stop_request")
    forget_notices()
    assert compat.available("stop_request")
    assert compat.missing() == frozenset()
    compat.lose("stop_request")  # and said again, as a test that checks for it expects
    assert capsys.readouterr().err.count("(stop_request: not found)") == 2
