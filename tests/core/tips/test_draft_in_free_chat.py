"""The draft-in-free-chat tip: chat-like session openings at their whole cost.

Savings worked out from the list prices in :mod:`tests.core.tips.ledgers`.
"""

from __future__ import annotations

import pytest

from tests.core.tips.ledgers import MINUTE, PER_M, SECOND, SONNET, T0, priced, rec, tips_for
from tokenbuddy.core.records import CLAUDE_CODE, PromptMark, UsageRecord
from tokenbuddy.core.tips.draft_in_free_chat import chat_opening


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


def test_the_user_s_own_copilot_chat_is_the_baseline_not_an_opening() -> None:
    """Copilot Chat requests are what a chat costs this user: each opening request saves
    its cost less their average chat request (billed AI credits); the chat's own sessions
    are never openings to move."""
    prompts, records = chat("s1", [1, 1, 1, 1])
    each = (10 * 3 + 3_000 * 3.75 + 20_000 * 0.3 + 500 * 15) * PER_M
    copilot = []
    for i in range(10):
        asked = T0 + i * 2 * MINUTE
        prompts.append(PromptMark("copilot", "vs1", asked))
        request = rec(asked + SECOND, session="vs1", model=SONNET, source="copilot", output=400)
        copilot.append(request._replace(entrypoint="vscode", reported_cost_usd=0.004))
    tip = tips_for(records + copilot, prompts)["draft-in-free-chat"]
    assert tip.requests_counted == 4
    assert tip.saving_usd_in_window == pytest.approx(4 * (each - 0.004))
    assert tip.evidence[1] == (
        "your Copilot Chat: 10 requests over the window for $0.04 ($0.004 a request), "
        f"against ${each:.2f} a request in these openings"
    )
    assert tip.action.startswith("You already use Copilot Chat")
    assert "average cost of your own Copilot Chat requests" in tip.method


def test_an_opening_cheaper_than_the_user_s_chat_saves_nothing() -> None:
    prompts, records = chat("s1", [1, 1, 1, 1])
    dear = rec(T0, session="vs1", model=SONNET, source="copilot")
    dear = dear._replace(entrypoint="vscode", reported_cost_usd=5.0)
    assert "draft-in-free-chat" not in tips_for([*records, dear], prompts)
