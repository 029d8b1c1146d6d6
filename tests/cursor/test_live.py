"""The dashboard follows Cursor's store live, and marks its figures as estimates."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tokenbuddy.cli.dashboard import demo_config
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.tui.app import TokenBuddyApp
from tokenbuddy.tui.config import DashboardConfig
from tokenbuddy.tui.widgets import SessionsTable

from .builders import create_store, split_composer

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC).timestamp()
NOW_MS = int(NOW * 1000)


def frozen_demo(tmp_path: Path) -> DashboardConfig:
    config = demo_config(tmp_path, NOW, watch=False)
    return dataclasses.replace(config, clock=lambda: NOW, notices=[])


async def until(condition: Any, pilot: Any, timeout: float = 20.0) -> None:
    """Let the app run until ``condition()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out waiting for the app"
        await pilot.pause(0.02)


async def test_new_assistant_bubble_shows_up_live(tmp_path: Path) -> None:
    """Shape: modern split storage in WAL mode; Cursor adds a turn (a user and an
    assistant bubble, and a moved ``lastUpdatedAt``) while the dashboard runs."""
    user_dir = tmp_path / "Cursor" / "User"
    store = create_store(user_dir)
    first = ("claude-4.5-sonnet", NOW_MS - 120_000, (1000, 200))
    split_composer(store, "live", [first])
    environ = {
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
        "CODEX_HOME": str(tmp_path / "codex"),
        "TOKENBUDDY_CURSOR_DIR": str(user_dir),
    }
    config = dataclasses.replace(
        frozen_demo(tmp_path / "demo"),
        roots=log_roots(environ, tmp_path),
        watch=True,
        ledger_path=tmp_path / "live.sqlite3",
        refresh_seconds=0.05,
    )
    app = TokenBuddyApp(config)
    async with app.run_test(size=(100, 24)) as pilot:
        await until(lambda: app.snapshot is not None, pilot)
        await until(lambda: app._watcher is not None, pilot)
        assert app.snapshot is not None and app.snapshot.total_requests == 1
        second = ("claude-4.5-sonnet", NOW_MS - 30_000, (3000, 400))
        split_composer(store, "live", [first, second])
        await until(lambda: app.snapshot is not None and app.snapshot.total_requests == 2, pilot)
        await pilot.pause()
        table = app.query_one(SessionsTable)
        row = table.get_row_at(0)
        assert str(row[2]).startswith("~$") and str(row[5]) == "2"
        assert app.snapshot.burn_5m.cost_usd > 0
