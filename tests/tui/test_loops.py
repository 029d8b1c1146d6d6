"""Driving the dashboard with Pilot over loops of scripted runs: a night of ``claude -p``
runs is one row, which opens on its runs, each of which opens on its requests."""

from __future__ import annotations

import dataclasses
import random
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from textual.widgets import DataTable, Label

from tests.incidents import Session, scripted_loop_incident
from tests.tui.pilot import frozen_demo, loaded, until
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.tui.app import TokenBuddyApp
from tokenbuddy.tui.loop_screen import LoopScreen
from tokenbuddy.tui.screens import SessionScreen
from tokenbuddy.tui.widgets import SessionsTable

if TYPE_CHECKING:
    from pathlib import Path

    from tokenbuddy.tui.config import DashboardConfig

DAY = datetime(2026, 11, 10, tzinfo=UTC)


def app_over(tmp_path: Path, claude: Path, now: datetime, **changes: object) -> TokenBuddyApp:
    """The dashboard over ``claude``'s logs only, its clock frozen at ``now``."""
    environ = {"CLAUDE_CONFIG_DIR": str(claude), "CODEX_HOME": str(tmp_path / "codex")}
    config: DashboardConfig = dataclasses.replace(
        frozen_demo(tmp_path / "demo"),
        roots=log_roots(environ, tmp_path),
        ledger_path=tmp_path / "loops.sqlite3",
        clock=now.timestamp,
        **changes,
    )
    return TokenBuddyApp(config)


def cell(table: DataTable[object], row: int, column: int) -> str:
    return str(table.get_row_at(row)[column])


async def test_a_night_of_claude_p_runs_is_one_row_that_opens_on_its_runs(
    tmp_path: Path,
) -> None:
    script_at = scripted_loop_incident(tmp_path / "claude", DAY)
    now = script_at + timedelta(hours=8, minutes=32)
    app = app_over(tmp_path, tmp_path / "claude", now)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert app.snapshot is not None
        (loop,) = app.snapshot.loops
        table = app.query_one(SessionsTable)
        assert table.row_count == 1 + len(app.snapshot.sessions) == 10
        assert cell(table, 0, 0) == "⚙ nightly-report"
        assert cell(table, 0, 1) == f"claude -p: {len(loop.runs)} runs"
        assert cell(table, 0, 3).startswith("$33.") and cell(table, 0, 7) == "2m"
        assert all(cell(table, row, 0) == "  storefront" for row in range(1, 10))

        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, LoopScreen), pilot)
        screen = app.screen
        assert isinstance(screen, LoopScreen)
        runs = screen.query_one("#loop-runs", DataTable)
        assert runs.row_count == len(loop.runs) > 300
        figures = str(screen.query_one("#loop-figures", Label).render())
        assert f"over {len(loop.runs)} runs" in figures
        assert re.search(r"a run every 1m (2[5-9]|3[0-5])s on average", figures), figures

        await pilot.press("enter")  # the newest run
        await until(lambda: isinstance(app.screen, SessionScreen), pilot)
        detail = app.screen
        assert isinstance(detail, SessionScreen)
        assert detail.detail.summary.session_id == loop.runs[0].session_id
        assert "(claude-code, sdk-cli)" in str(detail.query_one("#session-title", Label).render())
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.press("escape")
        assert not isinstance(app.screen, (LoopScreen, SessionScreen))


def claude_p_run(claude: Path, number: int, start: datetime, project: str = "ci") -> None:
    """One short ``claude -p`` run in ``project``: a prompt and two replies."""
    run = Session(claude, project, random.Random(number), entrypoint="sdk-cli")
    run.prompt(start)
    run.response(start + timedelta(seconds=5))
    run.response(start + timedelta(seconds=15))
    run.write()


async def test_an_open_loop_follows_new_runs(tmp_path: Path) -> None:
    now = DAY + timedelta(hours=12)
    claude = tmp_path / "claude"
    for number in range(3):
        claude_p_run(claude, number, now - timedelta(minutes=10 - 2 * number))
    app = app_over(tmp_path, claude, now, watch=True, refresh_seconds=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await until(lambda: app._watcher is not None, pilot)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, LoopScreen), pilot)
        screen = app.screen
        assert isinstance(screen, LoopScreen)
        runs = screen.query_one("#loop-runs", DataTable)
        assert runs.row_count == 3
        claude_p_run(claude, 3, now - timedelta(minutes=2))
        await until(lambda: runs.row_count == 4, pilot, what="the new run")
        assert app.screen is screen, "refreshed in place, not pushed again"
        assert "over 4 runs" in str(screen.query_one("#loop-figures", Label).render())


async def test_an_entrypoint_from_the_logs_is_never_markup(tmp_path: Path) -> None:
    now = DAY + timedelta(hours=12)
    claude = tmp_path / "claude"
    hostile = "sdk-[bold red]x\x1b[31m"
    for number in range(3):
        run = Session(claude, "ci", random.Random(number), entrypoint=hostile)
        start = now - timedelta(minutes=10 - 2 * number)
        run.response(start)
        run.write()
    app = app_over(tmp_path, claude, now)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        table = app.query_one(SessionsTable)
        label = table.get_row_at(0)[1]
        assert label.plain == "sdk-[bold re: 3 runs"
        assert all(span.style == "bold" for span in label.spans)  # active: no markup read
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, LoopScreen), pilot)
        title = str(app.screen.query_one("#loop-title", Label).render())
        assert "sdk-[bold red]x?[31m" in title and "\x1b" not in title
