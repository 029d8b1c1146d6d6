"""Folding 15-minute UTC buckets into local days, ISO weeks and months."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from tokenbuddy.core.report import fold_buckets, grand_total, local_day_bounds, period_key
from tokenbuddy.core.totals import Totals


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


def one(requests: int = 1, cost: float = 1.0) -> Totals:
    return Totals(
        input_tokens=10,
        output_tokens=5,
        cache_write_tokens=20,
        cache_read_tokens=70,
        cost_usd=cost,
        requests=requests,
    )


@pytest.mark.parametrize(
    ("kind", "day", "label"),
    [
        ("daily", date(2026, 11, 22), "2026-11-22"),
        ("weekly", date(2026, 11, 22), "2026-W47"),
        ("weekly", date(2027, 1, 1), "2026-W53"),
        ("weekly", date(2024, 12, 30), "2025-W01"),
        ("monthly", date(2026, 2, 28), "2026-02"),
    ],
)
def test_period_labels(kind: str, day: date, label: str) -> None:
    assert period_key(kind, day) == label  # type: ignore[arg-type]


def test_buckets_fall_on_the_local_day_across_a_dst_change() -> None:
    paris = ZoneInfo("Europe/Paris")
    buckets = [
        (ms(2026, 3, 28, 22, 45), one()),  # 23:45 CET, Saturday
        (ms(2026, 3, 28, 23, 0), one()),  # 00:00 CET, Sunday
        (ms(2026, 3, 29, 21, 45), one()),  # 23:45 CEST, Sunday (after the change)
        (ms(2026, 3, 29, 22, 0), one()),  # 00:00 CEST, Monday
    ]
    rows = fold_buckets("daily", buckets, paris)
    assert [(r.key["date"], r.totals.requests) for r in rows] == [
        ("2026-03-28", 1),
        ("2026-03-29", 2),
        ("2026-03-30", 1),
    ]


def test_half_and_quarter_hour_zones() -> None:
    kathmandu = ZoneInfo("Asia/Kathmandu")  # UTC+5:45
    rows = fold_buckets("daily", [(ms(2026, 1, 1, 18, 15), one())], kathmandu)
    assert rows[0].key == {"date": "2026-01-02"}


def test_totals_and_cache_ratio() -> None:
    total = grand_total(
        fold_buckets(
            "monthly", [(ms(2026, 1, 1), one()), (ms(2026, 2, 1), one(cost=2.5))], ZoneInfo("UTC")
        )
    )
    assert (total.requests, total.cost_usd) == (2, 3.5)
    assert total.cache_hit_ratio == pytest.approx(70 / 100)
    assert Totals().cache_hit_ratio is None
    assert Totals().as_dict()["cache_hit_ratio"] is None


def test_day_bounds_are_local_midnights() -> None:
    low, high = local_day_bounds(date(2026, 11, 1), date(2026, 11, 1), ZoneInfo("America/New_York"))
    assert low == ms(2026, 11, 1, 4)  # EDT midnight
    assert high == ms(2026, 11, 2, 5)  # EST midnight: that day had 25 hours
    assert local_day_bounds(None, None, ZoneInfo("UTC")) == (None, None)
