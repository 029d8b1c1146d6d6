"""Usage and cost reports from the ledger: by day, week, month, session, model or agent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tokenbuddy.core.records import CURSOR_LOCAL, SkipReason
from tokenbuddy.core.report import (
    ReportKind,
    ReportRow,
    fold_buckets,
    grand_total,
    local_day_bounds,
)
from tokenbuddy.services.ingest import IngestSummary
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
    on the way (settings, missing log dirs, files that could not be read)."""
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
    return report, [*session.problems, *session.summary.errors, *not_regular(session.summary)]


def not_regular(summary: IngestSummary) -> list[str]:
    """One line on the log paths that are no regular file, when there are any."""
    if not summary.not_regular:
        return []
    return [
        f"{len(summary.not_regular):,} log paths are not regular files (FIFOs, devices,"
        " sockets) and were skipped; `tokenbuddy doctor` names them"
    ]


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
    skipped = queries.skipped_by_reason(ledger)
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
        "skipped_lines": sum(skipped.values()),
        "implausible_dates": skipped.get(SkipReason.IMPLAUSIBLE_DATE, 0),
        "unknown_token_requests": _unknown_tokens(ledger, request_filter),
    }


def _unknown_tokens(ledger: Ledger, request_filter: queries.RequestFilter) -> int:
    """Counted Cursor estimates whose tokens Cursor did not record (0 for other sources)."""
    if request_filter.source not in (None, CURSOR_LOCAL) or request_filter.project:
        return 0
    from tokenbuddy.store.cursor import unknown_token_requests

    return unknown_token_requests(ledger, request_filter.since_ms, request_filter.until_ms)
