"""The code's shape: layers that point one way, no import cycles, modules of one idea.

The layers and the fast paths are import-linter contracts in ``pyproject.toml``
(``lint-imports`` runs them on its own too); cycles and module sizes are checked here
on the same import graph (grimp's), lazy and type-checking imports included.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tokenbuddy"
PYPROJECT = PACKAGE.parent / "pyproject.toml"
MAX_MODULE_LINES = 420
"""About 400: a module past this holds more than one idea and wants splitting."""


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("tokenbuddy", cache_dir=None)


def test_the_import_contracts_hold() -> None:
    run = (
        "import sys; from importlinter.cli import lint_imports;"
        f"sys.exit(lint_imports(config_filenames=({str(PYPROJECT)!r},), no_cache=True,"
        " no_logo=True))"
    )
    result = subprocess.run(
        [sys.executable, "-c", run],
        cwd=PYPROJECT.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_no_module_imports_itself_in_a_circle(graph: grimp.ImportGraph) -> None:
    cycles = strongly_connected(graph)
    assert cycles == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_every_module_is_about_one_idea() -> None:
    too_long = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's algorithm over the package's own modules; components of two or more."""
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def imports_of(node: str) -> Iterator[str]:
        return iter(sorted(graph.find_modules_directly_imported_by(node)))

    def visit(start: str) -> None:
        work = [(start, imports_of(start))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    return found
