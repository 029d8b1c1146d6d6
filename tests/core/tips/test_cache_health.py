"""The cache-health tip: rewrites of a freshly cached context, and the rewrites that are due.

Savings worked out from the list prices in :mod:`tests.core.tips.ledgers`.
"""

from __future__ import annotations

import pytest

from tests.core.tips.ledgers import MINUTE, OPUS, PER_M, SONNET, T0, rec, tips_for


def test_rewrites_of_a_freshly_cached_context_are_repriced_as_reads() -> None:
    broken = [rec(T0 + i * MINUTE, plain=5, w5=50_000 + 1_000 * i) for i in range(5)]
    healthy = [
        rec(T0 + i * MINUTE, session="s2", w5=1_000, read=50_000 + 1_000 * i) for i in range(5)
    ]
    tip = tips_for(broken + healthy)["cache-health"]
    missed = sum(50_000 + 1_000 * (i - 1) for i in range(1, 5))
    assert tip.requests_counted == 4
    assert tip.saving_usd_in_window == pytest.approx(missed * (6.25 - 0.5) * PER_M)
    assert tip.evidence[1].endswith("hit ratio 0%")


def test_rewrites_after_a_pause_or_a_model_switch_are_not_excess() -> None:
    paused = [rec(T0 + i * 10 * MINUTE, w5=50_000 + 1_000 * i) for i in range(5)]
    switched = [
        rec(T0 + i * MINUTE, session="s2", model=(OPUS, SONNET)[i % 2], w5=50_000) for i in range(5)
    ]
    assert "cache-health" not in tips_for(paused + switched)
