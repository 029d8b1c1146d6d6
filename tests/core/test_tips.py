"""Tips on hand-built ledgers, where the right saving can be worked out from list prices.

Prices per million tokens (input / 5m write / 1h write / cache read / output):
Opus 4.6 $5 / 6.25 / 10 / 0.50 / 25; Sonnet 4.6 $3 / 3.75 / 6 / 0.30 / 15;
Haiku 4.5 $1 / 1.25 / 2 / 0.10 / 5; Opus 5 in fast mode 2x Opus; Sonnet 4.5 above
200k input $6 / 7.50 / 12 / 0.60 / 22.50; US-only inference 1.1x on 4.6+.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from tokenbuddy.core.pricing import PriceBook
from tokenbuddy.core.records import CLAUDE_CODE, CODEX, PromptMark, UsageRecord
from tokenbuddy.core.tips import TIP_IDS, PricedRequest, Tip, find_tips
from tokenbuddy.core.tips.context import prompt_tokens
from tokenbuddy.core.tips.draft_in_free_chat import chat_opening
from tokenbuddy.core.tips.idle_context import trim_context
from tokenbuddy.core.tips.premium_modes import LONG_CONTEXT_TOKENS, base_tier_pieces

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
T0 = int(datetime(2026, 5, 11, 9, tzinfo=UTC).timestamp() * 1000)
NOW = T0 + 6 * HOUR
PER_M = 1e-6
OPUS, SONNET, HAIKU = "claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5-20251001"
BOOK = PriceBook()
_keys = itertools.count()


def rec(
    ts: int,
    *,
    model: str = OPUS,
    session: str = "s1",
    project: str = "/home/dev/shop",
    plain: int = 10,
    output: int = 200,
    w5: int = 0,
    w1: int = 0,
    read: int = 0,
    speed: str = "",
    geo: str = "",
    agent_type: str = "",
    agent_id: str = "",
    source: str = CLAUDE_CODE,
) -> UsageRecord:
    """One request; a non-empty ``agent_type`` makes it subagent work."""
    return UsageRecord(
        f"k{next(_keys)}",
        source,
        ts,
        session,
        project,
        model,
        plain,
        output,
        w5,
        w1,
        read,
        0,
        0,
        speed,
        geo,
        bool(agent_type),
        agent_id or (f"agent-{agent_type}" if agent_type else ""),
        agent_type,
    )


def priced(records: list[UsageRecord]) -> list[PricedRequest]:
    return [PricedRequest(r, BOOK.cost(r)) for r in records]


def tips_for(
    records: list[UsageRecord], prompts: list[PromptMark] | None = None, days: float = 14
) -> dict[str, Tip]:
    found = find_tips(
        priced(records), prompts or [], now_ms=NOW, window_days=days, reprice=BOOK.cost
    )
    return {tip.id: tip for tip in found}


def monthly(usd: float, days: float = 14) -> float:
    return usd * 30 / days


# -- cheaper-model -------------------------------------------------------------------------


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


# -- cache-ttl and cache-health ---------------------------------------------------------------


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


# -- premium-modes ----------------------------------------------------------------------------


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


# -- draft-in-free-chat -----------------------------------------------------------------------


def chat(
    session: str, replies: list[int], start: int = T0
) -> tuple[list[PromptMark], list[UsageRecord]]:
    """Prompts two minutes apart, each followed by ``replies[i]`` requests."""
    prompts: list[PromptMark] = []
    records: list[UsageRecord] = []
    for i, count in enumerate(replies):
        asked = start + i * 2 * MINUTE
        prompts.append(PromptMark(CLAUDE_CODE, session, asked))
        records += [
            rec(asked + (j + 1) * 10 * SECOND, session=session, model=SONNET, w5=3_000,
                read=20_000, output=500)
            for j in range(count)
        ]  # fmt: skip
    return prompts, records


def test_a_chat_like_opening_is_counted_at_its_whole_cost() -> None:
    p1, r1 = chat("s1", [1, 1, 1, 1, 3, 1])
    p2, r2 = chat("s2", [1, 1, 1, 4, 1, 1])
    p3, r3 = chat("s3", [1, 1, 1, 1, 1])
    r3.insert(0, rec(T0 - MINUTE, session="s3", model=SONNET))
    tip = tips_for(r1 + r2 + r3, p1 + p2 + p3)["draft-in-free-chat"]
    assert tip.requests_counted == 4
    each = (10 * 3 + 3_000 * 3.75 + 20_000 * 0.3 + 500 * 15) * PER_M
    assert tip.saving_usd_in_window == pytest.approx(4 * each)
    assert tip.evidence[0] == "1 session opened with a tool-free back-and-forth: 4 requests"


def test_a_session_of_pure_chat_counts_whole_and_a_silent_prompt_ends_the_run() -> None:
    prompts, records = chat("s1", [1, 1, 1, 1, 1])
    replies = priced(records)
    assert chat_opening([p.ts_ms for p in prompts], replies) == replies
    prompts, records = chat("s1", [1, 1, 0, 1, 1, 1])
    assert chat_opening([p.ts_ms for p in prompts], priced(records)) == []


# -- idle-context -----------------------------------------------------------------------------


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


# -- all together -----------------------------------------------------------------------------


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


def test_tips_core_is_pure() -> None:
    code = (
        "import sys, tokenbuddy.core.tips\n"
        "bad = [m for m in sys.modules if m.startswith(('tokenbuddy.store', 'tokenbuddy.sources',"
        " 'tokenbuddy.cli', 'textual', 'rich')) or m in ('sqlite3', 'genai_prices')]\n"
        "assert not bad, bad"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
