"""The dashboard follows Cursor's store live, and marks its figures as estimates."""

from __future__ import annotations

from pathlib import Path

from tests.sources.cursor_local.builders import create_store, split_composer
from tests.tui.pilot import NOW, over_logs, until
from tokenbuddy.tui.app import TokenBuddyApp
from tokenbuddy.tui.widgets import SessionsTable

NOW_MS = int(NOW * 1000)


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
    config = over_logs(tmp_path, environ, "live.sqlite3", live=True)
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
