"""Code-quality gates that `make test` (and so CI) runs: lint, format, types and size.

- ``ruff check .`` and ``ruff format --check .``: the rules and line length in pyproject.toml [tool.ruff].
- ``mypy agentzone``: pyproject.toml [tool.mypy]; the modules listed in its override are checked strictly.
  mypy keeps its incremental cache in ``.mypy_cache``: the first run in a fresh clone reads aws-cdk-lib's
  types and takes minutes, later runs take seconds.
- no function over 60 lines and no class over 400 lines in ``agentzone/`` (measured from the ``def`` or
  ``class`` line to the last line of the body, as /work/wt/metrics.py does).

Each failure lists every finding, as the tool prints it or as ``path:line name length``.
"""

from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "agentzone"
MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 400
FINDING = re.compile(r"^\S+:\d+:(\d+:)? ")  # path:line[:column]: ..., as ruff (concise) and mypy print them


def _run(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """A dev tool from this interpreter's environment (`make install` puts them there), run from the project root."""
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def _fail(title: str, findings: list[str], fix: str) -> None:
    """Fail with every finding, one a line (no traceback: the findings are the message)."""
    pytest.fail(f"{title}: {len(findings)} finding(s); {fix}\n" + "\n".join(f"  {f}" for f in findings), pytrace=False)


def test_ruff_check() -> None:
    proc = _run("ruff", "check", ".", "--output-format", "concise", "--no-fix")
    findings = [line for line in proc.stdout.splitlines() if FINDING.match(line)]
    if proc.returncode != 0:
        _fail(
            "ruff check", findings or [proc.stdout + proc.stderr], "fix them (ruff check --fix applies the safe fixes)"
        )


def test_ruff_format() -> None:
    proc = _run("ruff", "format", "--check", "--output-format", "concise", ".")
    findings = [line for line in proc.stdout.splitlines() if FINDING.match(line)]
    if proc.returncode != 0:
        _fail("ruff format --check", findings or [proc.stdout + proc.stderr], "run `ruff format` on these files")


def test_mypy() -> None:
    # The default cache directory (.mypy_cache at the project root) keeps reruns incremental.
    proc = _run("mypy", "agentzone", timeout=1800)
    findings = [line for line in proc.stdout.splitlines() if FINDING.match(line) and ": error:" in line]
    if proc.returncode != 0:
        _fail("mypy agentzone", findings or [proc.stdout + proc.stderr], "fix the types (annotations, None handling)")


@functools.cache
def oversized(root: Path = PACKAGE) -> tuple[list[str], list[str]]:
    """Functions over MAX_FUNCTION_LINES and classes over MAX_CLASS_LINES, as ``path:line name length``."""
    functions: list[tuple[int, str]] = []
    classes: list[tuple[int, str]] = []
    for path in sorted(root.rglob("*.py")):
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            limit, found = (
                (MAX_CLASS_LINES, classes) if isinstance(node, ast.ClassDef) else (MAX_FUNCTION_LINES, functions)
            )
            if length > limit:
                found.append((length, f"{where}:{node.lineno} {node.name} {length}"))
    return [s for _, s in sorted(functions, reverse=True)], [s for _, s in sorted(classes, reverse=True)]


def test_no_long_functions() -> None:
    functions, _ = oversized()
    if functions:
        _fail(
            f"functions over {MAX_FUNCTION_LINES} lines", functions, "split them into functions that each do one thing"
        )


def test_no_large_classes() -> None:
    _, classes = oversized()
    if classes:
        _fail(f"classes over {MAX_CLASS_LINES} lines", classes, "split them along the parts they are made of")
