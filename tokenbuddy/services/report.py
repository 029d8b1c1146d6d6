"""Usage and cost reports from the ledger: by day, week, month, session, model or agent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tokenbuddy.core.records import CURSOR_LOCAL, SkipReason
from tokenbuddy.core.report import (
    ReportKind,
    ReportRow,
    fold_buckets,
    fold_model_buckets,
    grand_total,
    local_day_bounds,
)
from tokenbuddy.services.empty_result import explain_empty
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
    breakdown: bool = False,
    order: str = "asc",
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
            breakdown=breakdown,
            order=order,
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
                missing_said=True,
            )
        else:
            report_notes = []
    return report, [
        *session.problems,
        *session.summary.errors,
        *report_notes,
        *not_regular(session.summary),
    ]


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
    breakdown: bool = False,
    order: str = "asc",
) -> dict[str, Any]:
    """The report as one JSON-ready object (the shape ``--json`` prints). With
    ``breakdown``, each period's row carries ``model_breakdown``: its rows per model.
    ``order`` ``desc`` puts the latest period or session first."""
    since_ms, until_ms = local_day_bounds(since, until, zone)
    request_filter = queries.RequestFilter(since_ms, until_ms, source, project)
    rows: list[ReportRow]
    skipped = queries.skipped_by_reason(ledger, source, since_ms)
    if kind == "session":
        rows = queries.session_rows(ledger, request_filter)
    elif kind == "model":
        rows = queries.model_rows(ledger, request_filter)
    elif kind == "agent":
        rows = queries.agent_rows(ledger, request_filter)
    else:
        rows = fold_buckets(kind, queries.bucket_totals(ledger, request_filter), zone)
    shown = [row.as_dict() for row in rows]
    if breakdown and kind in PERIOD_KINDS:
        _add_breakdown(
            shown,
            kind,
            fold_model_buckets(kind, queries.bucket_model_totals(ledger, request_filter), zone),
        )
    if order == "desc" and kind in ORDERED_KINDS:
        shown.reverse()
    return {
        "rows": shown,
        "totals": grand_total(rows).as_dict(),
        "unpriced_models": queries.unpriced_models(ledger, request_filter),
        "skipped_lines": sum(skipped.values()),
        "implausible_dates": skipped.get(SkipReason.IMPLAUSIBLE_DATE, 0),
        "unknown_token_requests": _unknown_tokens(ledger, request_filter),
    }


PERIOD_KINDS = frozenset({"daily", "weekly", "monthly"})
"""The reports whose rows are periods (``--breakdown`` splits them by model)."""
ORDERED_KINDS = PERIOD_KINDS | {"session"}
"""The reports in time order (``--order`` applies); the others are by cost."""


def _add_breakdown(
    shown: list[dict[str, Any]], kind: ReportKind, models: dict[str, list[ReportRow]]
) -> None:
    """Put each period's rows per model in its row, as ``model_breakdown``."""
    label_field = {"daily": "date", "weekly": "week", "monthly": "month"}[kind]
    for row in shown:
        row["model_breakdown"] = [model.as_dict() for model in models.get(row[label_field], [])]


def _unknown_tokens(ledger: Ledger, request_filter: queries.RequestFilter) -> int:
    """Counted Cursor estimates whose tokens Cursor did not record (0 for other sources)."""
    if request_filter.source not in (None, CURSOR_LOCAL) or request_filter.project:
        return 0
    from tokenbuddy.store.cursor import unknown_token_requests

    return unknown_token_requests(ledger, request_filter.since_ms, request_filter.until_ms)
