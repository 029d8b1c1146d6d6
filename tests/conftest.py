"""Test isolation: no test reads the developer's own logs, config, ledger or keyring."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

if TYPE_CHECKING:
    from fakevendor import FakeVendor

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = SHARED / "fixtures"


AGENT_VARIABLES = (
    "TOKENBUDDY_GEMINI_DIR",
    "GEMINI_CLI_HOME",
    "TOKENBUDDY_COPILOT_DIR",
    "COPILOT_HOME",
    "TOKENBUDDY_VSCODE_USER_DIR",
    "TOKENBUDDY_OPENCODE_DIR",
    "TOKENBUDDY_QWEN_DIR",
    "APPDATA",
)
"""Variables naming other agents' homes: unset, so their defaults fall under the
temporary HOME."""


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME, TOKENBUDDY_HOME and the agents' dirs at empty temporary directories."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TOKENBUDDY_HOME", str(tmp_path / "tokenbuddy"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    for agent_variable in AGENT_VARIABLES:
        monkeypatch.delenv(agent_variable, raising=False)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("TOKENBUDDY_CURSOR_DIR", str(tmp_path / "cursor" / "User"))
    monkeypatch.delenv("WSL_DISTRO_NAME", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    return tmp_path


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in a dict: tests never touch the developer's real keychain."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


VENDOR_ENV = (
    "CLAUDE_CODE_OAUTH_TOKEN",
    "TOKENBUDDY_ANTHROPIC_BASE_URL",
    "TOKENBUDDY_OPENAI_BASE_URL",
    "TOKENBUDDY_CURSOR_BASE_URL",
    "TOKENBUDDY_CLAUDE_OAUTH_BASE_URL",
)


@pytest.fixture(autouse=True)
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """An empty in-memory keyring; subprocesses get the fail backend, never the real one."""
    for name in VENDOR_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that reads the real logs ``fixtures``, through whichever fixture it
    reaches them (``-m fixtures`` runs just those, ``-m "not fixtures"`` the rest)."""
    for item in items:
        if "shared_fixtures" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.fixtures)


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


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVendor]:
    """The fake vendor server, started on a free port, with every base URL pointed at it."""
    from fakevendor import FakeVendor

    server = FakeVendor().start()
    for name in ("ANTHROPIC", "OPENAI", "CURSOR", "CLAUDE_OAUTH"):
        monkeypatch.setenv(f"TOKENBUDDY_{name}_BASE_URL", server.url)
    yield server
    server.stop()
