"""The history view's reads: one page of the sessions of a date range and project, and
why a page is empty."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from tokenbuddy.core.history import PAGE_SIZE, HistoryPage, LedgerExtent, why_empty
from tokenbuddy.core.projects import project_name
from tokenbuddy.core.report import local_day_bounds
from tokenbuddy.services.snapshot import first_day_of, session_summaries
from tokenbuddy.store import history, queries

if TYPE_CHECKING:
    from datetime import date
    from zoneinfo import ZoneInfo

    from tokenbuddy.core.history import HistoryQuery
    from tokenbuddy.store.ledger import Ledger


def history_page(ledger: Ledger, query: HistoryQuery, now_ms: int, zone: ZoneInfo) -> HistoryPage:
    """The page of sessions ``query`` asks for (the last page when it asks past the end),
    the latest started first, with the range's totals; when empty, why."""
    since_ms, until_ms = local_day_bounds(query.since, query.until, zone)
    request_filter = queries.RequestFilter(since_ms, until_ms, project=query.project or None)
    totals = history.range_totals(ledger, request_filter)
    last_page = max(0, (totals.sessions - 1) // PAGE_SIZE)
    query = replace(query, page=min(max(query.page, 0), last_page))
    rows = history.session_page(ledger, request_filter, query.page * PAGE_SIZE, PAGE_SIZE)
    explanation = "" if rows else why_empty(query, _extent(ledger, query, zone))
    return HistoryPage(
        query,
        tuple(session_summaries(ledger, rows, now_ms)),
        totals.sessions,
        totals.cost_usd,
        totals.requests,
        explanation,
    )


def _extent(ledger: Ledger, query: HistoryQuery, zone: ZoneInfo) -> LedgerExtent:
    """The ledger's first and last days, and the projects of the range asked about."""
    newest_ms = history.newest_request_ms(ledger)
    last_day: date | None = None
    if newest_ms is not None:
        last_day = datetime.fromtimestamp(newest_ms / 1000, zone).date()
    since_ms, until_ms = local_day_bounds(query.since, query.until, zone)
    paths = queries.project_totals(ledger, queries.RequestFilter(since_ms, until_ms))
    names = tuple(dict.fromkeys(project_name(path) for path, _ in paths))
    return LedgerExtent(first_day_of(ledger, zone), last_day, names)
