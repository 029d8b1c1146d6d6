"""Where the budget cycle's spend is heading, and when a subscription window fills up.

Pure: every function takes ``now``; the caller supplies spend per local day.

How a cycle is projected
------------------------
Rates come from the last 28 completed local days (today is never a rate
sample: its partial spend would drag the rates down). The window starts at the
first of those days with any spend, so a new user's missing history does not
read as idle days; inside the window an idle day counts as $0, so a rate is
"dollars per calendar day of that kind", which is what multiplying by the
remaining days needs.

Each day is weighted ``0.5 ** (age / 7)`` (yesterday weighs 1, a week ago 0.5,
four weeks ago 0.06), so the last 7 days dominate while older weeks still
smooth out one odd day.

Weekdays and weekend days get separate rates once the window holds at least
3 weekdays and 2 weekend days (a full weekend); before that one blended rate
covers every day. So an idle weekend projects the remaining weekends at $0
without diluting the weekday rate that the remaining weekdays are projected at.

The rest of the cycle is walked one local date at a time: today counts only
the share of its real length (23, 24 or 25 hours) still ahead, every later
date its full rate. When no completed day has spend but today has, today's
spend so far counts as one day's rate (a floor: it is never scaled up).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from tokenbuddy.core.money import dollars
from tokenbuddy.core.units import DAY_S, HOUR_MS, MINUTE_MS

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from datetime import tzinfo

    from tokenbuddy.core.metrics import Cycle

HISTORY_DAYS = 28
"""Completed days the rates may look back over."""
HALF_LIFE_DAYS = 7.0
"""A day's weight halves every this many days of age."""
SPLIT_MIN_WEEKDAYS = 3
SPLIT_MIN_WEEKEND_DAYS = 2
"""Weekday and weekend rates are separate once the window holds this many of each."""
WEEKEND = frozenset({5, 6})
"""``date.weekday()`` values of the weekend: Saturday and Sunday."""
_ROUNDING_USD = 1e-9
"""Float slack, so a limit reached exactly at midnight falls on the day that reaches it."""


@dataclass(frozen=True, slots=True)
class SpendBasis:
    """The recent spend rates a projection extrapolates, and where they come from."""

    window_days: int
    """Completed days the rates were taken over (0 when only today has spend)."""
    usd_per_weekday: float
    """Dollars per weekday (Monday to Friday), idle weekdays in the window included."""
    usd_per_weekend_day: float
    """Dollars per weekend day; equal to ``usd_per_weekday`` when not ``split``."""
    active_days: int
    """Days in the window (or today, when it is the only one) with any spend."""
    split: bool
    """True when weekdays and weekend days have separate rates."""

    def rate_for(self, day: date) -> float:
        """The dollars a full ``day`` is expected to cost."""
        return self.usd_per_weekend_day if day.weekday() in WEEKEND else self.usd_per_weekday

    def describe(self) -> str:
        """The basis in plain words, for a tooltip or a warning."""
        if self.active_days == 0:
            return "no spend yet"
        if self.window_days == 0:
            return f"{dollars(self.usd_per_weekday)}/day from today's spend so far"
        span = f"over the last {self.window_days} day{'s' if self.window_days > 1 else ''}"
        if not self.split:
            return f"{dollars(self.usd_per_weekday)}/day {span}"
        return (
            f"{dollars(self.usd_per_weekday)}/weekday, "
            f"{dollars(self.usd_per_weekend_day)}/weekend day {span}"
        )


NO_SPEND = SpendBasis(0, 0.0, 0.0, 0, split=False)


@dataclass(frozen=True, slots=True)
class CycleProjection:
    """Where the cycle's spend stands and is heading at the basis rates."""

    cap_usd: float | None
    """The cycle's cap; None projects spend without any limit."""
    soft_limit_usd: float | None
    spent_usd: float
    """Spend in the cycle so far, today included."""
    projected_usd: float
    """Spend expected by the cycle end."""
    days_to_cap: float | None
    """Days from now until the cap is reached: 0 when already reached, None when
    not within this cycle (or there is no cap)."""
    cap_date: date | None
    """The local day the cap was or is projected to be reached."""
    soft_limit_date: date | None
    """The local day the soft limit was or is projected to be reached."""
    remaining_days: float
    """Days (real time) from now to the cycle end."""
    cycle_end: datetime
    basis: SpendBasis

    @property
    def used_ratio(self) -> float | None:
        """Share of the cap already spent; None without a cap."""
        return None if self.cap_usd is None else self.spent_usd / self.cap_usd

    @property
    def cap_reached(self) -> bool:
        """True once the cycle's spend has reached the cap."""
        return self.cap_usd is not None and self.spent_usd >= self.cap_usd

    @property
    def soft_limit_reached(self) -> bool:
        """True once the cycle's spend has reached the soft limit."""
        return self.soft_limit_usd is not None and self.spent_usd >= self.soft_limit_usd

    @property
    def usd_per_hour_ahead(self) -> float:
        """The average spend rate the rest of the cycle is projected at."""
        hours = self.remaining_days * 24
        return (self.projected_usd - self.spent_usd) / hours if hours > 0 else 0.0


