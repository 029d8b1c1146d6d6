"""The ``premium-modes`` tip: fast mode, US-only inference and long-context pricing.

``speed: fast``, ``inference_geo: us`` and long-context (over
:data:`LONG_CONTEXT_TOKENS` input) requests, re-priced in standard mode at the base tier.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from tokenbuddy.core.money import dollars
from tokenbuddy.core.tips.context import CONTEXT_FIELDS, prompt_tokens, with_context
from tokenbuddy.core.tips.tip import Tally, offer_tip
from tokenbuddy.core.wording import counted

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from tokenbuddy.core.records import UsageRecord
    from tokenbuddy.core.tips.tip import PricedRequest, Tip, TipContext

LONG_CONTEXT_TOKENS = 200_000
"""Input beyond which long-context pricing tiers start."""


def base_tier_pieces(record: UsageRecord) -> list[UsageRecord]:
    """``record`` split into pieces of at most 200k input each, output in the first: priced
    one by one, they cost what the whole would at the base (short-context) tier."""
    sizes = [getattr(record, name) for name in CONTEXT_FIELDS] + [record.input_tokens]
    pieces: list[list[int]] = [[0, 0, 0, 0]]
    room = LONG_CONTEXT_TOKENS
    for kind, size in enumerate(sizes):
        left = size
        while left:
            if room == 0:
                pieces.append([0, 0, 0, 0])
                room = LONG_CONTEXT_TOKENS
            taken = min(left, room)
            pieces[-1][kind] += taken
            left, room = left - taken, room - taken
    first, *rest = (with_context(record, *piece) for piece in pieces)
    return [first] + [
        piece._replace(output_tokens=0, reasoning_tokens=0, web_search_requests=0) for piece in rest
    ]


def _base_tier_cost(ctx: TipContext, record: UsageRecord) -> float | None:
    costs = [ctx.reprice(piece) for piece in base_tier_pieces(record)]
    return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)


def premium_parts(ctx: TipContext, record: UsageRecord) -> dict[str, float]:
    """What fast mode, US-only inference and the long-context tier each added to a request."""
    if not (record.speed or record.inference_geo or prompt_tokens(record) > LONG_CONTEXT_TOKENS):
        return {}
    standard_speed = record._replace(speed="")
    standard = standard_speed._replace(inference_geo="")
    costs = {
        "actual": ctx.reprice(record),
        "fast mode": ctx.reprice(standard_speed),
        "US-only inference": ctx.reprice(standard),
        "long context": ctx.reprice(standard),
    }
    if prompt_tokens(record) > LONG_CONTEXT_TOKENS:
        costs["long context"] = _base_tier_cost(ctx, standard)
    values = list(costs.values())
    if any(value is None for value in values):
        return {}
    names = list(costs)
    found = {names[i]: (values[i - 1] or 0.0) - (values[i] or 0.0) for i in range(1, len(values))}
    return {part: usd for part, usd in found.items() if usd > 1e-12}


def _premium_action(modes: Iterable[str]) -> str:
    actions = {
        "fast mode": "turn fast mode off with `/fast` unless you are waiting on the answer",
        "US-only inference": (
            "set the workspace's default inference geo back to global in the Claude Console "
            "(Settings > Data residency) unless policy needs US-only"
        ),
        "long context": (
            "`/compact` before the context passes 200k tokens, and pick the standard model "
            "over its 1M variant (`/model sonnet`, not `sonnet[1m]`)"
        ),
    }
    text = "; ".join(actions[mode] for mode in actions if mode in modes)
    return text[:1].upper() + text[1:] + "."


def premium_modes_tip(requests: Sequence[PricedRequest], ctx: TipContext) -> Tip | None:
    """Spend on fast mode, US-only inference and long-context pricing."""
    tally = Tally()
    per_mode: dict[str, Tally] = defaultdict(Tally)
    for request in requests:
        parts = premium_parts(ctx, request.record)
        for mode, usd in parts.items():
            per_mode[mode].add(request.record, usd)
        if parts:
            tally.add(request.record, sum(parts.values()))
    return offer_tip(
        ctx,
        tally,
        "premium-modes",
        title="Drop premium modes you do not need",
        why=(
            "Fast mode, US-only inference (1.1×) and requests over 200k input tokens (priced "
            "at the long-context tier on every token) each cost more than standard mode for "
            "the same tokens."
        ),
        summary=", ".join(
            f"{mode}: {counted(t.requests, 'request')}, {dollars(t.usd)} extra"
            for mode, t in per_mode.items()
        ),
        action=_premium_action(per_mode),
        method=(
            "Each premium request re-priced with the same price database in standard speed, "
            "global inference and, above 200k input, at the base tier (the request priced in "
            "pieces of at most 200k input); saving = the difference."
        ),
    )
