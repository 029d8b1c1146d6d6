"""Live spend metrics: burn rates, budget cycles and the days left to a cap.

Pure functions of summed usage and ``now``; the ledger supplies the sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from tokenbuddy.core.units import DAY_S, HOUR_MS, MINUTE_MS

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class BurnRate:
    """Spend and token throughput over a trailing window."""

    window_ms: int
    cost_usd: float
    tokens: int

    @property
    def usd_per_hour(self) -> float:
        """Dollars per hour at the window's pace."""
        return self.cost_usd * HOUR_MS / self.window_ms

    @property
    def tokens_per_minute(self) -> float:
        """Tokens (all kinds) per minute at the window's pace."""
        return self.tokens * MINUTE_MS / self.window_ms


@dataclass(frozen=True, slots=True)
class Cycle:
    """A monthly budget cycle: [start, end) in the user's zone."""

    start: datetime
    end: datetime

    def elapsed_days(self, now: datetime) -> float:
        """Days from the cycle start to ``now``."""
        return max((now - self.start).total_seconds() / DAY_S, 0.0)

    def remaining_days(self, now: datetime) -> float:
        """Days from ``now`` to the cycle end."""
        return max((self.end - now).total_seconds() / DAY_S, 0.0)


def budget_cycle(now: datetime, start_day: int) -> Cycle:
    """The cycle containing ``now`` (aware, in the user's zone) starting on ``start_day``."""
    zone = now.tzinfo
    this_month = date(now.year, now.month, start_day)
    if now.date() >= this_month:
        start = this_month
    else:
        start = date(*_previous_month(now.year, now.month), start_day)
    end = date(*_next_month(start.year, start.month), start_day)
    return Cycle(datetime.combine(start, time(0), zone), datetime.combine(end, time(0), zone))


def _previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def start_of_day(now: datetime) -> datetime:
    """Local midnight of ``now``'s day."""
    return datetime.combine(now.date(), time(0), now.tzinfo)


def local_now(now_ms: int, zone: ZoneInfo) -> datetime:
    """``now_ms`` (epoch ms) as an aware datetime in ``zone``."""
    return datetime.fromtimestamp(now_ms / 1000, zone)


@dataclass(frozen=True, slots=True)
class CapProjection:
    """Where the cycle's spend is heading, and on what basis."""

    cap_usd: float
    spent_usd: float
    daily_rate_usd: float
    """Recent spend per day the projection extrapolates."""
    basis: str
    """Plain words for where ``daily_rate_usd`` comes from."""
    days_left: float | None
    """Days until the cap is reached at that rate; None if it never is this cycle."""
    projected_cycle_usd: float

    @property
    def used_ratio(self) -> float:
        """Share of the cap already spent."""
        return self.spent_usd / self.cap_usd


def project_cap(
    cap_usd: float,
    spent_usd: float,
    *,
    recent_usd: float,
    recent_days: float,
    cycle: Cycle,
    now: datetime,
) -> CapProjection:
    """Linear projection from recent spend (``recent_usd`` over ``recent_days`` days)."""
    rate = recent_usd / recent_days if recent_days > 0 else 0.0
    remaining = cycle.remaining_days(now)
    projected = spent_usd + rate * remaining
    if spent_usd >= cap_usd:
        days_left: float | None = 0.0
    elif rate <= 0:
        days_left = None
    else:
        days_left = (cap_usd - spent_usd) / rate
        if days_left > remaining:
            days_left = None
    basis = f"${rate:,.2f}/day over the last {recent_days:g} days"
    return CapProjection(cap_usd, spent_usd, rate, basis, days_left, projected)


def cache_hit_ratio(input_tokens: int, cache_write: int, cache_read: int) -> float | None:
    """cache reads / all input tokens; None with no input at all."""
    total = input_tokens + cache_write + cache_read
    return cache_read / total if total else None