@dataclass(frozen=True, slots=True)
class _DaySlice:
    """The part of one local day that lies between now and the cycle end."""

    day: date
    start_s: float
    end_s: float
    fraction: float
    """Share of the day's real length inside the slice."""


def project_cycle(
    cap_usd: float | None,
    soft_ratio: float,
    cycle: Cycle,
    now: datetime,
    daily_spend: Mapping[date, float],
) -> CycleProjection:
    """Project the cycle's spend to its end from ``daily_spend`` (dollars per local day).

    ``now`` must be aware and in the user's zone: it decides which dates are
    "today" and the past. ``cap_usd`` None projects spend only; a cap that is
    not a positive number, or a ``soft_ratio`` outside (0, 1], raises ValueError.
    """
    _check_inputs(cap_usd, soft_ratio, now)
    zone = now.tzinfo
    assert zone is not None
    today = now.date()
    start_day = cycle.start.astimezone(zone).date()
    last_day = min(today, (cycle.end.astimezone(zone) - timedelta(microseconds=1)).date())
    past = sorted((d, usd) for d, usd in daily_spend.items() if start_day <= d <= last_day)
    basis = estimate_basis(daily_spend, today)
    ahead = list(_slices(max(now, cycle.start), cycle.end, zone))
    walk = _CycleWalk(past, basis, ahead, now.timestamp())
    projected = walk.spent + sum(basis.rate_for(s.day) * s.fraction for s in ahead)
    soft = None if cap_usd is None else cap_usd * soft_ratio
    days_to_cap, cap_date = walk.reach(cap_usd)
    remaining = max(cycle.end.timestamp() - now.timestamp(), 0.0) / DAY_S
    return CycleProjection(
        cap_usd,
        soft,
        walk.spent,
        projected,
        days_to_cap,
        cap_date,
        walk.reach(soft)[1],
        remaining,
        cycle.end,
        basis,
    )


