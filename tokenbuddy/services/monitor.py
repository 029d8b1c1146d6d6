"""Keeping the runaway detectors fed from the ledger, and remembering what was announced.

:class:`Monitor` warms an :class:`~tokenbuddy.core.alerts.AlertEngine` up on the
last week of requests and prompts (the spike detector's baseline), then feeds it
only what was committed since. Announcements are kept in the ledger, so a
restarted dashboard does not ring again for a warning the user has already seen.
"""

from __future__ import annotations

import heapq
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
from tokenbuddy.store import queries
from tokenbuddy.store.ledger import COUNTED

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable, Iterator
    from zoneinfo import ZoneInfo

    from tokenbuddy.services.budget import BudgetSettings

WINDOW_RATE_MS = 2 * HOUR_MS
"""Readings of a window this recent estimate how fast it fills."""
WARMUP_MS = 7 * DAY_MS
"""History replayed into a fresh engine: the spike detector's baseline week."""
PROMPT_LOOKBACK_MS = 10 * MINUTE_MS
"""Prompts are re-read this far back on each catch-up, for files flushed late."""

_REQUEST_COLUMNS = (
    "rowid, ts_ms, session_id, project, model, cost_usd, input_tokens,"
    " cache_write_5m_tokens + cache_write_1h_tokens, cache_read_tokens, output_tokens,"
    " is_sidechain, agent_id, source"
)


def request_events(rows: Iterable[tuple[object, ...]]) -> Iterator[tuple[int, RequestEvent]]:
    """(rowid, event) for rows selected with ``_REQUEST_COLUMNS``."""
    for rowid, ts, sid, project, model, cost, inp, writes, reads, out, side, agent, source in rows:
        event = RequestEvent(
            int(ts),  # type: ignore[call-overload]
            str(sid),
            str(project),
            str(model),
            None if cost is None else float(cost),  # type: ignore[arg-type]
            int(inp),  # type: ignore[call-overload]
            int(writes),  # type: ignore[call-overload]
            int(reads),  # type: ignore[call-overload]
            int(out),  # type: ignore[call-overload]
            bool(side),
            str(agent),
            source=str(source),
        )
        yield int(rowid), event  # type: ignore[call-overload]


class EventStream:
    """Requests and prompts merged in time order, streamed from two cursors.

    After iteration, :attr:`last_rowid` is the highest request rowid seen.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        *,
        after_rowid: int = 0,
        since_ms: int = 0,
        prompts_since_ms: int = 0,
    ) -> None:
        self.last_rowid = after_rowid
        self._requests = db.execute(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE rowid > ? AND ts_ms >= ?"
            f" AND {COUNTED} ORDER BY ts_ms",
            (after_rowid, since_ms),
        )
        self._prompts = db.execute(
            "SELECT ts_ms, session_id, source FROM prompts WHERE ts_ms >= ? ORDER BY ts_ms",
            (prompts_since_ms,),
        )

    def __iter__(self) -> Iterator[RequestEvent | PromptEvent]:
        prompts = (
            PromptEvent(int(ts), str(sid), source=str(source)) for ts, sid, source in self._prompts
        )
        return heapq.merge(prompts, self._tracked_requests(), key=_event_order)

    def _tracked_requests(self) -> Iterator[RequestEvent]:
        for rowid, event in request_events(self._requests):
            self.last_rowid = max(self.last_rowid, rowid)
            yield event


def _event_order(event: RequestEvent | PromptEvent) -> tuple[int, bool]:
    """Time order; a prompt sorts before a request of the same millisecond (asked first)."""
    return (event.ts_ms, isinstance(event, RequestEvent))


def daily_spend(db: sqlite3.Connection, now: datetime, zone: ZoneInfo) -> dict[date, float]:
    """Dollars per local day over the projection's history window, today included."""
    first = datetime.combine(now.date() - timedelta(days=HISTORY_DAYS), datetime.min.time(), zone)
    buckets = queries.bucket_totals(
        db, queries.RequestFilter(since_ms=int(first.timestamp() * 1000))
    )
    return {
        date.fromisoformat(str(row.key["date"])): row.totals.cost_usd
        for row in fold_buckets("daily", buckets, zone)
    }


