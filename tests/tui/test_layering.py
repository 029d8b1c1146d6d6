"""The TUI composes, handles and acts: its modules open no ledger, run no SQL, call no CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tokenbuddy.tui

TUI = Path(tokenbuddy.tui.__file__).parent
FORBIDDEN = ("sqlite3", "tokenbuddy.cli", "tokenbuddy.store.ledger", "asyncio")
"""Orchestration the dashboard service does: the TUI reaches none of it itself."""


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top, lazily or for type checking only."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted(TUI.rglob("*.py")), ids=lambda p: str(p.relative_to(TUI)))
def test_tui_modules_leave_orchestration_to_the_services(path: Path) -> None:
    reached = {
        module
        for module in imported_modules(path)
        for forbidden in FORBIDDEN
        if module == forbidden or module.startswith(forbidden + ".")
    }
    assert reached == set()