def _check_inputs(cap_usd: float | None, soft_ratio: float, now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime in the user's zone")
    if cap_usd is not None and not (math.isfinite(cap_usd) and cap_usd > 0):
        raise ValueError(f"a cap must be a positive number of dollars, not {cap_usd!r}")
    if not 0 < soft_ratio <= 1:
        raise ValueError(f"the soft limit ratio must be in (0, 1], not {soft_ratio!r}")


def estimate_basis(daily_spend: Mapping[date, float], today: date) -> SpendBasis:
    """Recent weekday and weekend rates from completed days before ``today``."""
    oldest = today - timedelta(days=HISTORY_DAYS)
    active = [d for d, v in daily_spend.items() if oldest <= d < today and v > 0]
    if not active:
        today_usd = daily_spend.get(today, 0.0)
        return SpendBasis(0, today_usd, today_usd, 1, split=False) if today_usd > 0 else NO_SPEND
    first = min(active)
    days = [first + timedelta(days=i) for i in range((today - first).days)]
    weekdays = [d for d in days if d.weekday() not in WEEKEND]
    weekend = [d for d in days if d.weekday() in WEEKEND]
    split = len(weekdays) >= SPLIT_MIN_WEEKDAYS and len(weekend) >= SPLIT_MIN_WEEKEND_DAYS
    if split:
        weekday_rate = _weighted_mean(weekdays, daily_spend, today)
        weekend_rate = _weighted_mean(weekend, daily_spend, today)
    else:
        weekday_rate = weekend_rate = _weighted_mean(days, daily_spend, today)
    return SpendBasis(len(days), weekday_rate, weekend_rate, len(active), split=split)


def _weighted_mean(days: Iterable[date], daily_spend: Mapping[date, float], today: date) -> float:
    """Spend per day over ``days``, each weighted by its age (yesterday weighs 1)."""
    total = weights = 0.0
    for day in days:
        weight = 0.5 ** (((today - day).days - 1) / HALF_LIFE_DAYS)
        total += weight * daily_spend.get(day, 0.0)
        weights += weight
    return total / weights if weights else 0.0


def _midnight(day: date, zone: tzinfo) -> float:
    """Epoch seconds of ``day``'s local midnight (DST-aware)."""
    return datetime.combine(day, time(0), zone).timestamp()


def _slices(start: datetime, end: datetime, zone: tzinfo) -> Iterator[_DaySlice]:
    """The local days between ``start`` and ``end``, each with the share of it inside."""
    start_s, end_s = start.timestamp(), end.timestamp()
    day = start.astimezone(zone).date()
    while start_s < end_s:
        day_start, next_day = _midnight(day, zone), _midnight(day + timedelta(days=1), zone)
        stop_s = min(next_day, end_s)
        yield _DaySlice(day, start_s, stop_s, (stop_s - start_s) / (next_day - day_start))
        day += timedelta(days=1)
        start_s = stop_s


@dataclass(frozen=True, slots=True)
class _CycleWalk:
    """The cycle's spend day by day: past days as recorded, the rest at the basis rates."""

    past: list[tuple[date, float]]
    """Spend per local day from the cycle start to today, in date order."""
    basis: SpendBasis
    ahead: list[_DaySlice]
    now_s: float

    @property
    def spent(self) -> float:
        """Spend in the cycle so far."""
        return sum(usd for _day, usd in self.past)

    def reach(self, limit: float | None) -> tuple[float | None, date | None]:
        """(days from now, local day) when ``limit`` is or was reached; Nones if not this cycle."""
        if limit is None:
            return None, None
        cumulative = 0.0
        for day, usd in self.past:
            cumulative += usd
            if cumulative >= limit:
                return 0.0, day
        needed = limit - cumulative
        for piece in self.ahead:
            amount = self.basis.rate_for(piece.day) * piece.fraction
            if amount > 0 and amount >= needed - _ROUNDING_USD:
                share = min(needed / amount, 1.0)
                at_s = piece.start_s + (piece.end_s - piece.start_s) * share
                return (at_s - self.now_s) / DAY_S, piece.day
            needed -= amount
        return None, None


@dataclass(frozen=True, slots=True)
class WindowProjection:
    """Where a subscription window's utilisation is heading before it resets."""

    used_percent: float
    percent_per_hour: float
    resets_at_ms: int
    """When the window resets (the window length from now when the source did not say)."""
    percent_at_reset: float
    """Utilisation expected just before the reset at the current burn (may exceed 100)."""
    full_at_ms: int | None
    """When 100% is reached at the current burn; None when the window resets first,
    the burn is zero, or the window has already reset."""


def project_window(
    used_percent: float,
    resets_at_ms: int | None,
    window_minutes: int,
    now_ms: int,
    percent_per_hour: float,
) -> WindowProjection:
    """Project a 5-hour or weekly window's utilisation at ``percent_per_hour``.

    A snapshot whose reset time has passed describes a window that is over: it
    projects 0% with nothing filling up.
    """
    reset = resets_at_ms if resets_at_ms is not None else now_ms + window_minutes * MINUTE_MS
    burn = max(percent_per_hour, 0.0)
    if reset <= now_ms:
        return WindowProjection(0.0, burn, reset, 0.0, None)
    at_reset = used_percent + burn * (reset - now_ms) / HOUR_MS
    if used_percent >= 100:
        full_at: int | None = now_ms
    elif burn <= 0:
        full_at = None
    else:
        full_at = now_ms + math.ceil((100 - used_percent) / burn * HOUR_MS)
        if full_at >= reset:
            full_at = None
    return WindowProjection(used_percent, burn, reset, at_reset, full_at)


def estimate_percent_per_hour(snapshots: Iterable[tuple[int, float]]) -> float | None:
    """Utilisation growth per hour from (ts_ms, used_percent) snapshots of one window.

    Consecutive pairs where the percentage fell (a reset) are left out, time
    and all. None with fewer than two usable snapshots or no elapsed time.
    """
    ordered = sorted(snapshots)
    growth = 0.0
    elapsed_ms = 0
    for (ts_before, pct_before), (ts_after, pct_after) in itertools.pairwise(ordered):
        if pct_after < pct_before:
            continue
        growth += pct_after - pct_before
        elapsed_ms += ts_after - ts_before
    return growth * HOUR_MS / elapsed_ms if elapsed_ms > 0 else None
