"""The figures the guard's hook would have read, rebuilt while past logs are replayed.

The hook judges ``status.json`` (see :mod:`tokenbuddy.services.status_file`), which a
refresh of the ledger writes. A replay has no such file, so :class:`SpendFigures` keeps
what the policy (:mod:`tokenbuddy.core.guard`) reads from it, spend by spend, and
:func:`hook_view` writes it out as the file would hold it at one refresh: the spend
today and in the budget cycle (in the user's zone), each recent session's spend, the
detectors' active warnings, and the ``[guard]`` settings with when the cycle and the
day end. Pure: every function takes the time it is asked about.

The caps judge the replayed logs' spend as if it were all that was spent: the ledger's
other history (other machines' agents, vendor-billed usage) is not in a replay.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from tokenbuddy.core.alerts import SEVERITY_RANK
from tokenbuddy.core.metrics import budget_cycle
from tokenbuddy.core.units import DAY_MS

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import tzinfo

    from tokenbuddy.core.alerts import Alert

STATUS_VERSION = 1
"""The ``version`` of ``status.json`` the hook reads (the fast path refuses others)."""
SESSION_WINDOW_MS = DAY_MS
"""Sessions with spend in the last day are listed, as the dashboard's snapshot lists them."""


class SpendFigures:
    """Spend so far in the day and the budget cycle, in total and per session.

    Days and cycles begin at local midnight in ``zone`` (a cycle on ``cycle_start_day``);
    a figure starts again from zero when its day or cycle ends. :attr:`total_usd`
    never does: the spend since some moment is the difference of two readings.
    """

    def __init__(self, zone: tzinfo, cycle_start_day: int = 1) -> None:
        self.zone = zone
        self.cycle_start_day = cycle_start_day
        self.total_usd = 0.0
        self.today_usd = 0.0
        self.cycle_usd = 0.0
        self.day_ends_ms = 0
        self.cycle_ends_ms = 0
        self.sessions: dict[str, tuple[float, int]] = {}
        """Session -> (its spend, its latest request), in the order last spent."""

    def roll(self, now_ms: int) -> None:
        """Start the day's and the cycle's figures again when ``now_ms`` is past their end."""
        if now_ms < self.day_ends_ms and now_ms < self.cycle_ends_ms:
            return
        now = datetime.fromtimestamp(now_ms / 1000, self.zone)
        if now_ms >= self.day_ends_ms:
            tomorrow = datetime.combine(now.date() + timedelta(days=1), time(0), self.zone)
            self.day_ends_ms, self.today_usd = _ms(tomorrow), 0.0
        if now_ms >= self.cycle_ends_ms:
            cycle = budget_cycle(now, self.cycle_start_day)
            self.cycle_ends_ms, self.cycle_usd = _ms(cycle.end), 0.0

    def add(self, ts_ms: int, session_id: str, cost_usd: float) -> None:
        """Count one request's spend (its day and cycle must have been rolled to)."""
        self.total_usd += cost_usd
        self.today_usd += cost_usd
        self.cycle_usd += cost_usd
        spent, _last = self.sessions.pop(session_id, (0.0, 0))
        self.sessions[session_id] = (spent + cost_usd, ts_ms)

    def session_usd(self, session_id: str) -> float:
        """What ``session_id`` has spent (0 when it has spent nothing)."""
        return self.sessions.get(session_id, (0.0, 0))[0]

    def recent_sessions(self, now_ms: int) -> dict[str, float]:
        """Each session's spend, for those that spent within :data:`SESSION_WINDOW_MS`
        (sessions quiet longer are dropped on the way)."""
        horizon = now_ms - SESSION_WINDOW_MS
        for session_id, (_spent, last_ms) in list(self.sessions.items()):
            if last_ms >= horizon:
                break
            del self.sessions[session_id]
        return {session_id: round(spent, 6) for session_id, (spent, _) in self.sessions.items()}


def hook_view(
    now_ms: int, figures: SpendFigures, alerts: Iterable[Alert], settings: dict[str, Any]
) -> dict[str, Any]:
    """What ``status.json`` would hold after a refresh at ``now_ms``: the fields the guard's
    policy reads, named and shaped as the file names and shapes them."""
    figures.roll(now_ms)
    return {
        "version": STATUS_VERSION,
        "updated_ms": now_ms,
        "synced_ms": now_ms,
        "today_usd": figures.today_usd,
        "cycle_usd": figures.cycle_usd,
        "alerts": [alert_entry(alert) for alert in alerts],
        "sessions": figures.recent_sessions(now_ms),
        "guard": {
            "settings": settings,
            "cycle_ends_ms": figures.cycle_ends_ms,
            "day_ends_ms": figures.day_ends_ms,
        },
    }


def alert_entry(alert: Alert) -> dict[str, Any]:
    """One warning as ``status.json`` lists it (a test keeps the two in step)."""
    return {
        "kind": alert.kind,
        "severity": alert.severity,
        "rank": SEVERITY_RANK[alert.severity],
        "session_id": alert.session_id,
        "sessions": list(alert.sessions),
        "message": alert.message,
    }


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