def cycle_projection(
    db: sqlite3.Connection, now_ms: int, zone: ZoneInfo, budget: BudgetSettings
) -> CycleProjection:
    """The cycle's spend so far and where it is heading (with or without a cap)."""
    now = local_now(now_ms, zone)
    cycle = budget_cycle(now, budget.cycle_start_day)
    return project_cycle(
        budget.monthly_cap_usd, budget.soft_limit_ratio, cycle, now, daily_spend(db, now, zone)
    )


def subscription_windows(db: sqlite3.Connection, now_ms: int) -> tuple[WindowStatus, ...]:
    """The latest reading of every subscription window that has not reset yet."""
    latest = db.execute(
        "SELECT source, window_minutes, MAX(ts_ms), used_percent, resets_at_ms, plan"
        " FROM rate_limits GROUP BY source, window_minutes ORDER BY source, window_minutes"
    ).fetchall()
    windows = []
    for source, minutes, read_at, used, resets_at, plan in latest:
        if resets_at is not None and resets_at <= now_ms:
            continue
        if resets_at is None and now_ms - read_at > minutes * MINUTE_MS:
            continue
        readings = db.execute(
            "SELECT ts_ms, used_percent FROM rate_limits WHERE source = ? AND window_minutes = ?"
            " AND ts_ms >= ? AND resets_at_ms IS ?",
            (source, minutes, read_at - WINDOW_RATE_MS, resets_at),
        ).fetchall()
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

    def catch_up(self, db: sqlite3.Connection, now_ms: int) -> MonitorResult:
        """Feed what the ledger gained since the last call and judge the state at ``now_ms``."""
        first = self._after_rowid is None
        events = EventStream(
            db,
            after_rowid=self._after_rowid or 0,
            since_ms=now_ms - WARMUP_MS,
            prompts_since_ms=now_ms - WARMUP_MS if first else self._prompts_from_ms,
        )
        self._feed(events)
        self._after_rowid = events.last_rowid
        self._prompts_from_ms = now_ms - PROMPT_LOOKBACK_MS
        projection = cycle_projection(db, now_ms, self.zone, self.budget)
        has_cap = self.budget.monthly_cap_usd is not None
        self.engine.feed_projection(projection if has_cap else None)
        windows = subscription_windows(db, now_ms)
        self.engine.feed_windows(window_reading(w) for w in windows)
        fresh = self.engine.evaluate(now_ms)
        announce = unseen(db, fresh) if self.record_announcements else []
        return MonitorResult(self.engine.active(now_ms), announce, projection, windows)

    def _feed(self, events: Iterable[RequestEvent | PromptEvent]) -> None:
        for event in events:
            if isinstance(event, RequestEvent):
                self.engine.feed_request(event)
            else:
                self.engine.feed_prompt(event)


REMEMBER_MS = 12 * HOUR_MS
"""How long an announcement silences the same alert in a later run (a restart, say)."""


def unseen(db: sqlite3.Connection, fresh: list[Alert]) -> list[Alert]:
    """Of ``fresh``, those not announced in the last :data:`REMEMBER_MS` with the same or a
    higher severity and at least the same magnitude; records the rest as announced."""
    news = []
    for alert in fresh:
        key = (alert.kind, alert.key[1] or "")
        row = db.execute(
            "SELECT severity, magnitude, at_ms FROM announced_alerts"
            " WHERE kind = ? AND session_id = ?",
            key,
        ).fetchone()
        if row is not None and _covers(row, alert):
            continue
        news.append(alert)
        db.execute(
            "INSERT OR REPLACE INTO announced_alerts VALUES (?, ?, ?, ?, ?)",
            (*key, alert.severity, alert.magnitude, alert.at_ms),
        )
    return news


def _covers(row: tuple[str, float, int], alert: Alert) -> bool:
    severity, magnitude, at_ms = row
    recent = alert.at_ms - int(at_ms) < REMEMBER_MS
    milder = SEVERITY_RANK[alert.severity] <= SEVERITY_RANK.get(severity, 0)  # type: ignore[call-overload]
    return recent and milder and alert.magnitude <= float(magnitude)
