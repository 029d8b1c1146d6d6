"""The ledger side of store stands on core alone: no sources, team or application layer."""

from __future__ import annotations

import subprocess
import sys

STORE_MODULES = (
    "tokenbuddy.store.ledger",
    "tokenbuddy.store.staging",
    "tokenbuddy.store.cursor",
    "tokenbuddy.store.vendors",
    "tokenbuddy.store.queries",
    "tokenbuddy.store.settings",
    "tokenbuddy.store.config_template",
)


def test_store_imports_neither_sources_nor_team_nor_ingest() -> None:
    probe = (
        "import sys\n"
        + "".join(f"import {module}\n" for module in STORE_MODULES)
        + "print(sorted(m for m in sys.modules if m.startswith(("
        "'tokenbuddy.sources', 'tokenbuddy.team', 'tokenbuddy.ingest', 'tokenbuddy.cli',"
        " 'tokenbuddy.tui'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
