"""Usage and cost reports from the ledger: by day, week, month, session, model or agent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tokenbuddy.core.records import CURSOR_LOCAL
from tokenbuddy.core.report import (
    ReportKind,
    ReportRow,
    fold_buckets,
    grand_total,
    local_day_bounds,
)
from tokenbuddy.services.empty_result import explain_empty
from tokenbuddy.services.session import open_session
from tokenbuddy.store import queries

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date
    from zoneinfo import ZoneInfo

    from tokenbuddy.store.ledger import Ledger


def usage_report(
    kind: ReportKind,
    *,
    zone: ZoneInfo,
    since: date | None = None,
    until: date | None = None,
    source: str | None = None,
    project: str | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Bring the ledger up to date, then build the report; returns it and the problems met
    on the way (settings, missing log dirs, files that could not be read), and when the
    report came out empty, why (:func:`~tokenbuddy.services.empty_result.explain_empty`)."""
    session = open_session(jobs=jobs, progress=progress)
    with session.ledger:
        report = build_report(
            session.ledger,
            kind,
            zone=zone,
            since=since,
            until=until,
            source=source,
            project=project,
        )
        if not report["rows"]:
            since_ms, until_ms = local_day_bounds(since, until, zone)
            report_notes = explain_empty(
                session.ledger,
                session.roots,
                zone=zone,
                since_ms=since_ms,
                until_ms=until_ms,
                source=source,
                project=project,
            )
        else:
            report_notes = []
    return report, [*session.problems, *session.summary.errors, *report_notes]


def build_report(
    ledger: Ledger,
    kind: ReportKind,
    *,
    zone: ZoneInfo,
    since: date | None = None,
    until: date | None = None,
    source: str | None = None,
    project: str | None = None,
) -> dict[str, Any]:
    """The report as one JSON-ready object (the shape ``--json`` prints)."""
    since_ms, until_ms = local_day_bounds(since, until, zone)
    request_filter = queries.RequestFilter(since_ms, until_ms, source, project)
    rows: list[ReportRow]
    if kind == "session":
        rows = queries.session_rows(ledger, request_filter)
    elif kind == "model":
        rows = queries.model_rows(ledger, request_filter)
    elif kind == "agent":
        rows = queries.agent_rows(ledger, request_filter)
    else:
        rows = fold_buckets(kind, queries.bucket_totals(ledger, request_filter), zone)
    return {
        "rows": [row.as_dict() for row in rows],
        "totals": grand_total(rows).as_dict(),
        "unpriced_models": queries.unpriced_models(ledger, request_filter),
        "skipped_lines": queries.skipped_lines(ledger, source, since_ms),
        "unknown_token_requests": _unknown_tokens(ledger, request_filter),
    }


def _unknown_tokens(ledger: Ledger, request_filter: queries.RequestFilter) -> int:
    """Counted Cursor estimates whose tokens Cursor did not record (0 for other sources)."""
    if request_filter.source not in (None, CURSOR_LOCAL) or request_filter.project:
        return 0
    from tokenbuddy.store.cursor import unknown_token_requests

    return unknown_token_requests(ledger, request_filter.since_ms, request_filter.until_ms)
