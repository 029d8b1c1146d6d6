"""The periods the dashboard's chart and tips look at: the last 24 hours, 7, 30 or 90
days, the budget cycle, or all time.

Pure: the start of a span is computed from ``now`` and the cycle; "all time" starts
at the ledger's first request, which the caller passes in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from tokenbuddy.core.units import DAY_MS, HOUR_MS

if TYPE_CHECKING:
    from tokenbuddy.core.metrics import Cycle


@dataclass(frozen=True, slots=True)
class Span:
    """One period of the chart and the tips."""

    key: str
    """``24h``, ``7d``, ``30d``, ``90d``, ``cycle`` or ``all``."""
    label: str
    """How a title names it: ``the last 24 h``, ``this cycle``, ``all time``..."""
    days: int | None = None
    """Local days it covers, today included (None: the cycle or all time)."""

    @property
    def hourly(self) -> bool:
        """True for the last 24 hours, charted per hour (every other span per day)."""
        return self.key == "24h"


SPANS = (
    Span("24h", "the last 24 h"),
    Span("7d", "the last 7 days", 7),
    Span("30d", "the last 30 days", 30),
    Span("90d", "the last 90 days", 90),
    Span("cycle", "this cycle"),
    Span("all", "all time"),
)
"""In the order the chart key steps through them."""


def span_first_day(span: Span, now: datetime, cycle: Cycle, first_request: date | None) -> date:
    """The first local day of a daily span (``now`` aware in the user's zone).

    All time starts on the day of the ledger's first request (today when it is empty).
    """
    today = now.date()
    if span.days is not None:
        return today - timedelta(days=span.days - 1)
    if span.key == "cycle":
        return cycle.start.date()
    return min(first_request or today, today)


def span_start_ms(span: Span, now: datetime, cycle: Cycle, first_request: date | None) -> int:
    """Epoch ms where ``span`` starts: 24 hours back, or local midnight of its first day."""
    if span.hourly:
        return int(now.timestamp() * 1000) - 24 * HOUR_MS
    first_day = span_first_day(span, now, cycle, first_request)
    return int(datetime.combine(first_day, time(0), now.tzinfo).timestamp() * 1000)


def span_days(first_day: date, now: datetime) -> list[date]:
    """Every local day from ``first_day`` to ``now``'s day, in order."""
    count = (now.date() - first_day).days + 1
    return [first_day + timedelta(days=offset) for offset in range(max(count, 1))]


@dataclass(frozen=True, slots=True)
class DailySpend:
    """Spend per local day over a span, oldest first."""

    span: Span
    first_day: date
    usd: tuple[float, ...]


TIPS_MIN_DAYS = 7
"""A shorter window would turn a few requests into a monthly saving (as ``tokenbuddy
tips --since`` refuses)."""
TIPS_MAX_DAYS = 90
"""Tips re-read every request of their window: beyond this, a long history would hold
the dashboard's memory for minutes."""


@dataclass(frozen=True, slots=True)
class TipsWindow:
    """The window the tips look at for a span, and why it differs from the span."""

    since_ms: int
    until_ms: int
    note: str = ""
    """Empty when the window is the span itself."""


def tips_window(span: Span, start_ms: int, now_ms: int) -> TipsWindow:
    """The span from ``start_ms`` to now, widened to a week or narrowed to 90 days."""
    days = (now_ms - start_ms) / DAY_MS
    if days < TIPS_MIN_DAYS:
        since_ms = now_ms - TIPS_MIN_DAYS * DAY_MS
        note = (
            f"{span.label} is under {TIPS_MIN_DAYS} days: the tips look at the last {TIPS_MIN_DAYS}"
        )
        return TipsWindow(since_ms, now_ms, note)
    if days > TIPS_MAX_DAYS:
        since_ms = now_ms - TIPS_MAX_DAYS * DAY_MS
        note = f"the tips look at the last {TIPS_MAX_DAYS} days of {span.label}"
        return TipsWindow(since_ms, now_ms, note)
    return TipsWindow(start_ms, now_ms)
