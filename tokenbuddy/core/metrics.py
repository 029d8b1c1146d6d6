"""Live spend metrics: burn rates, budget cycles and the cache hit ratio.

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


def cache_hit_ratio(input_tokens: int, cache_write: int, cache_read: int) -> float | None:
    """cache reads / all input tokens; None with no input at all."""
    total = input_tokens + cache_write + cache_read
    return cache_read / total if total else None
