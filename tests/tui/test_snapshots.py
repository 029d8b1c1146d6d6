"""Snapshot tests of every dashboard screen, on the demo history with time frozen.

Each test builds the app over :func:`demo_config` with a fixed ``NOW``, a frozen
clock, no file watcher and no start-up notices, waits in ``run_before`` until the
first ingest's snapshot is on screen, drives the app to the screen under test,
and compares an SVG screenshot with the one in ``__snapshots__/``.

Regenerate after an intended change with ``pytest tests/tui --snapshot-update``
and look at the SVGs before committing them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from textual.widgets import TabbedContent

from tests.tui.pilot import NOW, frozen_demo, until
from tokenbuddy.core.records import CLAUDE_CODE, CODEX
from tokenbuddy.services.budget import BudgetSettings
from tokenbuddy.sources.discovery import LogRoot
from tokenbuddy.tui.app import TokenBuddyApp
from tokenbuddy.tui.config import DashboardConfig
from tokenbuddy.tui.history_screen import HistoryScreen
from tokenbuddy.tui.loop_screen import LoopScreen
from tokenbuddy.tui.screens import HelpScreen, SessionScreen
from tokenbuddy.tui.widgets import BreakdownTables, SpendChart

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    import pytest
    from textual.pilot import Pilot

    SnapCompare = Callable[..., bool]

SMALL = (80, 24)
LARGE = (120, 36)
SETTLE_SECONDS = 20.0
"""How long to wait for a worker's result before failing (the first ingest is the slow one)."""


def frozen_config(scratch: Path, **changes: object) -> DashboardConfig:
    """The demo dashboard at ``NOW``: frozen clock, no watcher, no notices, UTC."""
    return frozen_demo(scratch, zone=ZoneInfo("UTC"), **changes)


def empty_config(scratch: Path, monkeypatch: pytest.MonkeyPatch) -> DashboardConfig:
    """No logs at all: every root an empty directory.

    The paths are relative to ``scratch`` (made the working directory) because the
    empty state prints them, and the temporary directory's name changes every run.
    """
    monkeypatch.chdir(scratch)
    roots = [
        LogRoot(CLAUDE_CODE, scratch / "claude" / "projects", "CLAUDE_CONFIG_DIR"),
        LogRoot(CODEX, scratch / "codex" / "sessions", "CODEX_HOME"),
        LogRoot(CODEX, scratch / "codex" / "archived_sessions", "CODEX_HOME"),
    ]
    for root in roots:
        root.path.mkdir(parents=True)
    (scratch / "data").mkdir()
    return DashboardConfig(
        ledger_path=scratch / "data" / "ledger.sqlite3",
        config_file=Path("config.toml"),
        roots=[dataclasses.replace(r, path=r.path.relative_to(scratch)) for r in roots],
        zone=ZoneInfo("UTC"),
        clock=lambda: NOW,
        watch=False,
        notices=[],
    )


