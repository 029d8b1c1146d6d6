"""Keeping the runaway detectors fed from the ledger, and remembering what was announced.

:class:`Monitor` warms an :class:`~tokenbuddy.core.alerts.AlertEngine` up on the
last week of requests and prompts (the spike detector's baseline), then feeds it
only what was committed since. Announcements are kept in the ledger, so a
restarted dashboard does not ring again for a warning the user has already seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from tokenbuddy.core.alerts import (
    SEVERITY_RANK,
    Alert,
    AlertEngine,
    PromptEvent,
    RequestEvent,
    Thresholds,
    WindowReading,
)
from tokenbuddy.core.dashboard import WindowStatus
from tokenbuddy.core.metrics import budget_cycle, local_now
from tokenbuddy.core.projection import (
    HISTORY_DAYS,
    CycleProjection,
    estimate_percent_per_hour,
    project_cycle,
    project_window,
)
from tokenbuddy.core.report import fold_buckets
from tokenbuddy.core.units import DAY_MS, HOUR_MS, MINUTE_MS
from tokenbuddy.store import announcements, queries, rate_limits
from tokenbuddy.store.events import EventStream

if TYPE_CHECKING:
    from collections.abc import Iterable
    from zoneinfo import ZoneInfo

    from tokenbuddy.services.budget import BudgetSettings
    from tokenbuddy.store.ledger import Ledger

WINDOW_RATE_MS = 2 * HOUR_MS
"""Readings of a window this recent estimate how fast it fills."""
WARMUP_MS = 7 * DAY_MS
"""History replayed into a fresh engine: the spike detector's baseline week."""
PROMPT_LOOKBACK_MS = 10 * MINUTE_MS
"""Prompts are re-read this far back on each catch-up, for files flushed late."""


def daily_spend(ledger: Ledger, now: datetime, zone: ZoneInfo) -> dict[date, float]:
    """Dollars per local day over the projection's history window, today included."""
    first = datetime.combine(now.date() - timedelta(days=HISTORY_DAYS), datetime.min.time(), zone)
    buckets = queries.bucket_totals(
        ledger, queries.RequestFilter(since_ms=int(first.timestamp() * 1000))
    )
    return {
        date.fromisoformat(str(row.key["date"])): row.totals.cost_usd
        for row in fold_buckets("daily", buckets, zone)
    }


def cycle_projection(
    ledger: Ledger, now_ms: int, zone: ZoneInfo, budget: BudgetSettings
) -> CycleProjection:
    """The cycle's spend so far and where it is heading (with or without a cap)."""
    now = local_now(now_ms, zone)
    cycle = budget_cycle(now, budget.cycle_start_day)
    return project_cycle(
        budget.monthly_cap_usd, budget.soft_limit_ratio, cycle, now, daily_spend(ledger, now, zone)
    )


def subscription_windows(ledger: Ledger, now_ms: int) -> tuple[WindowStatus, ...]:
    """The latest reading of every subscription window that has not reset yet."""
    windows = []
    for source, minutes, read_at, used, resets_at, plan in rate_limits.latest_readings(ledger):
        if resets_at is not None and resets_at <= now_ms:
            continue
        if resets_at is None and now_ms - read_at > minutes * MINUTE_MS:
            continue
        readings = rate_limits.window_readings(
            ledger, source, minutes, read_at - WINDOW_RATE_MS, resets_at
        )
        rate = estimate_percent_per_hour(readings) or 0.0
        projection = project_window(float(used), resets_at, int(minutes), now_ms, rate)
        windows.append(WindowStatus(source, int(minutes), plan or "", int(read_at), projection))
    return tuple(windows)


def window_reading(window: WindowStatus) -> WindowReading:
    """A window as the detectors take it."""
    projection = window.projection
    return WindowReading(
        window.label, projection.used_percent, projection.resets_at_ms, projection.full_at_ms
    )


@dataclass(slots=True)
class MonitorResult:
    """What one catch-up found."""

    active: list[Alert]
    """Every alert whose condition holds now, worst first."""
    announce: list[Alert]
    """The ones to announce: new, or materially worse than any announced before."""
    projection: CycleProjection
    windows: tuple[WindowStatus, ...] = ()
    """The subscription windows the window alerts were judged on."""
    person_typed_ms: int | None = None
    """When a person last typed a prompt (the guard keeps a stopped loop stopped until then)."""


class Monitor:
    """An alert engine kept level with the ledger."""

    def __init__(
        self,
        zone: ZoneInfo,
        budget: BudgetSettings,
        thresholds: Thresholds,
        *,
        record_announcements: bool = True,
    ) -> None:
        self.zone = zone
        self.budget = budget
        self.engine = AlertEngine(thresholds, zone=zone)
        self.record_announcements = record_announcements
        """False for one-off readers (``status``): they show alerts but announce none."""
        self._after_rowid: int | None = None
        self._prompts_from_ms = 0

    def catch_up(self, ledger: Ledger, now_ms: int) -> MonitorResult:
        """Feed what the ledger gained since the last call and judge the state at ``now_ms``."""
        first = self._after_rowid is None
        events = EventStream(
            ledger,
            after_rowid=self._after_rowid or 0,
            since_ms=now_ms - WARMUP_MS,
            prompts_since_ms=now_ms - WARMUP_MS if first else self._prompts_from_ms,
        )
        self._feed(events)
        self._after_rowid = events.last_rowid
        self._prompts_from_ms = now_ms - PROMPT_LOOKBACK_MS
        projection = cycle_projection(ledger, now_ms, self.zone, self.budget)
        has_cap = self.budget.monthly_cap_usd is not None
        self.engine.feed_projection(projection if has_cap else None)
        windows = subscription_windows(ledger, now_ms)
        self.engine.feed_windows(window_reading(w) for w in windows)
        fresh = self.engine.evaluate(now_ms)
        announce = unseen(ledger, fresh) if self.record_announcements else []
        active = self.engine.active(now_ms)
        return MonitorResult(active, announce, projection, windows, self.engine.person_typed_ms)

    def _feed(self, events: Iterable[RequestEvent | PromptEvent]) -> None:
        for event in events:
            if isinstance(event, RequestEvent):
                self.engine.feed_request(event)
            else:
                self.engine.feed_prompt(event)


REMEMBER_MS = 12 * HOUR_MS
"""How long an announcement silences the same alert in a later run (a restart, say)."""


def unseen(ledger: Ledger, fresh: list[Alert]) -> list[Alert]:
    """Of ``fresh``, those not announced in the last :data:`REMEMBER_MS` with the same or a
    higher severity and at least the same magnitude; records the rest as announced."""
    news = []
    for alert in fresh:
        key = (alert.kind, alert.key[1] or "")
        last = announcements.last_announcement(ledger, *key)
        if last is not None and _covers(last, alert):
            continue
        news.append(alert)
        shown = announcements.Announcement(alert.severity, alert.magnitude, alert.at_ms)
        announcements.record_announcement(ledger, *key, shown)
    return news


def _covers(last: announcements.Announcement, alert: Alert) -> bool:
    severity, magnitude, at_ms = last
    recent = alert.at_ms - int(at_ms) < REMEMBER_MS
    milder = SEVERITY_RANK[alert.severity] <= SEVERITY_RANK.get(severity, 0)  # type: ignore[call-overload]
    return recent and milder and alert.magnitude <= float(magnitude)
