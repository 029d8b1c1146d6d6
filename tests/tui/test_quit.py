"""Ctrl+C quits the dashboard from every screen, at both terminal sizes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.tui.pilot import frozen_demo, loaded, until
from tokenbuddy.tui.app import TokenBuddyApp
from tokenbuddy.tui.screens import HelpScreen, SessionScreen

if TYPE_CHECKING:
    from pathlib import Path

SIZES = [(80, 24), (120, 36)]


@pytest.mark.parametrize("size", SIZES)
async def test_ctrl_c_quits_the_dashboard(tmp_path: Path, size: tuple[int, int]) -> None:
    app = TokenBuddyApp(frozen_demo(tmp_path))
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+c")
        await until(lambda: not app.is_running, pilot, what="the app to quit")
    assert app.return_code == 0


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    ("keys", "screen"), [(("enter",), SessionScreen), (("question_mark",), HelpScreen)]
)
async def test_ctrl_c_quits_from_any_screen(
    tmp_path: Path, size: tuple[int, int], keys: tuple[str, ...], screen: type
) -> None:
    app = TokenBuddyApp(frozen_demo(tmp_path))
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await pilot.press(*keys)
        await until(lambda: isinstance(app.screen, screen), pilot)
        await pilot.press("ctrl+c")
        await until(lambda: not app.is_running, pilot, what="the app to quit")
