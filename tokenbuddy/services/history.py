"""The history view's reads: one page of the sessions of a date range and project, and
why a page is empty."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from tokenbuddy.core.history import PAGE_SIZE, HistoryPage
from tokenbuddy.core.report import local_day_bounds
from tokenbuddy.services.empty_result import explain_empty
from tokenbuddy.services.snapshot import session_summaries
from tokenbuddy.store import history, queries

if TYPE_CHECKING:
    from collections.abc import Sequence
    from zoneinfo import ZoneInfo

    from tokenbuddy.core.history import HistoryQuery
    from tokenbuddy.sources.discovery import LogRoot
    from tokenbuddy.store.ledger import Ledger


def history_page(
    ledger: Ledger, query: HistoryQuery, now_ms: int, zone: ZoneInfo, roots: Sequence[LogRoot]
) -> HistoryPage:
    """The page of sessions ``query`` asks for (the last page when it asks past the end),
    the latest started first, with the range's totals; when empty, why."""
    since_ms, until_ms = local_day_bounds(query.since, query.until, zone)
    request_filter = queries.RequestFilter(since_ms, until_ms, project=query.project or None)
    totals = history.range_totals(ledger, request_filter)
    last_page = max(0, (totals.sessions - 1) // PAGE_SIZE)
    query = replace(query, page=min(max(query.page, 0), last_page))
    rows = history.session_page(ledger, request_filter, query.page * PAGE_SIZE, PAGE_SIZE)
    explanation = ""
    if not rows:
        project = query.project or None
        why = explain_empty(
            ledger, roots, zone=zone, since_ms=since_ms, until_ms=until_ms, project=project
        )
        explanation = f"No session {query.describe()}: {'; '.join(why) or 'nothing matched'}."
    return HistoryPage(
        query,
        tuple(session_summaries(ledger, rows, now_ms)),
        totals.sessions,
        totals.cost_usd,
        totals.requests,
        explanation,
    )
