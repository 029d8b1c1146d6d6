"""The cheaper-model tip: routine Opus work and small-share subagents on a cheaper model.

Savings worked out from the list prices in :mod:`tests.core.tips.ledgers`.
"""

from __future__ import annotations

import pytest

from tests.core.tips.ledgers import HAIKU, MINUTE, PER_M, SONNET, T0, monthly, rec, tips_for
from tokenbuddy.core.records import CODEX


def test_routine_opus_requests_are_repriced_on_sonnet() -> None:
    routine = [rec(T0 + i * MINUTE, w5=1_000, read=50_000, output=200) for i in range(10)]
    reasoning = rec(T0 + 20 * MINUTE, w5=1_000, read=50_000, output=2_000)
    sonnet = rec(T0 + 21 * MINUTE, model=SONNET, read=50_000, output=100)
    codex = rec(T0, model="gpt-5.4", source=CODEX, session="c1", read=50_000, output=50)
    tip = tips_for([*routine, reasoning, sonnet, codex])["cheaper-model"]
    opus = (10 * 5 + 1_000 * 6.25 + 50_000 * 0.5 + 200 * 25) * PER_M
    on_sonnet = (10 * 3 + 1_000 * 3.75 + 50_000 * 0.3 + 200 * 15) * PER_M
    assert tip.requests_counted == 10
    assert tip.saving_usd_in_window == pytest.approx(10 * (opus - on_sonnet))
    assert tip.saving_usd_per_month == pytest.approx(monthly(10 * (opus - on_sonnet)))
    assert tip.evidence[0].startswith("10 main-thread Opus requests with at most 300")
    assert tip.evidence[1].startswith("shop · session s1: 10 requests")
    assert "/model sonnet" in tip.action
    assert "× 30 / 14" in tip.method


def test_nothing_already_cheap_is_moved_to_a_cheaper_model() -> None:
    records = [rec(T0 + i * MINUTE, model=SONNET, read=80_000, output=100) for i in range(20)] + [
        rec(T0 + i * MINUTE, model="gpt-5.4", source=CODEX, session="c1", read=80_000)
        for i in range(20)
    ]
    records += [rec(T0 + i * MINUTE, model=HAIKU, agent_type="Explore") for i in range(5)]
    found = tips_for(records)
    assert "cheaper-model" not in found
    assert "subagent-share" not in found


def test_subagents_with_a_small_share_are_counted_in_cheaper_model() -> None:
    main = [rec(T0 + i * MINUTE, output=5_000, read=150_000) for i in range(10)]
    helper = rec(T0 + 30 * MINUTE, agent_type="general-purpose", read=20_000, output=400)
    found = tips_for([*main, helper])
    assert "subagent-share" not in found
    tip = found["cheaper-model"]
    assert tip.requests_counted == 1
    expected = 20_000 * (0.5 - 0.3) * PER_M + 10 * (5 - 3) * PER_M + 400 * (25 - 15) * PER_M
    assert tip.saving_usd_in_window == pytest.approx(expected)
    assert "1 subagent request" in tip.evidence[0]


def test_other_agents_routine_work_moves_within_its_model_s_family() -> None:
    """Gemini Pro to Flash, GPT-5 to its mini, Claude Opus to Sonnet, in whatever agent ran
    them; at list price on both sides even where the agent billed its own figure."""
    gemini = [rec(T0 + i * MINUTE, model="gemini-2.5-pro", source="gemini-cli", session="g1",
                  plain=20_000, output=250) for i in range(4)]  # fmt: skip
    gpt = rec(T0, model="gpt-5", source="opencode", session="o1", plain=10_000, output=100)
    opus = rec(T0, model="claude-opus-4.6", source="copilot", session="p1", plain=1_000, output=50)
    opus = opus._replace(reported_cost_usd=0.04)
    long_reply = rec(T0, model="gemini-2.5-pro", source="gemini-cli", output=5_000)
    cheap = rec(T0, model="gemini-2.5-flash", source="gemini-cli", output=10)
    codex = rec(T0, model="gpt-5", source=CODEX, session="c1", plain=50_000, output=10)
    tip = tips_for([*gemini, gpt, opus, long_reply, cheap, codex])["cheaper-model"]
    on_pro = 20_000 * 1.25 + 250 * 10
    on_flash = 20_000 * 0.30 + 250 * 2.50
    expected = 4 * (on_pro - on_flash) + 10_000 * (1.25 - 0.25) + 100 * (10 - 2)
    expected += 1_000 * (5 - 3) + 50 * (25 - 15)
    assert tip.requests_counted == 6
    assert tip.saving_usd_in_window == pytest.approx(expected * PER_M)
    assert tip.evidence[0].startswith("6 requests of other agents with at most 300")
    assert "Gemini CLI: switch with `gemini -m gemini-2.5-flash`" in tip.action
    assert "OpenCode: switch with" in tip.action and "GitHub Copilot: switch" in tip.action
    assert "/model sonnet" not in tip.action  # no Claude Code request was counted
