"""The dashboard polls the vendor sources in the background and shows them on a screen."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fakevendor import ANTHROPIC_KEY, Day, FakeVendor
from textual.widgets import DataTable

from tests.cli.test_vendors import YESTERDAY, write_claude_log
from tests.tui.pilot import until
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.store.secrets import SERVICE
from tokenbuddy.store.settings import VendorSettings
from tokenbuddy.tui.app import TokenBuddyApp
from tokenbuddy.tui.config import DashboardConfig
from tokenbuddy.tui.screens import VendorsScreen


def polled(ledger: Path) -> bool:
    with sqlite3.connect(ledger) as db:
        row = db.execute(
            "SELECT last_success_ms FROM source_state WHERE provider = 'anthropic'"
        ).fetchone()
    return row is not None and row[0] is not None


def config(tmp_path: Path) -> DashboardConfig:
    claude = tmp_path / "claude"
    environ = {"CLAUDE_CONFIG_DIR": str(claude), "CODEX_HOME": str(tmp_path / "codex")}
    return DashboardConfig(
        ledger_path=tmp_path / "ledger.sqlite3",
        config_file=tmp_path / "config.toml",
        roots=log_roots(environ, tmp_path),
        zone=ZoneInfo("UTC"),
        watch=False,
        vendors=VendorSettings(),
        desktop_notifications=False,
    )


async def test_vendor_sources_are_polled_and_reconciled_on_their_screen(
    fake: FakeVendor, memory_keyring: Any, isolated_environment: Path
) -> None:
    memory_keyring.set_password(SERVICE, "anthropic", ANTHROPIC_KEY)
    claude = isolated_environment / "claude"
    day = datetime.combine(YESTERDAY, datetime.min.time(), UTC) + timedelta(hours=9)
    write_claude_log(claude, day, 100_000)
    fake.anthropic_days = [
        Day(YESTERDAY.isoformat(), "claude-sonnet-4-5-20250929", 100_000, 0, cost_usd=2.5)
    ]
    app = TokenBuddyApp(config(isolated_environment))
    async with app.run_test(size=(120, 36)) as pilot:
        await until(lambda: app._credentials is not None, pilot)
        assert app._credentials is not None and app._credentials["anthropic"] is not None
        await until(lambda: polled(isolated_environment / "ledger.sqlite3"), pilot)
        await pilot.press("v")
        await until(lambda: isinstance(app.screen, VendorsScreen), pilot)
        screen = app.screen
        assert isinstance(screen, VendorsScreen)
        sources = screen.query_one("#sources", DataTable)
        rows = [[str(cell) for cell in sources.get_row_at(i)] for i in range(sources.row_count)]
        anthropic = next(row for row in rows if row[0] == "Anthropic Admin API")
        assert anthropic[1] == "keyring" and anthropic[2] == "ok"
        assert next(row for row in rows if row[0] == "OpenAI Admin API")[1] == "not configured"
        reconcile = screen.query_one("#reconcile", DataTable)
        cells = [str(cell) for cell in reconcile.get_row_at(0)]
        assert cells[:3] == [YESTERDAY.isoformat(), "anthropic", "claude-sonnet-4-5"]
        assert cells[3:] == ["$0.30", "$2.50", "+$2.20"]
        assert reconcile.get_row_at(0)[5].style == "bold red"
        for row in rows:
            assert ANTHROPIC_KEY not in " ".join(row)
        await pilot.press("escape")
        assert not isinstance(app.screen, VendorsScreen)


async def test_without_a_keyring_the_dashboard_stays_quiet(isolated_environment: Path) -> None:
    """A headless machine with no keyring backend: nothing is configured, nothing to warn."""
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    app = TokenBuddyApp(config(isolated_environment))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(lambda: app._credentials is not None, pilot)
        await pilot.pause()
        assert app._credentials is not None
        assert all(credential is None for credential in app._credentials.values())
        assert not any("keyring" in n.message for n in app._notifications)
        await pilot.press("v")
        await until(lambda: isinstance(app.screen, VendorsScreen), pilot)
        notice = str(app.screen.query_one("#sources-notice").render())
        assert "no usable OS keyring backend" in notice
