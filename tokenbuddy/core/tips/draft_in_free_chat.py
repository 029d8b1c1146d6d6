"""The ``draft-in-free-chat`` tip: chat-like session openings a free chat could take.

Sessions that open with :data:`CHAT_MIN_PROMPTS` or more human prompts each answered by
exactly one main-thread request (no tool loop): their cost, which a chat the user
already has would have absorbed. Where the ledger holds the user's own chat (Copilot
Chat in VS Code), its real cost per request is the baseline: each opening request saves
its cost less what an average chat request of theirs cost (AI credits where Copilot
recorded them, else list price); without one, the chat is taken to cost nothing extra.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from tokenbuddy.core.money import dollars, unit_dollars
from tokenbuddy.core.records import COPILOT
from tokenbuddy.core.tips.tip import Tally, offer_tip
from tokenbuddy.core.wording import counted

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from tokenbuddy.core.records import PromptMark
    from tokenbuddy.core.tips.tip import PricedRequest, Tip, TipContext

CHAT_MIN_PROMPTS = 4
"""Prompts in a row, each answered by a single request, that make a chat-like opening."""
CHAT_FRONT_ENDS = frozenset({(COPILOT, "vscode")})
"""(source, entrypoint) of the chats people already have: their requests are the
baseline, not openings to move."""


def is_chat(request: PricedRequest) -> bool:
    """A request made in a chat the user already has (Copilot Chat in VS Code)."""
    return (request.record.source, request.record.entrypoint) in CHAT_FRONT_ENDS


def chat_baseline(requests: Sequence[PricedRequest]) -> tuple[int, float] | None:
    """(requests, their cost) of the user's own chat over the window; None without one.
    Unpriced chat requests are left out of both."""
    costs = [r.cost_usd for r in requests if is_chat(r) and r.cost_usd is not None]
    return (len(costs), sum(costs)) if costs else None


def chat_opening(prompts: Sequence[int], replies: Sequence[PricedRequest]) -> list[PricedRequest]:
    """The requests answering a session's chat-like opening, or none.

    ``prompts`` are the session's prompt times and ``replies`` its main-thread requests,
    both in time order. The opening is the run of prompts from the first on that are each
    followed by exactly one request before the next prompt (an agent using tools sends
    several); it counts from :data:`CHAT_MIN_PROMPTS` prompts on.
    """
    if not prompts or not replies or replies[0].record.ts_ms < prompts[0]:
        return []
    opening: list[PricedRequest] = []
    index = 0
    for end in [*prompts[1:], None]:
        start = index
        while index < len(replies) and (end is None or replies[index].record.ts_ms < end):
            index += 1
        if index - start != 1:
            break
        opening.append(replies[start])
    return opening if len(opening) >= CHAT_MIN_PROMPTS else []


def _by_session(
    requests: Sequence[PricedRequest], prompts: Sequence[PromptMark]
) -> Iterator[tuple[list[int], list[PricedRequest]]]:
    """(prompt times, main-thread requests) of every session with a prompt, in time order."""
    asked: dict[tuple[str, str], list[int]] = defaultdict(list)
    for prompt in prompts:
        asked[(prompt.source, prompt.session_id)].append(prompt.ts_ms)
    answered: dict[tuple[str, str], list[PricedRequest]] = defaultdict(list)
    for request in requests:
        if not request.record.is_sidechain:
            answered[(request.record.source, request.record.session_id)].append(request)
    for key, times in asked.items():
        replies = sorted(answered.get(key, []), key=lambda p: p.record.ts_ms)
        yield sorted(times), replies


def draft_in_free_chat_tip(
    requests: Sequence[PricedRequest], prompts: Sequence[PromptMark], ctx: TipContext
) -> Tip | None:
    """Sessions opening with a tool-free back-and-forth a free chat could have taken."""
    baseline = chat_baseline(requests)
    per_chat = baseline[1] / baseline[0] if baseline else 0.0
    tally = Tally()
    opening_cost = 0.0
    metered = [r for r in requests if not is_chat(r)]
    for times, replies in _by_session(metered, prompts):
        for request in chat_opening(times, replies):
            opening_cost += request.cost_usd or 0.0
            tally.add(request.record, max((request.cost_usd or 0.0) - per_chat, 0.0))
    details = None
    if baseline is not None and tally.requests:
        details = [
            _baseline_line(baseline, opening_cost / tally.requests),
            *tally.top_sessions(),
        ]
    return offer_tip(
        ctx,
        tally,
        "draft-in-free-chat",
        title="Plan and explore in a chat you already have",
        why=(
            f"These sessions opened with {CHAT_MIN_PROMPTS} or more prompts each answered by a "
            "single request, with no tool loop in between: talk, not agent work. A chat you "
            "already pay for absorbs that at no extra cost, and the agent can start from the "
            "settled plan."
        ),
        summary=(
            f"{counted(len(tally.sessions), 'session')} opened with a tool-free "
            f"back-and-forth: {counted(tally.requests, 'request')}"
        ),
        action=(
            (
                "You already use Copilot Chat: draft, plan and ask exploratory questions there "
                "(or in another chat your company pays for, e.g. Microsoft 365 Copilot Chat), "
                if baseline
                else "Draft, plan and ask exploratory questions in a chat your company already "
                "pays for (e.g. Microsoft 365 Copilot Chat), "
            )
            + 'then start the agent with the result: `claude "<the plan>"`.'
        ),
        method=(
            "The ledger has no tool-use flag, so a session's opening counts as chat when its "
            f"first {CHAT_MIN_PROMPTS} or more human prompts were each followed by exactly one "
            "main-thread request before the next prompt; "
            + (
                "saving = the cost of each of those requests less the average cost of your "
                "own Copilot Chat requests over the same window."
                if baseline
                else "saving = the whole cost of those requests as priced in the ledger (the "
                "chat costs nothing extra)."
            )
        ),
        details=details,
    )


def _baseline_line(baseline: tuple[int, float], per_opening: float) -> str:
    """The evidence of the user's own chat: what a request there cost, against here."""
    requests, cost = baseline
    return (
        f"your Copilot Chat: {counted(requests, 'request')} over the window for "
        f"{dollars(cost)} ({unit_dollars(cost / requests)} a request), against "
        f"{unit_dollars(per_opening)} a request in these openings"
    )
