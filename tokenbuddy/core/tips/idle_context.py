"""The ``idle-context`` tip: huge contexts re-sent for tiny replies.

Sessions that repeatedly re-sent over :data:`IDLE_CONTEXT_TOKENS` of context for replies
under :data:`IDLE_REPLY_TOKENS` tokens, re-priced with the context cut to
:data:`COMPACTED_CONTEXT_TOKENS` (what ``/compact`` leaves).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from tokenbuddy.core.tips.context import CONTEXT_FIELDS, prompt_tokens, with_context
from tokenbuddy.core.tips.tip import Tally, offer_tip
from tokenbuddy.core.wording import counted

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tokenbuddy.core.records import UsageRecord
    from tokenbuddy.core.tips.tip import PricedRequest, Tip, TipContext

IDLE_CONTEXT_TOKENS = 100_000
"""Context (all input) a request must re-send to count as huge..."""
IDLE_REPLY_TOKENS = 200
"""...for a reply shorter than this..."""
IDLE_MIN_REQUESTS = 5
"""...this many times in one session."""
COMPACTED_CONTEXT_TOKENS = 30_000
"""What a session carries after ``/compact`` or ``/clear``: system prompt, tools,
CLAUDE.md and a summary."""


def trim_context(record: UsageRecord, keep: int) -> UsageRecord:
    """``record`` re-sending only ``keep`` input tokens: the excess comes off cache reads
    first, then 5-minute and 1-hour writes, then plain input (the cheapest first)."""
    excess = max(prompt_tokens(record) - keep, 0)
    kept = []
    for size in (*(getattr(record, name) for name in CONTEXT_FIELDS), record.input_tokens):
        taken = min(excess, size)
        kept.append(size - taken)
        excess -= taken
    return with_context(record, *kept)


def _is_idle(record: UsageRecord) -> bool:
    return (
        not record.is_sidechain
        and prompt_tokens(record) > IDLE_CONTEXT_TOKENS
        and record.output_tokens < IDLE_REPLY_TOKENS
    )


def idle_context_tip(requests: Sequence[PricedRequest], ctx: TipContext) -> Tip | None:
    """Sessions that keep re-sending a huge context for tiny replies."""
    idle: dict[str, list[UsageRecord]] = defaultdict(list)
    for request in requests:
        if _is_idle(request.record):
            idle[request.record.session_id].append(request.record)
    tally = Tally()
    for records in idle.values():
        if len(records) < IDLE_MIN_REQUESTS:
            continue
        for record in records:
            saving = ctx.difference(record, trim_context(record, COMPACTED_CONTEXT_TOKENS))
            if saving is not None and saving > 0:
                tally.add(record, saving)
    return offer_tip(
        ctx,
        tally,
        "idle-context",
        title="Compact or clear long sessions between tasks",
        why=(
            "Every request re-sends the whole conversation. These sessions sent over "
            f"{IDLE_CONTEXT_TOKENS // 1000}k tokens of context, again and again, for replies "
            f"under {IDLE_REPLY_TOKENS} tokens: most of that context was no longer needed."
        ),
        summary=(
            f"{counted(tally.requests, 'request')} re-sent over {IDLE_CONTEXT_TOKENS // 1000}k "
            f"tokens for replies under {IDLE_REPLY_TOKENS} tokens, in "
            f"{counted(len(tally.sessions), 'session')}"
        ),
        action=(
            "Run `/compact` when a task is done and the next builds on it, `/clear` when it "
            "does not (Codex: `/compact` or `/new`)."
        ),
        method=(
            f"Sessions with at least {IDLE_MIN_REQUESTS} such requests; each re-priced with "
            f"its context cut to {COMPACTED_CONTEXT_TOKENS // 1000}k tokens (about what a "
            "session holds after /compact: system prompt, tools, CLAUDE.md, a summary), the "
            "cut taken from cache reads first, with the same price database; saving = the "
            "difference. The compaction request itself is not deducted."
        ),
    )
