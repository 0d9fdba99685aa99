"""The package's import graph: the Streamlit side never imports the installation back.

``configure`` hands its handle to ``integration.install(handle)``; an import of ``configure``
from ``integration`` (outside type checking) would close the old cycle again. And an app that
adds the Log Explorer loads its page only when someone opens it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "streamlit_extension"


def _runtime_imports(path: Path) -> set[str]:
    """Modules ``path`` imports when it runs (``if TYPE_CHECKING:`` blocks left out)."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(node) for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body for node in ast.walk(stmt)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
            found.update("." * node.level + alias.name for alias in node.names if node.module is None)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_integration_never_imports_configure():
    for path in sorted((PACKAGE / "integration").glob("*.py")):
        imports = _runtime_imports(path)
        assert not {name for name in imports if name.lstrip(".").split(".")[0] == "configure"
                    or name.endswith("streamlit_extension.configure")}, path.name


def test_the_core_imports_without_streamlit():
    code = ("import sys; import streamlit_extension; from streamlit_extension import setup_logging, "
            "init_streamlit_logging; print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_adding_the_log_explorer_leaves_its_page_unloaded():
    # explorer_page() runs on every run of an app; the page's imports (pandas, altair: about a
    # second) wait until someone opens it.
    code = ("import sys; from streamlit_extension.explorer import explorer_access, explorer_page; "
            "print([m for m in ('pandas', 'altair', 'streamlit_extension.explorer.page', "
            "'streamlit_extension.explorer.data') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
