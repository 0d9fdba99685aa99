"""The package's layout: no import cycles, and other libraries' private names in one module each.

``configure`` hands its handle to ``integration.install(handle)``; an import of ``configure``
from ``integration`` (outside type checking) would close the old cycle again. And an app that
adds the Log Explorer loads its page only when someone opens it.

**Import cycles.** The graph has an edge for every import a module makes when it is loaded: at
its top level, in a class body, under ``try:``/``if``, and under ``if TYPE_CHECKING:``. A
type-checking import runs only for mypy, but it is still a module naming its consumer's types,
and that is how the old ``_state`` came to know six of its consumers (issue 23). Imports inside
functions are left out: each is deferred on purpose until the call (Streamlit, only inside an
app; the Streamlit side, which ``configure`` must not load first; OpenTelemetry's exporters;
the package version), runs when every module is loaded, and so can't see a half-initialised
one. A package's ``__init__`` counts only where it is imported by name: Python runs the parents
of every submodule it imports, but a submodule names nothing by that (and the package root's
type-checking imports of every public name would otherwise make the whole package one cycle).

**Private names.** loguru's are used only in ``_loguru.py``, Streamlit's internals only in
``integration/compat.py``, OpenTelemetry's underscore modules only in ``otel/_api.py``: each
says there what it uses, why, and what happens without it. Elsewhere a module may not import a
private module of those libraries (for Streamlit: any module but ``streamlit`` and its published
``testing.v1``/``components.v1``), nor read or set an underscore attribute (``logger._core``,
``getattr(ctx, "_x")``, ``setattr(ctx, NAME, ...)`` with a private ``NAME``) on what it got from
them: a name imported from them or assigned from such a name (``loaded = st.secrets``), and
Streamlit's run context, which the package always calls ``ctx``. A few Streamlit internals have
public-looking names; they are listed below. Objects reached any other way (a loguru record's
fields, say) are beyond an AST's reach.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "streamlit_extension"
NAME = PACKAGE.name

# Where each library's private names may be used.
HOMES = {"loguru": "_loguru.py", "streamlit": "integration/compat.py", "opentelemetry": "otel/_api.py"}
PUBLIC_STREAMLIT_MODULES = {"streamlit", "streamlit.testing.v1", "streamlit.components.v1"}
# Streamlit internals without an underscore: what compat reads on Streamlit's objects.
STREAMLIT_INTERNALS = {"load_if_toml_exists", "cursors", "script_requests", "pages_manager", "on_script_error",
                       "on_event", "streamlit_console_handler", "get_client"}
ATTRIBUTE_CALLS = {"getattr", "setattr", "hasattr", "delattr"}

# Temporary (issue 23): private names in modules being rewritten on other branches right now.
# Whoever merges them takes each entry out; an entry that no longer occurs fails the test. (No
# import cycle is left to allow.)
ALLOWED_PRIVATE_NAMES: set[tuple[str, str]] = set()


def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


class _LoadTimeImports(ast.NodeVisitor):
    """Import statements that run when the module is loaded (type checking counted)."""

    def __init__(self) -> None:
        self.found: list[ast.Import | ast.ImportFrom] = []

    def visit_Import(self, node: ast.Import) -> None:
        self.found.append(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.found.append(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        pass  # deferred to the call: see the module docstring

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        pass


def load_time_imports(module: str, is_package: bool, source: str, known: set[str]) -> set[str]:
    """The modules among ``known`` that ``module`` imports when loaded. ``from X import name``
    imports the submodule ``X.name`` if there is one, else ``X`` itself."""
    visitor = _LoadTimeImports()
    visitor.visit(ast.parse(source))
    found = set()
    for node in visitor.found:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        origin = node.module or ""
        if node.level:
            parts = module.split(".")
            base = parts[: len(parts) - node.level + is_package]
            origin = ".".join([*base, node.module] if node.module else base)
        found.update(f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in known else origin
                     for alias in node.names)
    return found & known - {module}


def import_graph() -> dict[str, set[str]]:
    """Each module of the package → the package's modules it imports when loaded."""
    known = modules()
    return {module: load_time_imports(module, path.name == "__init__.py", path.read_text(encoding="utf-8"),
                                      set(known)) for module, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_type_checking_imports_included():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles: " + "; ".join(
        " ".join(f"{a}->{b}" for a in group for b in sorted(graph[a] & set(group))) for group in found)


