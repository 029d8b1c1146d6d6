"""The cache-ttl tip: 1-hour cache writes in sessions that never paused 5 minutes.

Savings worked out from the list prices in :mod:`tests.core.tips.ledgers`.
"""

from __future__ import annotations

import pytest

from tests.core.tips.ledgers import MINUTE, NOW, PER_M, T0, rec, tips_for


def test_hour_long_cache_writes_in_sessions_without_breaks_are_repriced_at_5_minutes() -> None:
    warm = [rec(T0 + i * 2 * MINUTE, w1=2_000, read=40_000) for i in range(6)]
    pause = [rec(T0 + i * 10 * MINUTE, session="s2", w1=2_000, read=40_000) for i in range(3)]
    still_open = [rec(NOW - 10 * MINUTE, session="s3", w1=2_000, read=40_000)]
    tip = tips_for(warm + pause + still_open)["cache-ttl"]
    assert tip.requests_counted == 6
    assert tip.saving_usd_in_window == pytest.approx(6 * 2_000 * (10 - 6.25) * PER_M)
    assert tip.evidence[0].startswith("12,000 tokens written to the 1-hour cache by 6 requests")
    assert "FORCE_PROMPT_CACHING_5M" in tip.action


def test_no_cache_ttl_tip_without_hour_long_writes() -> None:
    records = [rec(T0 + i * MINUTE, w5=20_000, read=40_000) for i in range(30)]
    assert "cache-ttl" not in tips_for(records)