async def settle(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Let the app run until ``condition`` holds (bounded), then let animations finish."""
    await until(condition, pilot, SETTLE_SECONDS, what)
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()


async def first_snapshot(pilot: Pilot[None]) -> TokenBuddyApp:
    """Wait for the first ingest's snapshot to be painted."""
    app = pilot.app
    assert isinstance(app, TokenBuddyApp)
    await settle(
        pilot, lambda: app.snapshot is not None and app.tips is not None, "the first snapshot"
    )
    app.clear_notifications()  # the warning toasts have their own Pilot test
    await pilot.pause()
    return app


def after_first_snapshot(
    *keys: str, then: Callable[[TokenBuddyApp], bool] | None = None, what: str = ""
) -> Callable[[Pilot[None]], Awaitable[None]]:
    """A ``run_before``: wait for the first snapshot, press ``keys``, wait for ``then``."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = await first_snapshot(pilot)
        if keys:
            await pilot.press(*keys)
        if then is not None:
            await settle(pilot, lambda: then(app), what)
        else:
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()

    return run_before


def compare(
    snap_compare: SnapCompare,
    config: DashboardConfig,
    run_before: Callable[[Pilot[None]], Awaitable[None]],
    size: tuple[int, int] = SMALL,
    press: Iterable[str] = (),
) -> bool:
    return snap_compare(
        TokenBuddyApp(config), press=press, terminal_size=size, run_before=run_before
    )


def test_dashboard(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """(a) The dashboard after the first ingest, at 80x24: header, sessions, hourly chart."""
    assert compare(snap_compare, frozen_config(tmp_path), after_first_snapshot())


def test_dashboard_large(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """(a) The same dashboard at 120x36."""
    assert compare(snap_compare, frozen_config(tmp_path), after_first_snapshot(), size=LARGE)


def test_tips_tab(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """(t) ``t`` shows the Tips tab: savings per month, why, evidence, action, method."""
    run_before = after_first_snapshot(
        "t",
        then=lambda app: app.query_one("#main", TabbedContent).active == "tips-tab",
        what="the tips tab",
    )
    assert compare(snap_compare, frozen_config(tmp_path), run_before, size=LARGE)


def test_breakdown_tab(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """(b) ``b`` shows the Breakdown tab for today: by model and by project."""
    run_before = after_first_snapshot(
        "b",
        then=lambda app: (
            app.query_one("#main", TabbedContent).active == "breakdown-tab"
            and app.query_one(BreakdownTables).shown_period is not None
        ),
        what="the breakdown tab",
    )
    assert compare(snap_compare, frozen_config(tmp_path), run_before)


def test_chart_daily(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """(c) ``c`` switches the chart to spend per day over the last 30 days."""
    run_before = after_first_snapshot(
        "c", then=lambda app: app.query_one(SpendChart).daily, what="the daily chart"
    )
    assert compare(snap_compare, frozen_config(tmp_path), run_before)


def test_chart_cycle(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """(c) ``c`` four times: spend per day over the budget cycle, read on demand."""
    run_before = after_first_snapshot(
        "c",
        "c",
        "c",
        "c",
        then=lambda app: "cycle (since" in str(app.query_one("#chart-title").render()),
        what="the cycle's chart",
    )
    assert compare(snap_compare, frozen_config(tmp_path), run_before)


def _history_shown(app: TokenBuddyApp) -> bool:
    return isinstance(app.screen, HistoryScreen) and app.screen.page is not None


def test_history(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """(h) ``h`` opens the history: every session, the latest started first, a page at a
    time, with the range's totals and the search fields."""
    run_before = after_first_snapshot("h", then=_history_shown, what="the history")
    assert compare(snap_compare, frozen_config(tmp_path), run_before)


def test_history_large(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """(h) The history at 120x36."""
    run_before = after_first_snapshot("h", then=_history_shown, what="the history")
    assert compare(snap_compare, frozen_config(tmp_path), run_before, size=LARGE)


def test_session_detail(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """(d) ``enter`` on the first session opens its detail: figures, timeline, subagents."""
    run_before = after_first_snapshot(
        "enter",
        then=lambda app: isinstance(app.screen, SessionScreen),
        what="the session screen",
    )
    assert compare(snap_compare, frozen_config(tmp_path), run_before)


def test_loop_screen(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """(d) ``enter`` on the loop of a CI job's ``claude -p`` runs (the third row, marked
    with a gear) lists its runs, with what the loop spends and how often it runs."""
    run_before = after_first_snapshot(
        "down",
        "down",
        "enter",
        then=lambda app: isinstance(app.screen, LoopScreen),
        what="the loop screen",
    )
    assert compare(snap_compare, frozen_config(tmp_path), run_before)


def test_help(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """(e) ``?`` opens the help over the dashboard."""
    run_before = after_first_snapshot(
        "question_mark",
        then=lambda app: isinstance(app.screen, HelpScreen),
        what="the help screen",
    )
    assert compare(snap_compare, frozen_config(tmp_path), run_before)


def test_empty_state(
    snap_compare: SnapCompare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(f) No logs at all: where tokenbuddy looked and how to point it at logs."""
    config = empty_config(tmp_path, monkeypatch)
    run_before = after_first_snapshot(
        then=lambda app: app.query_one("#empty").display, what="the empty state"
    )
    assert compare(snap_compare, config, run_before)


def test_no_cap(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """(g) Without a monthly cap the header says how to set one instead of a gauge."""
    config = frozen_config(tmp_path, budget=BudgetSettings())
    assert compare(snap_compare, config, after_first_snapshot())


def test_light_theme(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """The dashboard in the light theme: every part readable, the cap gauge's empty part
    included."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = await first_snapshot(pilot)
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()

    assert compare(snap_compare, frozen_config(tmp_path), run_before, size=LARGE)


def test_vendors_screen(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """(v) Vendor sources with their states, and local vs billed with a flagged difference."""
    from tokenbuddy.services.dashboard import VendorsView
    from tokenbuddy.store.vendors import Reconciliation, ReconciliationRow, SourceState
    from tokenbuddy.tui.screens import VendorsScreen

    now_ms = int(NOW * 1000)
    view = VendorsView(
        now_ms,
        [
            SourceState("claude", now_ms - 90_000, now_ms - 90_000, next_poll_ms=now_ms + 30_000),
            SourceState(
                "anthropic", now_ms - 600_000, now_ms - 600_000, next_poll_ms=now_ms + 240_000
            ),
            SourceState(
                "openai",
                now_ms - 300_000,
                None,
                "openai refused the key (401): check it with tokenbuddy auth test openai",
                "unauthorized",
                3,
                now_ms + 900_000,
            ),
            SourceState("cursor"),
            SourceState("cursor-team"),
        ],
        {
            "claude": "/home/dev/.claude/.credentials.json",
            "anthropic": "keyring",
            "openai": "keyring",
        },
        Reconciliation(
            (
                ReconciliationRow("2026-11-18", "anthropic", "claude-opus-4-6", 41.20, 41.35),
                ReconciliationRow("2026-11-18", "anthropic", "claude-sonnet-4-5", 12.10, 12.08),
                ReconciliationRow("2026-11-19", "anthropic", "claude-opus-4-6", 38.75, 52.10),
                ReconciliationRow("2026-11-19", "anthropic", "", 0.0, 0.42),
            )
        ),
    )

    async def run_before(pilot: Pilot[None]) -> None:
        app = await first_snapshot(pilot)
        await app.push_screen(VendorsScreen(view, ZoneInfo("UTC")))
        await settle(pilot, lambda: isinstance(app.screen, VendorsScreen), "the vendors screen")

    assert compare(snap_compare, frozen_config(tmp_path), run_before, size=LARGE)


def test_team_screen(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """(m) The team: pooled budget and projection, members by alias vs soft limits, models."""
    from datetime import date

    from tokenbuddy.core.totals import Totals
    from tokenbuddy.team import MemberSpend, ModelSpend, TeamOverview
    from tokenbuddy.tui.screens import TeamScreen

    def spend(cost: float, requests: int) -> Totals:
        return Totals(requests * 900, requests * 400, requests * 2000, requests * 40_000,
                          cost, requests)  # fmt: skip

    overview = TeamOverview(
        since=date(2026, 11, 1),
        until=date(2026, 11, 20),
        members=[
            MemberSpend("Ana", "m1", True, False, 150.0, 164.30, spend(164.30, 2100)),
            MemberSpend("Bo", "m2", False, True, None, 88.10, spend(88.10, 1300)),
            MemberSpend("member-3", "m3", False, False, 300.0, 41.75, spend(41.75, 700)),
        ],
        totals=spend(294.15, 4100),
        by_model=[
            ModelSpend("claude-code", "claude-opus-4-6", spend(201.40, 1500)),
            ModelSpend("claude-code", "claude-sonnet-4-5-20250929", spend(80.25, 2200)),
            ModelSpend("codex", "gpt-5.4", spend(12.50, 400)),
        ],
        pooled_budget_usd=600.0,
        month_to_date_usd=294.15,
        projected_month_end_usd=441.20,
        viewer_is_lead=False,
        over_soft_limit=["Ana"],
    )

    async def run_before(pilot: Pilot[None]) -> None:
        app = await first_snapshot(pilot)
        await app.push_screen(TeamScreen(overview, "sent 2 day(s)"))
        await settle(pilot, lambda: isinstance(app.screen, TeamScreen), "the team screen")

    assert compare(snap_compare, frozen_config(tmp_path), run_before, size=LARGE)


def test_guard_stopping(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """(h) With ``[guard]`` in block mode and the cycle past ``hard_cap_usd``, the guard's
    line under the header says what it stops and that ``g`` lifts it."""
    from tokenbuddy.services.guard import GuardSetup
    from tokenbuddy.store.settings import GuardSettings, StatuslineSettings

    guard = GuardSettings(mode="block", hard_cap_usd=50.0)
    config = frozen_config(
        tmp_path / "demo",
        status_file=tmp_path / "cache" / "status.json",
        statusline=StatuslineSettings(),
        guard=GuardSetup(guard, tmp_path / "state", tmp_path / "config.toml"),
    )
    run_before = after_first_snapshot(
        then=lambda app: app.query_one("#guard").display, what="the guard's line"
    )
    assert compare(snap_compare, config, run_before)
