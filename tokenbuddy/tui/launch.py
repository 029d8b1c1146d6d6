"""Opening the dashboard: its configuration from the user's settings, or a demo history.

``tokenbuddy`` with no command (and ``--demo``) comes here; the tests, benchmarks and
the screenshot script build the same configurations through :func:`user_config` and
:func:`demo_config`.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tokenbuddy.store.paths import app_paths
from tokenbuddy.store.settings import load_settings
from tokenbuddy.store.timezone import resolve_zone, zone_notice

if TYPE_CHECKING:
    from tokenbuddy.services.team_sync import SyncOptions
    from tokenbuddy.store.paths import AppPaths
    from tokenbuddy.store.settings import Settings
    from tokenbuddy.tui.config import DashboardConfig


def run_dashboard(*, demo: bool = False) -> int:
    """Open the dashboard on the user's logs, or on a generated demo history."""
    from tokenbuddy.tui.app import TokenBuddyApp

    if demo:
        with tempfile.TemporaryDirectory(prefix="tokenbuddy-demo-") as scratch:
            TokenBuddyApp(demo_config(Path(scratch), time.time())).run()
        return 0
    TokenBuddyApp(user_config()).run()
    return 0


def user_config() -> DashboardConfig:
    """The dashboard's configuration from the user's settings and environment."""
    from tokenbuddy.services.budget import BudgetSettings
    from tokenbuddy.services.guard import GuardSetup
    from tokenbuddy.services.session import configured_roots
    from tokenbuddy.tui.config import DashboardConfig

    paths = app_paths()
    paths.ensure()
    settings, problems = load_settings(paths.config_file)
    return DashboardConfig(
        ledger_path=paths.ledger,
        config_file=paths.config_file,
        roots=configured_roots(settings),
        zone=resolve_zone(settings.timezone),
        budget=BudgetSettings.from_settings(settings),
        refresh_seconds=settings.refresh_seconds,
        rescan_seconds=settings.rescan_seconds,
        notices=[*problems, *zone_notice(settings.timezone)],
        thresholds=settings.thresholds,
        bell=settings.bell,
        desktop_notifications=settings.desktop_notifications,
        status_file=paths.status_file,
        statusline=settings.statusline,
        guard=GuardSetup.from_settings(paths, settings),
        vendors=settings.vendors,
        team=team_options(paths, settings),
        team_sync_minutes=settings.team.sync_minutes,
        ui_state=paths.state_dir / "ui.json",
    )


def demo_config(scratch: Path, now: float, *, watch: bool = True) -> DashboardConfig:
    """A dashboard on a demo history generated under ``scratch`` up to ``now``."""
    from tokenbuddy.services.budget import BudgetSettings
    from tokenbuddy.services.demo import write_demo_history
    from tokenbuddy.tui.config import DashboardConfig

    history = write_demo_history(scratch / "logs", datetime.fromtimestamp(now, UTC))
    (scratch / "data").mkdir(exist_ok=True)
    return DashboardConfig(
        ledger_path=scratch / "data" / "ledger.sqlite3",
        config_file=scratch / "config.toml",
        roots=history.log_roots(scratch),
        zone=resolve_zone(None),
        budget=BudgetSettings(monthly_cap_usd=250.0, cycle_start_day=1),
        watch=watch,
        notices=["Demo mode: generated data, not your logs."],
        desktop_notifications=False,
    )


def team_options(paths: AppPaths, settings: Settings) -> SyncOptions:
    """The dashboard's team sync options (it syncs only after ``tokenbuddy team join``)."""
    from tokenbuddy.services.team_sync import SyncOptions

    return SyncOptions.from_settings(paths, settings, resolve_zone(settings.timezone))
