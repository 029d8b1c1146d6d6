"""What ``tokenbuddy status`` shows: the ledger brought up to date, the snapshot of now,
and the status line's file written from it on the way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tokenbuddy import clock
from tokenbuddy.services.budget import BudgetSettings
from tokenbuddy.services.empty_result import explain_empty
from tokenbuddy.services.guard import GuardSetup
from tokenbuddy.services.monitor import Monitor
from tokenbuddy.services.session import open_session
from tokenbuddy.services.snapshot import build_snapshot
from tokenbuddy.services.status_file import publish_status, recent_transcripts, status_payload
from tokenbuddy.store.timezone import configured_zone, zone_notice

if TYPE_CHECKING:
    from collections.abc import Callable
    from zoneinfo import ZoneInfo

    from tokenbuddy.core.dashboard import DashboardSnapshot
    from tokenbuddy.services.session import Session


@dataclass(frozen=True, slots=True)
class CurrentStatus:
    """The snapshot of now, the status file's payload written from it, and what to warn of."""

    snapshot: DashboardSnapshot
    payload: dict[str, Any]
    """What the status file now holds (the status line's facts)."""
    zone: ZoneInfo
    problems: list[str]
    """Time zone, settings and log-dir problems, files that could not be read, and why
    today is empty when it is."""


def current_status(*, progress: Callable[[int, int], None] | None = None) -> CurrentStatus:
    """Sync the ledger, build the snapshot of now (warnings included, none announced), and
    publish it to the status file."""
    session = open_session(settings=True, progress=progress)
    with session.ledger:
        settings = session.settings
        assert settings is not None
        zone, zone_problems = configured_zone(settings.timezone)
        budget = BudgetSettings.from_settings(settings)
        monitor = Monitor(zone, budget, settings.thresholds, record_announcements=False)
        now_ms = clock.now_ms()
        snapshot = build_snapshot(session.ledger, now_ms, zone, budget, monitor)
        quiet = _quiet_today(session, snapshot, zone) if not snapshot.today.requests else []
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
    problems = [
        *zone_problems,
        *zone_notice(settings.timezone),
        *session.problems,
        *session.summary.errors,
        *quiet,
    ]
    return CurrentStatus(snapshot, payload, zone, problems)


def _quiet_today(session: Session, snapshot: DashboardSnapshot, zone: ZoneInfo) -> list[str]:
    """Why today shows $0.00: no logs found at all, or when the newest request was."""
    from datetime import UTC, datetime

    today = datetime.fromtimestamp(snapshot.now_ms / 1000, UTC).astimezone(zone)
    midnight = today.replace(hour=0, minute=0, second=0, microsecond=0)
    since_ms = int(midnight.timestamp() * 1000)
    return explain_empty(
        session.ledger, session.roots, zone=zone, since_ms=since_ms, missing_said=True
    )
