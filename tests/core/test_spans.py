"""The chart's and the tips' periods: where each starts, and the tips' window bounds."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tokenbuddy.core.metrics import budget_cycle
from tokenbuddy.core.spans import SPANS, span_days, span_first_day, span_start_ms, tips_window
from tokenbuddy.core.units import DAY_MS, HOUR_MS

ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=ZONE)
CYCLE = budget_cycle(NOW, 5)
SPAN = {span.key: span for span in SPANS}


@pytest.mark.parametrize(
    ("key", "first"),
    [
        ("7d", date(2026, 11, 14)),
        ("30d", date(2026, 10, 22)),
        ("90d", date(2026, 8, 23)),
        ("cycle", date(2026, 11, 5)),
        ("all", date(2025, 2, 3)),
    ],
)
def test_each_daily_span_starts_on_its_first_local_day(key: str, first: date) -> None:
    assert span_first_day(SPAN[key], NOW, CYCLE, date(2025, 2, 3)) == first
    days = span_days(first, NOW)
    assert (days[0], days[-1]) == (first, NOW.date())


def test_all_time_of_an_empty_ledger_is_today() -> None:
    assert span_first_day(SPAN["all"], NOW, CYCLE, None) == NOW.date()


def test_a_span_starts_at_local_midnight_across_a_clock_change() -> None:
    # Oct 25 2026 is the end of summer time in Berlin: midnight of Oct 22 is UTC+2.
    start = span_start_ms(SPAN["30d"], NOW, CYCLE, None)
    assert start == int(datetime(2026, 10, 22, tzinfo=ZONE).timestamp() * 1000)
    now_ms = int(NOW.timestamp() * 1000)
    assert span_start_ms(SPAN["24h"], NOW, CYCLE, None) == now_ms - 24 * HOUR_MS


def test_the_tips_window_is_widened_to_a_week_and_narrowed_to_90_days() -> None:
    now_ms = int(NOW.timestamp() * 1000)
    short = tips_window(SPAN["24h"], now_ms - DAY_MS, now_ms)
    assert (short.since_ms, short.note) == (
        now_ms - 7 * DAY_MS,
        "the last 24 h is under 7 days: the tips look at the last 7",
    )
    long = tips_window(SPAN["all"], now_ms - 400 * DAY_MS, now_ms)
    assert long.since_ms == now_ms - 90 * DAY_MS and "90 days of all time" in long.note
    month = tips_window(SPAN["30d"], now_ms - 30 * DAY_MS, now_ms)
    assert (month.since_ms, month.note) == (now_ms - 30 * DAY_MS, "")
