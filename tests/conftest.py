"""Test isolation: no test reads the developer's own logs, config, ledger or keyring."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = SHARED / "fixtures"


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME, TOKENBUDDY_HOME and the agents' dirs at empty temporary directories."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TOKENBUDDY_HOME", str(tmp_path / "tokenbuddy"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


@pytest.fixture
def shared_fixtures() -> Path:
    """The real anonymised logs in ../shared/fixtures, or a skip saying why they are absent."""
    if not FIXTURES.is_dir():
        pytest.skip(f"real-log fixtures not found at {FIXTURES} (../shared is absent)")
    return FIXTURES


def environ_for(claude: Path | None = None, codex: Path | None = None) -> dict[str, str]:
    """A copy of the test environment pointing at the given log dirs."""
    env = dict(os.environ)
    if claude is not None:
        env["CLAUDE_CONFIG_DIR"] = str(claude)
    if codex is not None:
        env["CODEX_HOME"] = str(codex)
    return env
