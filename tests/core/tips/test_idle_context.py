"""The idle-context tip: huge contexts re-sent for tiny replies, re-priced as compacted.

Savings worked out from the list prices in :mod:`tests.core.tips.ledgers`.
"""

from __future__ import annotations

import pytest

from tests.core.tips.ledgers import MINUTE, PER_M, T0, rec, tips_for
from tokenbuddy.core.tips.idle_context import trim_context


def test_huge_contexts_for_tiny_replies_are_repriced_as_compacted() -> None:
    idle = [rec(T0 + i * MINUTE, plain=5, w5=500, read=120_000, output=100) for i in range(5)]
    rare = [
        rec(T0 + i * MINUTE, session="s2", plain=5, w5=500, read=120_000, output=100)
        for i in range(4)
    ]
    tip = tips_for(idle + rare)["idle-context"]
    assert tip.requests_counted == 5
    cut = 5 + 500 + 120_000 - 30_000
    assert tip.saving_usd_in_window == pytest.approx(5 * cut * 0.5 * PER_M)
    assert "/compact" in tip.action


def test_trim_context_takes_the_cheapest_tokens_first() -> None:
    trimmed = trim_context(rec(T0, plain=40_000, w5=20_000, w1=10_000, read=50_000), 30_000)
    assert (trimmed.cache_read_tokens, trimmed.cache_write_5m_tokens) == (0, 0)
    assert (trimmed.cache_write_1h_tokens, trimmed.input_tokens) == (0, 30_000)
