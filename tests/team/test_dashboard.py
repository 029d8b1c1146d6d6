"""The dashboard syncs the team in the background and shows the team screen (real server)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pytest
from textual.widgets import DataTable

from tests.team.conftest import NOW_MS, UTC_ZONE, TeamDatabase
from tests.tui.pilot import until
from tokenbuddy.tui.app import TokenBuddyApp
from tokenbuddy.tui.config import DashboardConfig
from tokenbuddy.tui.formatting import dollars
from tokenbuddy.tui.screens import TeamScreen

if TYPE_CHECKING:
    from pathlib import Path

pytest.importorskip("psycopg")


async def test_the_dashboard_syncs_and_shows_the_team_by_alias(
    initialised: TeamDatabase, machine_factory: Any, tmp_path: Path
) -> None:
    with initialised.admin() as admin:
        admin.execute("UPDATE tokenbuddy.team_budget SET pooled_monthly_usd = 100")
    _, amy_dsn = initialised.add_member("amy", alias="Amy", soft_limit_usd=0.005)
    _, zed_dsn = initialised.add_member("zed", alias="Zed", soft_limit_usd=500.0)
    today = date.fromtimestamp(NOW_MS / 1000)
    zed = machine_factory(zed_dsn, "zed")
    zed.add(today, 9, cost=3.0)
    zed.sync()
    amy = machine_factory(amy_dsn, "amy")
    amy.add(today, 10, cost=8.0, model="claude-opus-4-1")
    config = DashboardConfig(
        ledger_path=amy.ledger_path,
        config_file=tmp_path / "config.toml",
        roots=[],
        zone=UTC_ZONE,
        clock=lambda: NOW_MS / 1000,
        watch=False,
        team=amy.options,
    )
    app = TokenBuddyApp(config)
    async with app.run_test(size=(110, 30)) as pilot:
        await until(lambda: app.team_report is not None, pilot, timeout=30.0)
        assert app.team_report is not None and app.team_report.status == "synced"
        await pilot.press("m")
        await until(lambda: isinstance(app.screen, TeamScreen), pilot, timeout=30.0)
        screen = app.screen
        assert isinstance(screen, TeamScreen)
        members = screen.query_one("#team-members", DataTable)
        rows = [[str(c) for c in members.get_row_at(i)] for i in range(members.row_count)]
        assert [row[0] for row in rows] == ["Amy (you)", "Zed"], "by alias, never by spend"
        # The dashboard's own ingest re-prices Amy's request with the price database.
        amy_cost = amy.local_cost()
        assert 0 < amy_cost < 1
        assert rows[0][2:] == [dollars(amy_cost), "$0.01", "over"]
        assert rows[1][2:] == ["$3.00", "$500.00", "under"]
        budget = str(screen.query_one("#team-budget").render())
        assert f"this month {dollars(3 + amy_cost)} of the pooled $100.00" in budget
        assert any("Over their soft limit this month: Amy" in n.message for n in app._notifications)
        assert "amy_" not in budget and "zed_" not in " ".join(" ".join(r) for r in rows)
