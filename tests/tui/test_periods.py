"""The tips follow the chart's period, and the header shows Claude's active 5-hour block
when Claude's own 5h percentage is not known; at 80x24 and 120x36."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from textual.widgets import Label, Static

from tests.tui.pilot import frozen_demo, loaded, until
from tokenbuddy.tui.app import TokenBuddyApp

if TYPE_CHECKING:
    from pathlib import Path

SIZES = [(80, 24), (120, 36)]


@pytest.mark.parametrize("size", SIZES)
async def test_the_tips_follow_the_charts_period(tmp_path: Path, size: tuple[int, int]) -> None:
    app = TokenBuddyApp(frozen_demo(tmp_path))
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        body = app.query_one("#tips-body", Static)
        await until(lambda: "Tips over the last 24 h" in str(body.render()), pilot)
        assert "the tips look at the last 7" in str(body.render())
        await pilot.press("c", "c", "t")
        await until(lambda: "Tips over the last 30 days (Oct 22" in str(body.render()), pilot)
        assert "the tips look at" not in str(body.render())
        await pilot.press("c", "c")
        await until(lambda: "Tips over this cycle (Nov 1" in str(body.render()), pilot)


@pytest.mark.parametrize("size", SIZES)
async def test_the_active_block_shows_without_claudes_percentage(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = TokenBuddyApp(frozen_demo(tmp_path))
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        assert app.snapshot is not None and app.snapshot.block is not None
        assert not any(w.label == "Claude 5h" for w in app.snapshot.windows)
        cache = str(app.query_one("#cache", Label).render())
        assert "Claude 5h block $" in cache and "left" in cache


async def test_days_read_on_demand_that_arrive_during_teardown_are_dropped(
    tmp_path: Path,
) -> None:
    """A span's days are read by a worker; when they arrive as the app tears the chart
    down (its children already gone), they are dropped, not an error."""
    from datetime import date

    from tokenbuddy.core.spans import SPANS, DailySpend
    from tokenbuddy.tui.widgets.chart import SpendChart

    app = TokenBuddyApp(frozen_demo(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        chart = app.query_one(SpendChart)
        await chart.remove_children()
        chart.show_days(DailySpend(SPANS[-1], date(2026, 11, 1), (1.0, 2.0)))
        assert chart.is_mounted and not chart.children
