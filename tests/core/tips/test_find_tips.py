"""All the tips together: ranking, the cent-a-month floor, the window, unpriced requests.

Savings worked out from the list prices in :mod:`tests.core.tips.ledgers`.
"""

from __future__ import annotations

import pytest

from tests.core.tips.ledgers import BOOK, MINUTE, NOW, T0, priced, rec, tips_for
from tokenbuddy.core.tips import TIP_IDS, find_tips


def test_tips_are_ranked_by_saving_from_the_stable_set() -> None:
    records = [rec(T0 + i * MINUTE, plain=5, w1=500, read=120_000, output=100) for i in range(8)]
    found = find_tips(priced(records), [], now_ms=NOW, window_days=14, reprice=BOOK.cost)
    assert [t.id for t in found] == ["idle-context", "cheaper-model", "cache-ttl"]
    savings = [t.saving_usd_per_month for t in found]
    assert savings == sorted(savings, reverse=True)
    assert all(t.id in TIP_IDS and t.saving_usd_per_month > 0.01 for t in found)
    assert set(found[0].as_dict()) >= {
        "id", "title", "saving_usd_per_month", "evidence", "action", "why", "method",
        "window_days", "requests_counted",
    }  # fmt: skip


def test_a_saving_of_a_cent_a_month_or_less_is_not_listed() -> None:
    tiny = [rec(T0 + i * MINUTE, w1=10, read=1_000, output=5_000) for i in range(3)]
    assert tips_for(tiny) == {}


def test_the_monthly_saving_scales_with_the_window() -> None:
    records = [rec(T0 + i * 2 * MINUTE, w1=2_000, read=40_000) for i in range(6)]
    week, fortnight = tips_for(records, days=7)["cache-ttl"], tips_for(records)["cache-ttl"]
    assert week.saving_usd_in_window == pytest.approx(fortnight.saving_usd_in_window)
    assert week.saving_usd_per_month == pytest.approx(2 * fortnight.saving_usd_per_month)
    assert week.window_days == 7


def test_unpriced_requests_are_left_out() -> None:
    records = [rec(T0 + i * MINUTE, model="mystery-model", w1=9_000) for i in range(9)]
    assert tips_for(records) == {}
