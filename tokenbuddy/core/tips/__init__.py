"""Money-saving tips: what the user's own requests would have cost done differently.

Every tip is a counterfactual, never a guess: real requests from the ledger,
changed in one respect (another model, a 5-minute cache, standard mode, a
shorter context...) and priced again with the same price database through a
``reprice`` callable (:meth:`tokenbuddy.core.pricing.PriceBook.cost`). The
difference over the window is scaled to a month: ``saving * 30 / window_days``.

One module per tip, by stable id, each documenting what it counts:
``cheaper-model`` (:mod:`~tokenbuddy.core.tips.cheaper_model`), ``subagent-share``
(:mod:`~tokenbuddy.core.tips.subagent_share`), ``cache-ttl``
(:mod:`~tokenbuddy.core.tips.cache_ttl`), ``cache-health``
(:mod:`~tokenbuddy.core.tips.cache_health`), ``premium-modes``
(:mod:`~tokenbuddy.core.tips.premium_modes`), ``draft-in-free-chat``
(:mod:`~tokenbuddy.core.tips.draft_in_free_chat`) and ``idle-context``
(:mod:`~tokenbuddy.core.tips.idle_context`). The model they share (:class:`Tip`,
:class:`TipContext`, :class:`PricedRequest`, the tally) is in
:mod:`~tokenbuddy.core.tips.tip`.

Tips are computed independently: where two touch the same request, their
savings overlap and do not add up. A tip saving a cent a month or less is not
listed, and no tip suggests what is already in use. Pure: no clock, files or env.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenbuddy.core.tips.cache_health import cache_health_tip
from tokenbuddy.core.tips.cache_ttl import cache_ttl_tip
from tokenbuddy.core.tips.cheaper_model import cheaper_model_tip
from tokenbuddy.core.tips.draft_in_free_chat import draft_in_free_chat_tip
from tokenbuddy.core.tips.idle_context import idle_context_tip
from tokenbuddy.core.tips.premium_modes import premium_modes_tip
from tokenbuddy.core.tips.subagent_share import subagent_share_tip
from tokenbuddy.core.tips.tip import TIP_IDS, PricedRequest, Tip, TipContext, TipId

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from tokenbuddy.core.records import PromptMark, UsageRecord

__all__ = ["TIP_IDS", "PricedRequest", "Tip", "TipContext", "TipId", "find_tips"]


def find_tips(
    requests: Sequence[PricedRequest],
    prompts: Sequence[PromptMark],
    *,
    now_ms: int,
    window_days: float,
    reprice: Callable[[UsageRecord], float | None],
) -> list[Tip]:
    """Every tip worth more than a cent a month, the largest saving first.

    ``requests`` and ``prompts`` are the window's (``window_days`` up to ``now_ms``);
    ``reprice`` prices a counterfactual request with the ledger's price database.
    """
    if window_days <= 0:
        raise ValueError("window_days must be positive")
    ctx = TipContext(now_ms, window_days, reprice)
    priced = [p for p in requests if p.cost_usd is not None]
    share = subagent_share_tip(priced, ctx)
    found = [
        share,
        cheaper_model_tip(priced, ctx, subagents=share is None),
        cache_ttl_tip(priced, ctx),
        cache_health_tip(priced, ctx),
        premium_modes_tip(priced, ctx),
        draft_in_free_chat_tip(priced, prompts, ctx),
        idle_context_tip(priced, ctx),
    ]
    return sorted((t for t in found if t), key=lambda t: (-t.saving_usd_per_month, t.id))
