"""Building the dashboard's snapshot and session details from the ledger.

Period figures come from the rollup (bounded whatever the history size);
trailing windows shorter than a bucket, and per-request detail, come from the
requests table through its time and session indexes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tokenbuddy.core.alerts import Thresholds
from tokenbuddy.core.dashboard import (
    ACTIVE_MS,
    Breakdown,
    DashboardSnapshot,
    RequestLine,
    SessionDetail,
    SessionSummary,
)
from tokenbuddy.core.metrics import (
    BurnRate,
    budget_cycle,
    cache_hit_ratio,
    local_now,
    start_of_day,
)
from tokenbuddy.core.projects import project_name
from tokenbuddy.core.report import BUCKET_MS, fold_buckets
from tokenbuddy.core.totals import Totals
from tokenbuddy.core.units import HOUR_MS, MINUTE_MS
from tokenbuddy.services.budget import BudgetSettings
from tokenbuddy.services.monitor import Monitor
from tokenbuddy.store import queries
from tokenbuddy.store.ledger import COUNTED

if TYPE_CHECKING:
    import sqlite3
    from zoneinfo import ZoneInfo

    from tokenbuddy.store.ledger import Ledger

SESSION_WINDOW_MS = 24 * HOUR_MS
"""Sessions with a request in the last day are listed."""
MAX_SESSIONS = 50
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
    db = ledger.db
    now = local_now(now_ms, zone)
    today_start = _ms(start_of_day(now))
    cycle = budget_cycle(now, budget.cycle_start_day)
    cycle_start = _ms(cycle.start)
    today = _rollup_totals(ledger, today_start)
    cycle_totals = _rollup_totals(ledger, cycle_start)
    sessions = _sessions(db, now_ms)
    active = [s for s in sessions if s.active]
    return DashboardSnapshot(
        now_ms=now_ms,
        today=today,
        cycle_totals=cycle_totals,
        cycle=cycle,
        projection=watch.projection,
        burn_5m=_burn(db, now_ms, 5 * MINUTE_MS),
        burn_1h=_burn(db, now_ms, HOUR_MS),
        active_session_cache_ratio=active[0].cache_hit_ratio if active else None,
        sessions=tuple(sessions),
        hourly_usd=_hourly(db, now),
        daily_usd=_daily(ledger, now, zone),
        breakdowns=_breakdowns(ledger, today_start, cycle_start),
        unpriced_models=queries.unpriced_models(ledger, queries.RequestFilter()),
        total_requests=_request_count(db),
        windows=watch.windows,
        alerts=tuple(watch.active),
        announce=tuple(watch.announce),
    )


def _ms(moment: Any) -> int:
    return int(moment.timestamp() * 1000)


def _rollup_totals(ledger: Ledger, since_ms: int | None) -> Totals:
    rows = queries.bucket_totals(ledger, queries.RequestFilter(since_ms=since_ms))
    total = Totals()
    for _start, totals in rows:
        total.add(totals)
    return total


def _request_count(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT TOTAL(requests) FROM usage_rollup").fetchone()[0])


def _burn(db: sqlite3.Connection, now_ms: int, window_ms: int) -> BurnRate:
    cost, tokens = db.execute(
        "SELECT TOTAL(cost_usd), TOTAL(input_tokens + output_tokens + cache_write_5m_tokens"
        " + cache_write_1h_tokens + cache_read_tokens) FROM requests"
        f" WHERE ts_ms > ? AND ts_ms <= ? AND {COUNTED}",
        (now_ms - window_ms, now_ms),
    ).fetchone()
    return BurnRate(window_ms, float(cost), int(tokens))


_SESSION_COLUMNS = (
    "session_id, source, MIN(first_ts_ms), MAX(last_ts_ms), GROUP_CONCAT(DISTINCT model),"
    " SUM(input_tokens), SUM(cache_write_tokens), SUM(cache_read_tokens), TOTAL(cost_usd),"
    " SUM(requests)"
)


def _sessions(db: sqlite3.Connection, now_ms: int) -> list[SessionSummary]:
    since_bucket = (now_ms - SESSION_WINDOW_MS) // BUCKET_MS
    rows = db.execute(
        f"SELECT {_SESSION_COLUMNS} FROM usage_rollup"
        " WHERE session_id IN (SELECT DISTINCT session_id FROM usage_rollup WHERE bucket >= ?)"
        " GROUP BY session_id, source ORDER BY MAX(last_ts_ms) DESC LIMIT ?",
        (since_bucket, MAX_SESSIONS),
    ).fetchall()
    return _summaries(db, rows, now_ms)


def _summaries(db: sqlite3.Connection, rows: list[Any], now_ms: int) -> list[SessionSummary]:
    ids = [row[0] for row in rows]
    projects = _latest_projects(db, ids)
    subagent_costs = _subagent_costs(db, ids)
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
            )
        )
    return summaries


def _placeholders(values: list[str]) -> str:
    return ", ".join("?" * len(values))


def _latest_projects(db: sqlite3.Connection, ids: list[str]) -> dict[tuple[str, str], str]:
    if not ids:
        return {}
    rows = db.execute(
        "SELECT session_id, source, project, MAX(last_ts_ms) FROM usage_rollup"
        f" WHERE session_id IN ({_placeholders(ids)}) GROUP BY session_id, source",
        ids,
    )
    return {(sid, source): project for sid, source, project, _ in rows}


def _subagent_costs(db: sqlite3.Connection, ids: list[str]) -> dict[tuple[str, str], float]:
    if not ids:
        return {}
    rows = db.execute(
        "SELECT session_id, source, TOTAL(cost_usd) FROM requests"
        f" WHERE session_id IN ({_placeholders(ids)}) AND is_sidechain = 1"
        " GROUP BY session_id, source",
        ids,
    )
    return {(sid, source): float(cost) for sid, source, cost in rows}


def _hourly(db: sqlite3.Connection, now: Any) -> tuple[float, ...]:
    """Spend per hour of the local clock over the last 24 hours, oldest first.

    Local hours, not UTC ones: in a zone 5:30 or 5:45 ahead the bars would otherwise
    straddle the user's hours. Zone offsets are multiples of 15 minutes, so the
    15-minute rollup buckets fall wholly inside one local hour.
    """
    now_ms = _ms(now)
    into_hour_ms = (now.minute * 60 + now.second) * 1000 + now.microsecond // 1000
    first_ms = now_ms - into_hour_ms - 23 * HOUR_MS
    rows = db.execute(
        "SELECT bucket, TOTAL(cost_usd) FROM usage_rollup WHERE bucket >= ? GROUP BY 1",
        (first_ms // BUCKET_MS,),
    )
    hours = [0.0] * 24
    for bucket, cost in rows:
        index = (int(bucket) * BUCKET_MS - first_ms) // HOUR_MS
        if 0 <= index < 24:
            hours[index] += float(cost)
    return tuple(hours)


def _daily(ledger: Ledger, now: Any, zone: ZoneInfo) -> tuple[float, ...]:
    first_day = start_of_day(now) - timedelta(days=29)
    buckets = queries.bucket_totals(ledger, queries.RequestFilter(since_ms=_ms(first_day)))
    by_day = {row.key["date"]: row.totals.cost_usd for row in fold_buckets("daily", buckets, zone)}
    days = [(first_day + timedelta(days=offset)).date().isoformat() for offset in range(30)]
    return tuple(by_day.get(day, 0.0) for day in days)


def _breakdowns(ledger: Ledger, today_ms: int, cycle_ms: int) -> tuple[Breakdown, ...]:
    result = []
    for period, since in (("today", today_ms), ("cycle", cycle_ms), ("all time", None)):
        request_filter = queries.RequestFilter(since_ms=since)
        models = queries.model_rows(ledger, request_filter)
        result.append(
            Breakdown(
                f"By model, {period}",
                tuple((str(row.key["model"]), row.totals) for row in models),
            )
        )
        result.append(Breakdown(f"By project, {period}", _projects(ledger, request_filter)))
    return tuple(result)


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
    db = ledger.db
    if source is None:
        row = db.execute(
            "SELECT source FROM requests WHERE session_id = ? ORDER BY ts_ms DESC LIMIT 1",
            (session_id,),
        ).fetchone()
        if row is None:
            return None
        source = str(row[0])
    rows = db.execute(
        "SELECT ts_ms, model, input_tokens, cache_write_5m_tokens + cache_write_1h_tokens,"
        " cache_read_tokens, output_tokens, cost_usd, CASE WHEN is_sidechain THEN agent_type"
        f" ELSE '' END FROM requests WHERE session_id = ? AND source = ? AND {COUNTED}"
        " ORDER BY ts_ms LIMIT ?",
        (session_id, source, MAX_TIMELINE),
    ).fetchall()
    if not rows:
        return None
    lines = tuple(RequestLine(*row) for row in rows)
    summary = _summary_of(db, session_id, source, now_ms)
    subagents = db.execute(
        "SELECT CASE WHEN agent_type = '' THEN 'subagent' ELSE agent_type END, COUNT(*),"
        " TOTAL(cost_usd) FROM requests WHERE session_id = ? AND source = ? AND is_sidechain = 1"
        " GROUP BY 1 ORDER BY 3 DESC",
        (session_id, source),
    ).fetchall()
    return SessionDetail(summary, lines, tuple((a, int(n), float(c)) for a, n, c in subagents))


def _summary_of(
    db: sqlite3.Connection, session_id: str, source: str, now_ms: int
) -> SessionSummary:
    rows = db.execute(
        f"SELECT {_SESSION_COLUMNS} FROM usage_rollup WHERE session_id = ? AND source = ?"
        " GROUP BY session_id, source",
        (session_id, source),
    ).fetchall()
    return _summaries(db, rows, now_ms)[0]
