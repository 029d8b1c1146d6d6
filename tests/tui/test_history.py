"""The history view: any date range, search by project, paging through thousands of
sessions, opening a past session's timeline (with dates when it spans days), and why a
search found nothing; at 80x24 and 120x36."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import orjson
import pytest
from textual.widgets import DataTable, Input, Label

from tests.tui.pilot import over_logs, until
from tokenbuddy.tui.app import TokenBuddyApp
from tokenbuddy.tui.history_screen import HistoryScreen
from tokenbuddy.tui.screens import SessionScreen

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

SIZES = [(80, 24), (120, 36)]
SESSIONS = 1_050
"""Past sessions written: eleven pages of a hundred."""
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
"""The first past session; one starts every six hours after it, so the last is in
November, months before the frozen now (no session in the last 24 hours)."""


def request(session: str, number: int, cwd: str, moment: datetime) -> bytes:
    """One priced Claude Code request of ``session``."""
    record = {
        "type": "assistant",
        "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "sessionId": session,
        "cwd": cwd,
        "requestId": f"req_{session}_{number}",
        "message": {
            "id": f"msg_{session}_{number}",
            "model": "claude-sonnet-4-5",
            "usage": {"input_tokens": 100, "output_tokens": 500, "cache_read_input_tokens": 9000},
        },
    }
    return orjson.dumps(record) + b"\n"


def past_history(tmp_path: Path) -> TokenBuddyApp:
    """1,050 one-request sessions in two projects from March on, and one session of the
    project ``overnight`` whose requests span two days."""
    projects = tmp_path / "claude" / "projects"
    for index in range(SESSIONS):
        project = "alpha" if index % 3 else "beta-shop"
        moment = START + timedelta(hours=6 * index)
        folder = projects / f"-home-dev-{project}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = request(f"s{index:04d}", 0, f"/home/dev/{project}", moment)
        (folder / f"s{index:04d}.jsonl").write_bytes(lines)
    night = projects / "-home-dev-overnight"
    night.mkdir()
    first = datetime(2026, 4, 10, 23, 30, tzinfo=UTC)
    lines = b"".join(
        request("night", n, "/home/dev/overnight", first + timedelta(minutes=20 * n))
        for n in range(4)
    )
    (night / "night.jsonl").write_bytes(lines)
    environ = {"CLAUDE_CONFIG_DIR": str(tmp_path / "claude"), "CODEX_HOME": str(tmp_path / "x")}
    return TokenBuddyApp(over_logs(tmp_path, environ, "history.sqlite3"))


async def history_screen(app: TokenBuddyApp, pilot: Pilot[None]) -> HistoryScreen:
    """Open the history view and wait for its first page."""
    await until(lambda: app.snapshot is not None, pilot, 60)
    await pilot.press("h")
    await until(
        lambda: isinstance(app.screen, HistoryScreen) and app.screen.page is not None, pilot
    )
    screen = app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


def title(screen: HistoryScreen) -> str:
    return str(screen.query_one("#history-title", Label).render())


async def turned(screen: HistoryScreen, pilot: Pilot[None], key: str, page: int) -> None:
    await pilot.press(key)
    await until(lambda: screen.page is not None and screen.page.query.page == page, pilot)


@pytest.mark.parametrize("size", SIZES)
async def test_history_pages_through_every_session(tmp_path: Path, size: tuple[int, int]) -> None:
    app = past_history(tmp_path)
    async with app.run_test(size=size) as pilot:
        screen = await history_screen(app, pilot)
        table = screen.query_one("#history-sessions", DataTable)
        assert table.row_count == 100
        assert f"of {SESSIONS + 1:,}" in title(screen) and "page 1 of 11" in title(screen)
        for page in range(1, 11):
            await turned(screen, pilot, "n", page)
        assert screen.page is not None
        assert table.row_count == SESSIONS + 1 - 1000
        assert "sessions 1,001-1,051 of 1,051" in title(screen)
        await pilot.press("n")  # past the last page: stays
        await pilot.pause(0.2)
        assert screen.page.query.page == 10
        await turned(screen, pilot, "p", 9)
        oldest_first = [str(table.get_row_at(i)[0]) for i in (0, table.row_count - 1)]
        assert oldest_first[0] > oldest_first[1], "the latest started comes first"


@pytest.mark.parametrize("size", SIZES)
async def test_history_filters_by_range_and_project_and_opens_a_past_session(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = past_history(tmp_path)
    async with app.run_test(size=size) as pilot:
        screen = await history_screen(app, pilot)
        screen.query_one("#history-since", Input).value = "2026-04-10"
        screen.query_one("#history-until", Input).value = "2026-04-11"
        await pilot.press("slash", *"OVER", "enter")
        await until(lambda: screen.page is not None and screen.page.query.project == "OVER", pilot)
        assert screen.page is not None
        assert [s.session_id for s in screen.page.sessions] == ["night"]
        assert "between 2026-04-10 and 2026-04-11" in title(screen)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, SessionScreen), pilot)
        timeline = app.screen.query_one("#timeline", DataTable)
        times = [str(timeline.get_row_at(i)[0]) for i in range(timeline.row_count)]
        assert times == ["Apr 10 23:30:00", "Apr 10 23:50:00", "Apr 11 00:10:00", "Apr 11 00:30:00"]
        figures = str(app.screen.query_one("#session-figures", Label).render())
        assert figures.startswith("2026-04-10 23:30 to 2026-04-11 00:30")
        await pilot.press("ctrl+c")
        await until(lambda: not app.is_running, pilot, what="ctrl+c over the history")


@pytest.mark.parametrize("size", SIZES)
async def test_an_empty_search_says_why(tmp_path: Path, size: tuple[int, int]) -> None:
    app = past_history(tmp_path)
    async with app.run_test(size=size) as pilot:
        screen = await history_screen(app, pilot)
        screen.query_one("#history-since", Input).value = "2027-01-01"
        screen.query_one("#history-since", Input).focus()
        await pilot.press("enter")
        await until(lambda: screen.page is not None and screen.page.query.since is not None, pilot)
        empty = str(screen.query_one("#history-empty").render())
        assert "No session since 2027-01-01" in empty
        assert "the newest request is from 2026-11" in empty
        screen.query_one("#history-since", Input).value = "not a day"
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert screen.page is not None and screen.page.query.since is not None


async def test_no_recent_session_says_what_the_ledger_holds(tmp_path: Path) -> None:
    app = past_history(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: app.snapshot is not None, pilot, 60)
        await pilot.pause()
        hint = str(app.query_one("#sessions-hint").render())
        assert "No session in the last 24 hours: nothing since" in hint
        assert "the newest request is from 2026-11" in hint
        assert "h browses every session" in hint
