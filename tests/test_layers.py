"""The layer rules (docs/layout.md): contracts in pyproject.toml, no import cycles, lazy imports documented.

The contracts say who may import whom (import-linter). The cycle check is
stricter than a module graph: importing ``agentzone.config.source`` runs
``agentzone/config/__init__.py`` first, so an import also reaches the
packages above the imported module; a cycle through a package's
``__init__`` breaks at import time depending on which module comes first.
"""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Iterable, Mapping
from contextlib import redirect_stdout
from pathlib import Path

import grimp
import importlinter.api  # noqa: F401  (configures import-linter: its readers and printer)
import pytest
from importlinter.application.use_cases import lint_imports

from agentzone.project import PROJECT_ROOT

PACKAGE = "agentzone"
LAZY_MARK = "# lazy:"


# ------------------------------------------------------------------ the graph


def import_edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    """Module -> modules importing it runs: the module itself and each package above it not already running."""
    edges: dict[str, set[str]] = {}
    for importer in graph.modules:
        running = set(_packages_above(importer))
        reached: set[str] = set()
        for imported in graph.find_modules_directly_imported_by(importer):
            reached.add(imported)
            reached.update(p for p in _packages_above(imported) if p not in running and p != importer)
        edges[importer] = reached
    return edges


def _packages_above(module: str) -> list[str]:
    """agentzone.config.source -> [agentzone.config] (the root package runs before anything else)."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(2, len(parts))]


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = _pop_group(stack, on_stack, node)
                    if len(group) > 1:
                        found.append(sorted(group))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return sorted(found)


def _pop_group(stack: list[str], on_stack: set[str], node: str) -> list[str]:
    group = []
    while True:
        member = stack.pop()
        on_stack.discard(member)
        group.append(member)
        if member == node:
            return group


def describe(group: list[str], edges: Mapping[str, Iterable[str]]) -> str:
    return "\n".join(f"  {a} -> {b}" for a in group for b in sorted(edges[a]) if b in group)


# ------------------------------------------------------------------ tests


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE, cache_dir=None)


def test_the_layer_contracts_in_pyproject_hold():
    """import-linter's report is printed on failure: which import breaks which contract, by line."""
    out = io.StringIO()
    with redirect_stdout(out):
        kept = lint_imports(config_filename=str(PROJECT_ROOT / "pyproject.toml"), cache_dir=None, no_logo=True)
    assert kept, out.getvalue()


def test_no_import_cycles(graph):
    edges = import_edges(graph)
    found = cycles(edges)
    assert not found, "import cycles:\n" + "\n\n".join(describe(group, edges) for group in found)


def test_the_cycle_check_sees_a_cycle_through_a_package_init():
    """a.tools.cedar -> a.config.source runs a/config/__init__, which imports a.config.checks -> a.tools.cedar."""
    fake = grimp.ImportGraph()
    for module in ("a", "a.config", "a.config.source", "a.config.checks", "a.tools", "a.tools.cedar"):
        fake.add_module(module)
    fake.add_import(importer="a.config", imported="a.config.checks")
    fake.add_import(importer="a.config.checks", imported="a.tools.cedar")
    fake.add_import(importer="a.tools.cedar", imported="a.config.source")
    assert cycles(import_edges(fake)) == [["a.config", "a.config.checks", "a.tools.cedar"]]
    fake.remove_import(importer="a.config.checks", imported="a.tools.cedar")
    assert cycles(import_edges(fake)) == []


def function_level_imports(source: str) -> list[tuple[int, str]]:
    """(line, text) of every import inside a function without ``# lazy: <why>``.

    The comment goes at the end of the import, or on its own line above a group of imports.
    """
    lines = source.splitlines()
    undocumented = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom) and not _documented(lines, node.lineno - 1):
                undocumented.append((node.lineno, lines[node.lineno - 1].strip()))
    return sorted(set(undocumented))


def _documented(lines: list[str], index: int) -> bool:
    if LAZY_MARK in lines[index]:
        return True
    above = index - 1
    while above >= 0 and lines[above].strip().startswith(("import ", "from ")):
        above -= 1
    return above >= 0 and lines[above].strip().startswith(LAZY_MARK)


def test_imports_inside_functions_are_documented_lazy_imports():
    """Imports go at the top; the exceptions keep a command fast and say so with ``# lazy: <why>``."""
    found = [
        f"{path.relative_to(PROJECT_ROOT)}:{line}: {text}"
        for path in sorted((PROJECT_ROOT / PACKAGE).rglob("*.py"))
        for line, text in function_level_imports(path.read_text())
    ]
    assert not found, "imports inside functions without '# lazy: <why>':\n" + "\n".join(found)


def test_the_lazy_import_check_sees_an_undocumented_one():
    source = (
        "def f():\n    import json\n\n    import csv  # lazy: only f needs it\n\n"
        "    # lazy: the next two\n    import re\n    from os import path\n\n    import sys\n"
    )
    assert function_level_imports(source) == [(2, "import json"), (10, "import sys")]


def test_the_contracts_name_existing_modules():
    """A renamed module must not silently empty a contract."""
    text = (PROJECT_ROOT / "pyproject.toml").read_text()
    section = text[text.index("[tool.importlinter]") :]
    names = {
        word for line in section.splitlines() for word in re.findall(rf"\b{PACKAGE}(?:\.\w+)+", line.split("#", 1)[0])
    }
    missing = sorted(name for name in names if not (_module_path(name)))
    assert not missing, f"contracts name modules that do not exist: {missing}"


def _module_path(name: str) -> Path | None:
    base = PROJECT_ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None
