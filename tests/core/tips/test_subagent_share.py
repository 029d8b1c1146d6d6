"""The subagent-share tip: subagents carrying much of the spend get a tip of their own.

Savings worked out from the list prices in :mod:`tests.core.tips.ledgers`.
"""

from __future__ import annotations

import pytest

from tests.core.tips.ledgers import HAIKU, MINUTE, OPUS, PER_M, SONNET, T0, rec, tips_for
from tokenbuddy.core.records import UsageRecord


def test_subagents_with_a_large_share_get_their_own_tip() -> None:
    def helper(ts: int, agent_type: str, model: str = OPUS) -> UsageRecord:
        return rec(ts, model=model, agent_type=agent_type, w5=20_000, read=100_000, output=1_500)

    main = [rec(T0, output=5_000, read=10_000)]
    explore = [helper(T0 + i * MINUTE, "Explore", SONNET) for i in (1, 2)]
    general = [helper(T0 + 3 * MINUTE, "general-purpose")]
    haiku = [helper(T0 + 4 * MINUTE, "Explore", HAIKU)]
    aside = [helper(T0 + 5 * MINUTE, "aside_question")]
    found = tips_for(main + explore + general + haiku + aside)
    sonnet_cost = (10 * 3 + 20_000 * 3.75 + 100_000 * 0.3 + 1_500 * 15) * PER_M
    haiku_cost = (10 * 1 + 20_000 * 1.25 + 100_000 * 0.1 + 1_500 * 5) * PER_M
    opus_cost = (10 * 5 + 20_000 * 6.25 + 100_000 * 0.5 + 1_500 * 25) * PER_M
    expected = 2 * (sonnet_cost - haiku_cost) + (opus_cost - sonnet_cost)
    tip = found["subagent-share"]
    assert tip.requests_counted == 3
    assert tip.saving_usd_in_window == pytest.approx(expected)
    assert tip.evidence[1].startswith("Explore agents on claude-sonnet-4-6: 2 requests")
    assert "model: sonnet" in tip.action
    assert "cheaper-model" not in found, "the main thread did no routine work on Opus"
