"""Cycle projections (weekday/weekend rates, DST, caps) and subscription-window projections."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tokenbuddy.core.metrics import Cycle, budget_cycle
from tokenbuddy.core.projection import (
    estimate_basis,
    estimate_percent_per_hour,
    project_cycle,
    project_window,
)
from tokenbuddy.core.units import HOUR_MS

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
AUCKLAND = ZoneInfo("Pacific/Auckland")


def flat_history(today: date, usd_per_day: float, days: int = 28) -> dict[date, float]:
    """The same spend on each of the ``days`` days before ``today``."""
    return {today - timedelta(days=i): usd_per_day for i in range(1, days + 1)}


def weekday_history(today: date, weekday_usd: float, weekend_usd: float) -> dict[date, float]:
    """28 days of ``weekday_usd`` on weekdays and ``weekend_usd`` on weekends."""
    days = (today - timedelta(days=i) for i in range(1, 29))
    return {d: weekend_usd if d.weekday() >= 5 else weekday_usd for d in days}


def at(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


def test_no_history_projects_nothing() -> None:
    now = at(UTC, 2026, 5, 10, 12)
    result = project_cycle(100.0, 0.8, budget_cycle(now, 1), now, {})
    assert (result.spent_usd, result.projected_usd) == (0.0, 0.0)
    assert result.days_to_cap is None
    assert result.cap_date is None
    assert result.soft_limit_date is None
    assert result.basis.describe() == "no spend yet"
    assert (result.basis.usd_per_weekday, result.basis.usd_per_weekend_day) == (0.0, 0.0)


def test_today_only_counts_as_one_day_without_scaling_up() -> None:
    now = at(UTC, 2026, 5, 12, 6)  # a Tuesday, a quarter of the day gone
    result = project_cycle(None, 0.8, budget_cycle(now, 1), now, {now.date(): 20.0})
    assert result.basis.describe() == "$20.00/day from today's spend so far"
    remaining = 0.75 + (date(2026, 6, 1) - date(2026, 5, 13)).days
    assert result.projected_usd == pytest.approx(20.0 + 20.0 * remaining)


def test_a_cap_already_exceeded_is_zero_days_away_and_dated() -> None:
    now = at(UTC, 2026, 5, 20, 12)
    spend = {date(2026, 5, d): 30.0 for d in range(1, 21)}  # $600 by today
    result = project_cycle(500.0, 0.8, budget_cycle(now, 1), now, spend)
    assert result.cap_reached
    assert result.days_to_cap == 0.0
    assert result.cap_date == date(2026, 5, 17)  # 17 x $30 = $510
    assert result.soft_limit_date == date(2026, 5, 14)  # 14 x $30 = $420 >= $400
    assert result.used_ratio == pytest.approx(1.2)


def test_now_exactly_at_the_cycle_start_uses_earlier_days_for_rates_only() -> None:
    now = at(UTC, 2026, 6, 1)
    cycle = budget_cycle(now, 1)
    assert cycle.start == now
    result = project_cycle(300.0, 0.8, cycle, now, flat_history(now.date(), 10.0))
    assert result.spent_usd == 0.0
    assert result.projected_usd == pytest.approx(300.0)  # 30 days x $10
    assert result.days_to_cap == pytest.approx(30.0)
    assert result.cap_date == date(2026, 6, 30)
    assert result.soft_limit_date == date(2026, 6, 24)  # $240 at the end of day 24


def test_days_to_cap_is_exact_at_a_flat_rate() -> None:
    now = at(UTC, 2026, 6, 11)
    spend = flat_history(now.date(), 10.0)  # $100 spent June 1-10
    result = project_cycle(150.0, 0.8, budget_cycle(now, 1), now, spend)
    assert result.spent_usd == pytest.approx(100.0)
    assert result.days_to_cap == pytest.approx(5.0)
    assert result.cap_date == date(2026, 6, 15)
    assert result.soft_limit_date == date(2026, 6, 12)  # $120 at the end of June 12


@pytest.mark.parametrize(
    ("now", "expected_projected"),
    [
        # Monday 00:00: 15 weekdays and 6 weekend days left in May, today included
        (at(UTC, 2026, 5, 11), 42.0 * 15 + 3.0 * 6),
        # Saturday 00:00 after a heavy week: the weekend does not dilute the weekdays
        (at(UTC, 2026, 5, 16), 42.0 * 10 + 3.0 * 6),
    ],
    ids=["monday", "saturday"],
)
def test_weekdays_and_weekends_are_projected_at_their_own_rates(
    now: datetime, expected_projected: float
) -> None:
    spend = weekday_history(now.date(), 42.0, 3.0)
    result = project_cycle(None, 0.8, budget_cycle(now, 1), now, spend)
    assert result.basis.split
    assert result.basis.usd_per_weekday == pytest.approx(42.0)
    assert result.basis.usd_per_weekend_day == pytest.approx(3.0)
    assert result.basis.describe() == "$42.00/weekday, $3.00/weekend day over the last 28 days"
    in_cycle = sum(v for d, v in spend.items() if d >= date(2026, 5, 1))
    assert result.projected_usd == pytest.approx(in_cycle + expected_projected)


def test_an_idle_weekend_does_not_mask_a_heavy_week() -> None:
    # A user who started on Monday May 4: a heavy week, an idle weekend, now Monday 11.
    now = at(UTC, 2026, 5, 11)
    spend = {date(2026, 5, d): 60.0 for d in range(4, 9)}
    result = project_cycle(1000.0, 0.8, budget_cycle(now, 1), now, spend)
    assert result.basis.window_days == 7
    assert result.basis.active_days == 5
    assert result.basis.usd_per_weekday == pytest.approx(60.0)
    assert result.basis.usd_per_weekend_day == 0.0
    assert result.projected_usd == pytest.approx(300.0 + 15 * 60.0)
    assert result.cap_date == date(2026, 5, 26)  # $300 + 11 weekdays x $60 = $960; 12th: $1020


def test_a_short_history_uses_one_blended_rate() -> None:
    today = date(2026, 5, 14)  # Thursday; history Tue-Wed only
    basis = estimate_basis({date(2026, 5, 12): 0.0001, date(2026, 5, 13): 30.0}, today)
    assert not basis.split
    assert basis.usd_per_weekday == basis.usd_per_weekend_day
    assert basis.describe().endswith("/day over the last 2 days")


def test_recent_days_weigh_more_than_older_ones() -> None:
    today = date(2026, 5, 14)
    basis = estimate_basis({date(2026, 5, 12): 10.0, date(2026, 5, 13): 0.0}, today)
    older = 0.5 ** (1 / 7)
    assert basis.usd_per_weekday == pytest.approx(10.0 * older / (1 + older))
    recent_heavy = estimate_basis({date(2026, 5, 12): 0.0001, date(2026, 5, 13): 10.0}, today)
    assert recent_heavy.usd_per_weekday > 5.0 > basis.usd_per_weekday


def test_today_is_not_a_rate_sample() -> None:
    today = date(2026, 5, 14)
    history = flat_history(today, 10.0)
    with_today = estimate_basis({**history, today: 0.5}, today)
    assert with_today == estimate_basis(history, today)


@pytest.mark.parametrize(
    ("zone", "now", "day_hours", "hours_left_today"),
    [
        (NEW_YORK, at(NEW_YORK, 2026, 3, 8, 12), 23, 12),  # spring forward: a 23-hour day
        (NEW_YORK, at(NEW_YORK, 2026, 3, 8, 1), 23, 22),  # before the jump at 02:00
        (BERLIN, at(BERLIN, 2026, 10, 25, 12), 25, 12),  # fall back: a 25-hour day
        (BERLIN, at(BERLIN, 2026, 10, 25, 1), 25, 24),  # before the repeated hour
        (UTC, at(UTC, 2026, 10, 25, 12), 24, 12),
    ],
)
def test_today_counts_its_remaining_share_of_its_real_length(
    zone: ZoneInfo, now: datetime, day_hours: int, hours_left_today: int
) -> None:
    cycle = budget_cycle(now, 1)
    result = project_cycle(None, 0.8, cycle, now, flat_history(now.date(), 24.0))
    whole_days_after_today = (cycle.end.date() - now.date()).days - 1
    in_cycle = 24.0 * (now.date().day - 1)
    expected = in_cycle + 24.0 * hours_left_today / day_hours + 24.0 * whole_days_after_today
    assert result.projected_usd == pytest.approx(expected)


def test_days_to_cap_are_real_days_across_a_dst_change() -> None:
    now = at(BERLIN, 2026, 10, 24)  # Saturday midnight; Sunday has 25 hours
    spend = flat_history(now.date(), 24.0, days=23)  # Oct 1-23
    result = project_cycle(24.0 * 25, 0.8, budget_cycle(now, 1), now, spend)
    assert result.cap_date == date(2026, 10, 25)
    assert result.days_to_cap == pytest.approx(2 + 1 / 24)  # Sat 24 h + Sun 25 h
    assert result.remaining_days == pytest.approx(8 + 1 / 24)


def test_the_local_date_decides_what_today_is() -> None:
    instant = datetime(2026, 5, 31, 20, tzinfo=UTC)  # already June 1 in Auckland
    spend = {date(2026, 5, 31): 50.0, date(2026, 6, 1): 5.0}
    in_utc = project_cycle(None, 0.8, budget_cycle(instant, 1), instant, spend)
    local = instant.astimezone(AUCKLAND)
    in_auckland = project_cycle(None, 0.8, budget_cycle(local, 1), local, spend)
    assert in_utc.spent_usd == pytest.approx(50.0)
    assert in_auckland.spent_usd == pytest.approx(5.0)
    assert in_auckland.basis.usd_per_weekday == pytest.approx(50.0)


def test_a_finished_cycle_projects_what_was_spent() -> None:
    now = at(UTC, 2026, 6, 1, 12)
    cycle = Cycle(at(UTC, 2026, 5, 1), at(UTC, 2026, 6, 1))
    result = project_cycle(100.0, 0.8, cycle, now, flat_history(now.date(), 2.0, days=40))
    assert result.projected_usd == pytest.approx(result.spent_usd)
    assert result.remaining_days == 0.0
    assert result.usd_per_hour_ahead == 0.0


def test_no_cap_still_projects_spend() -> None:
    now = at(UTC, 2026, 6, 11)
    result = project_cycle(None, 0.8, budget_cycle(now, 1), now, flat_history(now.date(), 10.0))
    assert result.projected_usd == pytest.approx(300.0)
    assert (result.days_to_cap, result.soft_limit_usd, result.used_ratio) == (None, None, None)
    assert not result.cap_reached
    assert result.usd_per_hour_ahead == pytest.approx(10.0 / 24)


@pytest.mark.parametrize(
    ("cap", "soft", "now"),
    [
        (0.0, 0.8, at(UTC, 2026, 6, 1)),
        (-5.0, 0.8, at(UTC, 2026, 6, 1)),
        (math.nan, 0.8, at(UTC, 2026, 6, 1)),
        (math.inf, 0.8, at(UTC, 2026, 6, 1)),
        (100.0, 0.0, at(UTC, 2026, 6, 1)),
        (100.0, 1.5, at(UTC, 2026, 6, 1)),
        (100.0, 0.8, datetime(2026, 6, 1)),  # naive
    ],
)
def test_unusable_inputs_are_rejected(cap: float, soft: float, now: datetime) -> None:
    cycle = Cycle(at(UTC, 2026, 6, 1), at(UTC, 2026, 7, 1))
    with pytest.raises(ValueError, match=r"cap|soft|aware"):
        project_cycle(cap, soft, cycle, now, {})


NOW_MS = 1_780_000_000_000


@pytest.mark.parametrize(
    ("used", "resets_in_h", "window_min", "pph", "full_in_h", "at_reset"),
    [
        (40.0, 3.0, 300, 10.0, None, 70.0),  # resets first
        (40.0, 3.0, 300, 30.0, 2.0, 130.0),  # fills two hours before the reset
        (40.0, 3.0, 300, 0.0, None, 40.0),  # no burn
        (100.0, 1.0, 300, 5.0, 0.0, 105.0),  # already full
        (10.0, None, 300, 20.0, 4.5, 110.0),  # no reset time: the window length from now
        (70.0, 48.0, 10_080, 1.0, 30.0, 118.0),  # weekly window
        (50.0, -1.0, 300, 50.0, None, 0.0),  # the window has already reset
    ],
)
def test_window_projection(
    used: float,
    resets_in_h: float | None,
    window_min: int,
    pph: float,
    full_in_h: float | None,
    at_reset: float,
) -> None:
    resets_at = None if resets_in_h is None else NOW_MS + int(resets_in_h * HOUR_MS)
    result = project_window(used, resets_at, window_min, NOW_MS, pph)
    expected_full = None if full_in_h is None else NOW_MS + int(full_in_h * HOUR_MS)
    assert result.full_at_ms == expected_full
    assert result.percent_at_reset == pytest.approx(at_reset)


@pytest.mark.parametrize(
    ("snapshots", "expected"),
    [
        ([(0, 10.0), (HOUR_MS, 20.0)], 10.0),
        ([(HOUR_MS, 20.0), (0, 10.0)], 10.0),  # order does not matter
        ([(0, 80.0), (HOUR_MS, 90.0), (2 * HOUR_MS, 5.0), (3 * HOUR_MS, 15.0)], 10.0),  # reset
        ([(0, 10.0), (HOUR_MS, 10.0), (2 * HOUR_MS, 30.0)], 10.0),  # idle hour counts
        ([(0, 10.0)], None),
        ([(0, 10.0), (0, 10.0)], None),
        ([], None),
    ],
)
def test_percent_per_hour_from_snapshots(
    snapshots: list[tuple[int, float]], expected: float | None
) -> None:
    assert estimate_percent_per_hour(snapshots) == (
        None if expected is None else pytest.approx(expected)
    )
