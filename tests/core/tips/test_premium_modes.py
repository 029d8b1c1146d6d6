"""The premium-modes tip: fast mode, US-only inference and long context in standard mode.

Savings worked out from the list prices in :mod:`tests.core.tips.ledgers`.
"""

from __future__ import annotations

import pytest

from tests.core.tips.ledgers import MINUTE, PER_M, T0, rec, tips_for
from tokenbuddy.core.tips.context import prompt_tokens
from tokenbuddy.core.tips.premium_modes import LONG_CONTEXT_TOKENS, base_tier_pieces


def test_fast_mode_us_inference_and_long_context_are_repriced_in_standard_mode() -> None:
    fast = rec(T0, model="claude-opus-5", speed="fast", plain=1_000, read=10_000, output=1_000)
    us_only = rec(T0 + MINUTE, geo="us", plain=1_000, read=10_000, output=1_000)
    long = rec(T0 + 2 * MINUTE, model="claude-sonnet-4-5", plain=0, read=210_000, output=1_000)
    tip = tips_for([fast, us_only, long])["premium-modes"]
    standard_opus = (1_000 * 5 + 10_000 * 0.5 + 1_000 * 25) * PER_M
    long_extra = (210_000 * (0.6 - 0.3) + 1_000 * (22.5 - 15)) * PER_M
    assert tip.requests_counted == 3
    assert tip.saving_usd_in_window == pytest.approx(standard_opus * 1.1 + long_extra)
    assert tip.evidence[0] == (
        "fast mode: 1 request, $0.04 extra, US-only inference: 1 request, $0.00 extra, "
        "long context: 1 request, $0.07 extra"
    )
    assert "/fast" in tip.action and "Console" in tip.action and "/compact" in tip.action


def test_no_premium_tip_for_standard_requests() -> None:
    records = [rec(T0 + i * MINUTE, read=150_000, output=2_000) for i in range(10)]
    assert "premium-modes" not in tips_for(records)


def test_base_tier_pieces_keep_every_token_and_stay_under_the_tier() -> None:
    record = rec(T0, plain=5, w5=30_000, w1=7, read=450_000, output=100)
    pieces = base_tier_pieces(record)
    assert all(prompt_tokens(p) <= LONG_CONTEXT_TOKENS for p in pieces)
    assert sum(prompt_tokens(p) for p in pieces) == prompt_tokens(record)
    assert sum(p.cache_write_1h_tokens for p in pieces) == 7
    assert [p.output_tokens for p in pieces] == [100, 0, 0]
