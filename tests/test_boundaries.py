"""Import discipline: the core, sources, store and CLI reports stay free of the TUI stack."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = r"""
import sys
{body}
heavy = sorted(m for m in ("textual", "rich", "httpx", "keyring") if m in sys.modules)
print("LOADED:" + ",".join(heavy))
"""


def loaded_heavy_modules(body: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body)],
        capture_output=True,
        text=True,
        env=os.environ,
        check=True,
    )
    loaded = result.stdout.rsplit("LOADED:", 1)[1].strip()
    return [m for m in loaded.split(",") if m]


@pytest.mark.parametrize(
    "module",
    [
        "tokenbuddy.core.pricing",
        "tokenbuddy.core.report",
        "tokenbuddy.sources.claude_code",
        "tokenbuddy.sources.codex",
        "tokenbuddy.store.ledger",
        "tokenbuddy.services.ingest",
    ],
)
def test_library_layers_do_not_import_the_tui_or_network_stack(module: str) -> None:
    assert loaded_heavy_modules(f"import {module}") == []


def test_a_full_report_run_imports_neither_textual_nor_rich() -> None:
    body = "from tokenbuddy.cli.main import main\nmain(['report', 'daily', '--json'])"
    assert loaded_heavy_modules(body) == []


def test_core_is_pure_of_io_layers() -> None:
    body = (
        "import tokenbuddy.core.pricing, tokenbuddy.core.report, tokenbuddy.core.records\n"
        "bad = [m for m in sys.modules if m.startswith(('tokenbuddy.store', 'tokenbuddy.sources',"
        " 'tokenbuddy.cli')) or m in ('sqlite3',)]\n"
        "assert not bad, bad"
    )
    assert loaded_heavy_modules(body) == []
