"""Building the dashboard's snapshot and session details from the ledger.

Period figures come from the rollup (bounded whatever the history size);
trailing windows shorter than a bucket, and per-request detail, come from the
requests table through its time and session indexes.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from tokenbuddy.core.agents import short_agent_name
from tokenbuddy.core.alerts import Thresholds
from tokenbuddy.core.dashboard import (
    ACTIVE_MS,
    Breakdown,
    DashboardSnapshot,
    SessionDetail,
    SessionSummary,
    WindowStatus,
)
from tokenbuddy.core.metrics import (
    budget_cycle,
    cache_hit_ratio,
    local_now,
    start_of_day,
)
from tokenbuddy.core.model_ids import model_label, undated_model
from tokenbuddy.core.projects import project_name
from tokenbuddy.core.script_loops import group_script_loops
from tokenbuddy.core.spans import DailySpend, Span, span_days, span_first_day
from tokenbuddy.core.totals import Totals
from tokenbuddy.core.units import HOUR_MS, MINUTE_MS
from tokenbuddy.services.blocks import current_block
from tokenbuddy.services.budget import BudgetSettings
from tokenbuddy.services.monitor import Monitor
from tokenbuddy.store import queries, spend
from tokenbuddy.store import sessions as session_store

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from tokenbuddy.core.report import ReportRow
    from tokenbuddy.store.ledger import Ledger

SESSION_WINDOW_MS = 24 * HOUR_MS
"""Sessions with a request in the last day are listed."""
MAX_SESSIONS = 50
"""Sessions listed on their own at most, and loops at most."""
MAX_WINDOW_SESSIONS = 2000
"""Sessions of the last day read at most (the latest), to find the loops among them: a
script starting a run every 45 s for the whole day."""
MAX_TIMELINE = 5000


def build_snapshot(
    ledger: Ledger,
    now_ms: int,
    zone: ZoneInfo,
    budget: BudgetSettings,
    monitor: Monitor | None = None,
) -> DashboardSnapshot:
    """Every dashboard figure as of ``now_ms``.

    ``monitor`` keeps the runaway detectors between snapshots (the dashboard's);
    without one, a fresh one judges the last week and announces nothing.
    """
    if monitor is None:
        monitor = Monitor(zone, budget, Thresholds(), record_announcements=False)
    watch = monitor.catch_up(ledger, now_ms)
    now = local_now(now_ms, zone)
    today_start = _ms(start_of_day(now))
    cycle = budget_cycle(now, budget.cycle_start_day)
    cycle_start = _ms(cycle.start)
    today = _rollup_totals(ledger, today_start)
    cycle_totals = _rollup_totals(ledger, cycle_start)
    sessions = _sessions(ledger, now_ms)
    active = [s for s in sessions if s.active]
    listed, loops = group_script_loops(sessions)
    return DashboardSnapshot(
        now_ms=now_ms,
        today=today,
        cycle_totals=cycle_totals,
        cycle=cycle,
        projection=watch.projection,
        burn_5m=spend.burn_rate(ledger, now_ms, 5 * MINUTE_MS),
        burn_1h=spend.burn_rate(ledger, now_ms, HOUR_MS),
        active_session_cache_ratio=active[0].cache_hit_ratio if active else None,
        sessions=tuple(listed[:MAX_SESSIONS]),
        hourly_usd=_hourly(ledger, now),
        daily_usd=_daily(ledger, now, zone),
        breakdowns=_breakdowns(ledger, today_start, cycle_start),
        unpriced_models=queries.unpriced_models(ledger, queries.RequestFilter()),
        total_requests=spend.request_total(ledger),
        windows=watch.windows,
        alerts=tuple(watch.active),
        announce=tuple(watch.announce),
        loops=tuple(loops[:MAX_SESSIONS]),
        person_typed_ms=watch.person_typed_ms,
        block=None if _claude_5h_known(watch.windows) else current_block(ledger, now_ms),
    )


def _claude_5h_known(windows: tuple[WindowStatus, ...]) -> bool:
    """Whether Claude's own 5-hour percentage was read (the status line or OAuth)."""
    return any(window.label == "Claude 5h" for window in windows)


def _ms(moment: Any) -> int:
    return int(moment.timestamp() * 1000)


def _rollup_totals(ledger: Ledger, since_ms: int | None) -> Totals:
    rows = queries.bucket_totals(ledger, queries.RequestFilter(since_ms=since_ms))
    total = Totals()
    for _start, totals in rows:
        total.add(totals)
    return total


def _sessions(ledger: Ledger, now_ms: int) -> list[SessionSummary]:
    rows = session_store.recent_sessions(ledger, now_ms - SESSION_WINDOW_MS, MAX_WINDOW_SESSIONS)
    return session_summaries(ledger, rows, now_ms)


def session_summaries(
    ledger: Ledger, rows: list[session_store.SessionTotals], now_ms: int
) -> list[SessionSummary]:
    ids = [row.session_id for row in rows]
    projects = session_store.latest_projects(ledger, ids)
    subagent_costs = session_store.subagent_costs(ledger, ids)
    started = session_store.entrypoints(ledger, ((row.session_id, row.source) for row in rows))
    summaries = []
    for sid, source, first, last, models, inp, writes, reads, cost, count in rows:
        path = projects.get((sid, source), "")
        summaries.append(
            SessionSummary(
                session_id=sid,
                source=source,
                project=project_name(path),
                project_path=path,
                models=tuple(sorted(set((models or "").split(",")) - {""})),
                cost_usd=float(cost),
                requests=int(count),
                cache_hit_ratio=cache_hit_ratio(int(inp), int(writes), int(reads)),
                subagent_share=subagent_costs.get((sid, source), 0.0) / cost if cost else 0.0,
                first_ms=int(first),
                last_ms=int(last),
                active=now_ms - int(last) <= ACTIVE_MS,
                entrypoint=started.get((sid, source), ""),
                prompt_tokens=int(inp) + int(writes) + int(reads),
            )
        )
    return summaries


def _hourly(ledger: Ledger, now: Any) -> tuple[float, ...]:
    """Spend per hour of the local clock over the last 24 hours, oldest first.

    Local hours, not UTC ones: in a zone 5:30 or 5:45 ahead the bars would otherwise
    straddle the user's hours. Zone offsets are multiples of 15 minutes, so the
    15-minute rollup buckets fall wholly inside one local hour.
    """
    now_ms = _ms(now)
    into_hour_ms = (now.minute * 60 + now.second) * 1000 + now.microsecond // 1000
    first_ms = now_ms - into_hour_ms - 23 * HOUR_MS
    hours = [0.0] * 24
    for start_ms, cost in spend.bucket_costs(ledger, first_ms):
        index = (start_ms - first_ms) // HOUR_MS
        if 0 <= index < 24:
            hours[index] += cost
    return tuple(hours)


def _daily(ledger: Ledger, now: Any, zone: ZoneInfo) -> tuple[float, ...]:
    return _daily_from(ledger, now.date() - timedelta(days=29), now, zone)


def _daily_from(
    ledger: Ledger, first_day: date, now: datetime, zone: ZoneInfo
) -> tuple[float, ...]:
    """Spend per local day from ``first_day`` to today, oldest first."""
    by_day: dict[date, float] = {}
    start_ms = _ms(datetime.combine(first_day, time(0), zone))
    for bucket_ms, cost in spend.bucket_costs(ledger, start_ms):
        day = datetime.fromtimestamp(bucket_ms / 1000, zone).date()
        by_day[day] = by_day.get(day, 0.0) + cost
    return tuple(by_day.get(day, 0.0) for day in span_days(first_day, now))


def daily_spend(
    ledger: Ledger, span: Span, now_ms: int, zone: ZoneInfo, cycle_start_day: int
) -> DailySpend:
    """Spend per local day over ``span`` up to today (all time: from the first request)."""
    now = local_now(now_ms, zone)
    first_day = span_first_day(
        span, now, budget_cycle(now, cycle_start_day), first_day_of(ledger, zone)
    )
    return DailySpend(span, first_day, _daily_from(ledger, first_day, now, zone))


def first_day_of(ledger: Ledger, zone: ZoneInfo) -> date | None:
    """The local day of the ledger's first request (None: an empty ledger)."""
    first_ms = spend.first_bucket_ms(ledger)
    return None if first_ms is None else datetime.fromtimestamp(first_ms / 1000, zone).date()


def _breakdowns(ledger: Ledger, today_ms: int, cycle_ms: int) -> tuple[Breakdown, ...]:
    result = []
    for period, since in (("today", today_ms), ("cycle", cycle_ms), ("all time", None)):
        request_filter = queries.RequestFilter(since_ms=since)
        models = queries.model_rows(ledger, request_filter)
        result.append(Breakdown(f"By model, {period}", _models(models)))
        result.append(Breakdown(f"By project, {period}", _projects(ledger, request_filter)))
        agents = queries.agent_rows(ledger, request_filter)
        result.append(
            Breakdown(
                f"By agent, {period}",
                tuple((str(row.key["agent"]), row.totals) for row in agents),
            )
        )
    return tuple(result)


def _models(rows: list[ReportRow]) -> tuple[tuple[str, Totals], ...]:
    """(label, totals) per model and source: a model that several agents ran (dated or
    not) is named with each agent (``claude-sonnet-4-5 · OpenCode``)."""
    agents: dict[str, int] = {}
    for row in rows:
        family = undated_model(str(row.key["model"]))
        agents[family] = agents.get(family, 0) + 1
    labelled = []
    for row in rows:
        model = str(row.key["model"])
        label = model_label(model)
        if agents[undated_model(model)] > 1:
            label += f" · {short_agent_name(row.key['source'])}"
        labelled.append((label, row.totals))
    return tuple(labelled)


def _projects(
    ledger: Ledger, request_filter: queries.RequestFilter
) -> tuple[tuple[str, Totals], ...]:
    merged: dict[str, Totals] = {}
    for path, totals in queries.project_totals(ledger, request_filter):
        merged.setdefault(project_name(path), Totals()).add(totals)
    return tuple(sorted(merged.items(), key=lambda item: -item[1].cost_usd))


def session_detail(
    ledger: Ledger, session_id: str, source: str | None, now_ms: int
) -> SessionDetail | None:
    """The timeline and subagents of one session; None if the ledger has no such session.

    ``source`` None takes the source of the session's latest request.
    """
    if source is None:
        source = session_store.latest_source(ledger, session_id)
        if source is None:
            return None
    lines = session_store.timeline(ledger, session_id, source, MAX_TIMELINE)
    if not lines:
        return None
    rows = session_store.session_totals(ledger, session_id, source)
    summary = session_summaries(ledger, rows, now_ms)[0]
    return SessionDetail(summary, lines, session_store.subagent_spend(ledger, session_id, source))
