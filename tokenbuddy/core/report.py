"""Report rows: grouping summed usage by day, ISO week, month, session, model or agent.

The ledger sums requests per 15-minute UTC bucket (every time zone's offset is
a multiple of 15 minutes); this module folds those buckets into the user's
local days, weeks and months. Pure: the time zone is an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal

from tokenbuddy.core.totals import Totals
from tokenbuddy.core.units import MINUTE_MS

if TYPE_CHECKING:
    from collections.abc import Iterable
    from zoneinfo import ZoneInfo

ReportKind = Literal["daily", "weekly", "monthly", "session", "model", "agent"]
REPORT_KINDS: tuple[ReportKind, ...] = ("daily", "weekly", "monthly", "session", "model", "agent")
BUCKET_MS = 15 * MINUTE_MS


@dataclass(slots=True)
class ReportRow:
    """One line of a report: its key fields and its sums."""

    key: dict[str, Any]
    totals: Totals

    def as_dict(self) -> dict[str, Any]:
        """The row as the JSON report prints it."""
        return {**self.key, **self.totals.as_dict()}


def period_key(kind: ReportKind, day: date) -> str:
    """The label of the day, ISO week or month ``day`` falls in."""
    if kind == "daily":
        return day.isoformat()
    if kind == "weekly":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def fold_buckets(
    kind: ReportKind, buckets: Iterable[tuple[int, Totals]], zone: ZoneInfo
) -> list[ReportRow]:
    """Fold 15-minute UTC buckets (start in epoch ms) into local periods, oldest first."""
    field_name = {"daily": "date", "weekly": "week", "monthly": "month"}[kind]
    periods: dict[str, Totals] = {}
    for start_ms, totals in buckets:
        local_day = datetime.fromtimestamp(start_ms / 1000, UTC).astimezone(zone).date()
        periods.setdefault(period_key(kind, local_day), Totals()).add(totals)
    return [ReportRow({field_name: label}, periods[label]) for label in sorted(periods)]


def fold_model_buckets(
    kind: ReportKind, buckets: Iterable[tuple[int, str, Totals]], zone: ZoneInfo
) -> dict[str, list[ReportRow]]:
    """Each local period's rows per model, the most expensive first: a period's breakdown."""
    periods: dict[str, dict[str, Totals]] = {}
    for start_ms, model, totals in buckets:
        local_day = datetime.fromtimestamp(start_ms / 1000, UTC).astimezone(zone).date()
        models = periods.setdefault(period_key(kind, local_day), {})
        models.setdefault(model, Totals()).add(totals)
    return {
        label: sorted(
            (ReportRow({"model": model}, totals) for model, totals in models.items()),
            key=lambda row: (-row.totals.cost_usd, row.key["model"]),
        )
        for label, models in periods.items()
    }


def grand_total(rows: Iterable[ReportRow]) -> Totals:
    """The sum of every row."""
    total = Totals()
    for row in rows:
        total.add(row.totals)
    return total


def local_day_bounds(
    since: date | None, until: date | None, zone: ZoneInfo
) -> tuple[int | None, int | None]:
    """Epoch-ms bounds [start of ``since``, start of the day after ``until``) in ``zone``."""

    def start_of(day: date) -> int:
        return int(datetime.combine(day, time(0), zone).timestamp() * 1000)

    low = start_of(since) if since else None
    high = start_of(until + timedelta(days=1)) if until else None
    return low, high
