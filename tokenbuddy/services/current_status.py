"""What ``tokenbuddy status`` shows: the ledger brought up to date, the snapshot of now,
and the status line's file written from it on the way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tokenbuddy import clock
from tokenbuddy.services.budget import BudgetSettings
from tokenbuddy.services.guard import GuardSetup
from tokenbuddy.services.monitor import Monitor
from tokenbuddy.services.session import open_session
from tokenbuddy.services.snapshot import build_snapshot
from tokenbuddy.services.status_file import publish_status, recent_transcripts, status_payload
from tokenbuddy.store.timezone import resolve_zone, zone_notice

if TYPE_CHECKING:
    from collections.abc import Callable
    from zoneinfo import ZoneInfo

    from tokenbuddy.core.dashboard import DashboardSnapshot


@dataclass(frozen=True, slots=True)
class CurrentStatus:
    """The snapshot of now, the status file's payload written from it, and what to warn of."""

    snapshot: DashboardSnapshot
    payload: dict[str, Any]
    """What the status file now holds (the status line's facts)."""
    zone: ZoneInfo
    problems: list[str]
    """Time zone, settings and log-dir problems, and files that could not be read."""


def current_status(*, progress: Callable[[int, int], None] | None = None) -> CurrentStatus:
    """Sync the ledger, build the snapshot of now (warnings included, none announced), and
    publish it to the status file."""
    session = open_session(settings=True, progress=progress)
    with session.ledger:
        settings = session.settings
        assert settings is not None
        zone = resolve_zone(settings.timezone)
        budget = BudgetSettings.from_settings(settings)
        monitor = Monitor(zone, budget, settings.thresholds, record_announcements=False)
        now_ms = clock.now_ms()
        snapshot = build_snapshot(session.ledger, now_ms, zone, budget, monitor)
        if session.ledger.read_only:  # nothing can be written: the status is only shown
            transcripts = recent_transcripts(session.ledger, now_ms)
            payload = status_payload(snapshot, transcripts, settings.statusline)
        else:
            payload = publish_status(
                session.ledger,
                snapshot,
                settings.statusline,
                session.paths.status_file,
                guard=GuardSetup.from_settings(session.paths, settings),
            )
    problems = [*zone_notice(settings.timezone), *session.problems, *session.summary.errors]
    return CurrentStatus(snapshot, payload, zone, problems)
