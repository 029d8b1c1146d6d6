"""The dashboard's configuration: everything the app takes from outside.

The command line builds it from the user's settings (or a demo history), the tests
and benchmarks from scratch directories; :class:`~tokenbuddy.tui.app.TokenBuddyApp`
takes it whole and hands its data settings to the dashboard service.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tokenbuddy.core.alerts import Thresholds
from tokenbuddy.services.budget import BudgetSettings

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from tokenbuddy.services.guard import GuardSetup
    from tokenbuddy.services.team_sync import SyncOptions
    from tokenbuddy.sources.discovery import LogRoot
    from tokenbuddy.store.settings import StatuslineSettings, VendorSettings


@dataclass(slots=True)
class DashboardConfig:
    """Everything the app needs from outside: paths, roots, settings and the clock."""

    ledger_path: Path
    config_file: Path
    roots: list[LogRoot]
    zone: ZoneInfo
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    refresh_seconds: float = 0.25
    rescan_seconds: float = 30.0
    clock: Callable[[], float] = time.time
    """Seconds since the epoch; tests freeze it."""
    watch: bool = True
    """Follow the logs live (off in snapshot tests)."""
    notices: list[str] = field(default_factory=list)
    """Messages to show once at start (an invalid config, say)."""
    thresholds: Thresholds = field(default_factory=Thresholds)
    """The runaway detectors' thresholds (``[alerts]`` in config.toml)."""
    bell: bool = True
    """Ring the terminal bell on a new critical warning."""
    desktop_notifications: bool = True
    """Send a desktop notification on a new critical warning, where possible."""
    status_file: Path | None = None
    """Where to keep the status line's snapshot up to date (None: nowhere, as in the demo)."""
    statusline: StatuslineSettings | None = None
    """The ``[statusline]`` settings written into that snapshot."""
    guard: GuardSetup | None = None
    """The ``[guard]`` settings and files published with it (the guard hook reads them)."""
    vendors: VendorSettings | None = None
    """Poll the vendor endpoints with these settings (None: never, as in the demo)."""
    team: SyncOptions | None = None
    """Team sync options (None: never, as in the demo); syncs only once joined."""
    team_sync_minutes: float = 15.0
    ui_state: Path | None = None
    """Where the chosen theme is remembered between runs (None: nowhere)."""
