"""The spend chart's time axis: labels under the right bars, in the user's clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tokenbuddy.tui.formatting import axis_line, day_ticks, hour_ticks

PARIS = ZoneInfo("Europe/Paris")


def ms(zone: ZoneInfo, *parts: int) -> int:
    return int(datetime(*parts, tzinfo=zone).timestamp() * 1000)  # type: ignore[misc]


def test_hour_ticks_mark_every_sixth_hour_and_now() -> None:
    ticks = hour_ticks(ms(PARIS, 2026, 11, 21, 14, 37), PARIS)
    # Bars run from 15:00 yesterday (index 0) to 14:00 today (index 23).
    assert ticks == [(3, "18:00"), (9, "00:00"), (15, "06:00"), (21, "12:00"), (23, "now")]


def test_hour_ticks_follow_the_clock_across_a_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # 2026-10-25 03:00 CEST became 02:00 CET
    ticks = hour_ticks(ms(berlin, 2026, 10, 25, 12, 10), berlin)
    assert ticks == [(4, "18:00"), (10, "00:00"), (17, "06:00"), (23, "now")]


def test_hour_ticks_in_a_half_hour_zone() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    ticks = hour_ticks(ms(kolkata, 2026, 11, 21, 9, 5), kolkata)  # bars: 10:00 .. 09:00
    assert ticks == [(2, "12:00"), (8, "18:00"), (14, "00:00"), (20, "06:00"), (23, "now")]


def test_day_ticks_count_back_weekly_from_today() -> None:
    ticks = day_ticks(ms(PARIS, 2026, 11, 21, 0, 30), PARIS)
    assert ticks == [
        (1, "Oct 24"),
        (8, "Oct 31"),
        (15, "Nov 7"),
        (22, "Nov 14"),
        (29, "today"),
    ]


def test_labels_sit_under_their_bars_and_never_touch() -> None:
    ticks = [(3, "18:00"), (9, "00:00"), (15, "06:00"), (21, "12:00"), (23, "now")]
    line = axis_line(76, 24, ticks)
    assert line == "         18:00              00:00              06:00              12:00  now"
    for index, label in ticks:
        centre = int((index + 0.5) * 76 / 24)
        assert line.index(label) <= centre < line.index(label) + len(label)


@pytest.mark.parametrize("width", [3, 10, 20, 33, 40, 61, 120])
def test_narrow_charts_drop_labels_but_keep_now(width: int) -> None:
    ticks = hour_ticks(ms(PARIS, 2026, 11, 21, 14, 37), PARIS)
    line = axis_line(width, 24, ticks)
    assert len(line) <= width
    assert line.endswith("now")
    words = line.split()
    assert all(word in {label for _, label in ticks} for word in words)
    assert "  " in line or len(words) == 1  # labels never touch


def test_nothing_to_draw() -> None:
    assert axis_line(0, 24, [(0, "now")]) == ""
    assert axis_line(40, 0, []) == ""
    assert axis_line(2, 24, [(23, "now")]) == ""