def test_a_cycle_through_a_type_checking_import_is_found_and_a_deferred_import_is_not():
    a, b = f"{NAME}.a", f"{NAME}.b"
    graph = {a: load_time_imports(a, False, "from . import b\n", {a, b}),
             b: load_time_imports(b, False, "from typing import TYPE_CHECKING\n\n"
                                            "if TYPE_CHECKING:\n    from .a import A\n", {a, b})}
    assert cycles(graph) == [[a, b]]
    graph[b] = load_time_imports(b, False, "def later():\n    from .a import A\n", {a, b})
    assert cycles(graph) == []
    # The real graph: a TYPE_CHECKING import is in it, a function's import is not.
    real = import_graph()
    assert f"{NAME}.installation" in real[f"{NAME}.integration"]
    assert f"{NAME}.integration" not in real[f"{NAME}.configure"]


def test_integration_never_imports_configure():
    """``configure`` hands its handle to ``integration.install(handle)`` (importing the Streamlit
    side only when it is needed); the Streamlit side never imports the entry points back."""
    for module, imports in import_graph().items():
        if module.startswith(f"{NAME}.integration"):
            assert f"{NAME}.configure" not in imports, module


# --------------------------------------------------------------------------- private names


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` assignments: a marker passed to getattr/setattr by name."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            found.update({target.id: node.value.value for target in node.targets if isinstance(target, ast.Name)})
    return found


def _root(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_names(relative: str, source: str) -> set[tuple[str, str]]:
    """``(relative, name)`` for each private name of loguru, Streamlit or OpenTelemetry the
    module ``relative`` (a path under the package) uses outside that library's home."""
    tree = ast.parse(source)
    home_of = {library: home == relative for library, home in HOMES.items()}
    bound: dict[str, str] = {}  # a local name → the library it came from
    found: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                library = alias.name.split(".")[0]
                if library in HOMES:
                    bound[alias.asname or library] = library
                    found |= _private_module(relative, library, alias.name, home_of)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            library = module.split(".")[0] if not node.level else None
            if library in HOMES:
                found |= _private_module(relative, library, module, home_of)
                for alias in node.names:
                    bound[alias.asname or alias.name] = library
                    if _private(alias.name) and not home_of[library]:
                        found.add((relative, f"{module}.{alias.name}"))
            if module.endswith("compat") or any(alias.name == "compat" for alias in node.names):
                bound["ctx"] = "streamlit"  # Streamlit's run context, as compat hands it out
    if "streamlit" in bound.values():
        bound.setdefault("ctx", "streamlit")
    assignments = [(targets, node.value) for node in ast.walk(tree) if isinstance(node, (ast.Assign, ast.AnnAssign))
                   and node.value is not None
                   for targets in [node.targets if isinstance(node, ast.Assign) else [node.target]]]
    before = None
    while before != len(bound):  # a name assigned from one of those holds one of its objects
        before = len(bound)
        for targets, value in assignments:
            library = bound.get(_root(value) or "")
            for target in targets:
                if library is not None and isinstance(target, ast.Name):
                    bound.setdefault(target.id, library)
    constants = _constants(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            library = bound.get(_root(node) or "")
            if library is None or home_of[library]:
                continue
            if _private(node.attr) or (library == "streamlit" and node.attr in STREAMLIT_INTERNALS):
                found.add((relative, node.attr))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
            library = bound.get(_root(node.args[0]) or "")
            if library is None or home_of[library]:
                continue
            if node.func.id == "vars":
                found.add((relative, f"vars({_root(node.args[0])})"))
            elif node.func.id in ATTRIBUTE_CALLS and len(node.args) > 1:
                name = node.args[1]
                text = name.value if isinstance(name, ast.Constant) else constants.get(getattr(name, "id", ""))
                if isinstance(text, str) and (_private(text) or (library == "streamlit"
                                                                 and text in STREAMLIT_INTERNALS)):
                    found.add((relative, text))
    return found


def _private_module(relative: str, library: str, module: str, home_of: dict[str, bool]) -> set[tuple[str, str]]:
    if home_of[library]:
        return set()
    if library == "streamlit":
        return set() if module in PUBLIC_STREAMLIT_MODULES else {(relative, module)}
    return {(relative, module)} if any(_private(part) for part in module.split(".")) else set()


def test_private_names_stay_in_their_module():
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        found |= private_names(path.relative_to(PACKAGE).as_posix(), path.read_text(encoding="utf-8"))
    assert found - ALLOWED_PRIVATE_NAMES == set(), "private names outside their module (see the docstring)"
    assert ALLOWED_PRIVATE_NAMES - found == set(), "gone: take these out of ALLOWED_PRIVATE_NAMES"


def test_the_private_name_check_finds_each_kind():
    source = '''
import loguru._logger
import streamlit as st
from loguru import logger
from opentelemetry.sdk._logs import LoggerProvider
from streamlit.runtime.scriptrunner import get_script_run_ctx
from . import compat
MARK = "_ours"

def f(ctx):
    logger._core.handlers
    getattr(logger, "_core")
    st.secrets.load_if_toml_exists()
    loaded = st.secrets
    loaded._loaded
    setattr(ctx, MARK, 1)
    ctx.cursors
    vars(logger)
    ctx.session_id  # a public field: fine
    getattr(ctx, "page_name", None)  # fine
'''
    assert private_names("anywhere.py", source) == {("anywhere.py", name) for name in (
        "loguru._logger", "opentelemetry.sdk._logs", "streamlit.runtime.scriptrunner", "_core",
        "load_if_toml_exists", "_loaded", "_ours", "cursors", "vars(logger)")}
    assert private_names("_loguru.py", "from loguru import logger\nlogger._core\n") == set()
    assert private_names("integration/compat.py", "import streamlit\nstreamlit.secrets.load_if_toml_exists()\n") \
        == set()


# --------------------------------------------------------------------------- the Streamlit side


def loaded_after(code: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported after running ``code``."""
    probe = f"{code}\nimport sys\nprint([m for m in {modules!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return ast.literal_eval(out.stdout.strip().splitlines()[-1])


def test_the_core_imports_without_streamlit():
    code = "import streamlit_extension\nfrom streamlit_extension import setup_logging, init_streamlit_logging"
    assert loaded_after(code, ("streamlit",)) == []


def test_adding_the_log_explorer_leaves_its_page_unloaded():
    # explorer_page() runs on every run of an app; the page's imports (pandas, altair: about a
    # second) wait until someone opens it.
    code = "from streamlit_extension.explorer import explorer_access, explorer_page"
    assert loaded_after(code, ("pandas", "altair", "streamlit_extension.explorer.page",
                               "streamlit_extension.explorer.data")) == []


def test_st_logs_parses_and_answers_help_without_loading_the_readers():
    # st-logs' start-up is most of an indexed trace: --help and a usage error must not load the
    # reader, the manifests or loguru, which only a chosen command needs.
    code = ("import contextlib, io\nfrom streamlit_extension.logs.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
            "main(['no-such-command'])")
    assert loaded_after(code, ("loguru", "streamlit_extension.logs.reader", "streamlit_extension.sinks.manifest",
                               "streamlit_extension.logs.cli.commands")) == []
