"""The ``subagent-share`` tip: subagents carrying much of the spend, on a cheaper model.

When subagents carry more than :data:`SUBAGENT_SHARE_MIN` of Claude Code spend, the
subagent re-pricings of ``cheaper-model`` get a tip of their own.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from tokenbuddy.core.money import dollars
from tokenbuddy.core.records import CLAUDE_CODE
from tokenbuddy.core.tips.model_switch import (
    HAIKU_MODEL,
    SONNET_MODEL,
    is_subagent,
    model_tally,
    subagent_target,
    switch_saving,
)
from tokenbuddy.core.tips.tip import EVIDENCE_SESSIONS, Tally, offer_tip
from tokenbuddy.core.wording import counted

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from tokenbuddy.core.records import UsageRecord
    from tokenbuddy.core.tips.tip import PricedRequest, Tip, TipContext

SUBAGENT_SHARE_MIN = 0.40
"""Subagents above this share of Claude Code spend get a tip of their own."""


def subagent_spend(requests: Iterable[PricedRequest]) -> tuple[float, float]:
    """(subagent spend, all Claude Code spend) over ``requests``."""
    subagent = total = 0.0
    for request in requests:
        if request.record.source != CLAUDE_CODE or request.cost_usd is None:
            continue
        total += request.cost_usd
        if is_subagent(request.record):
            subagent += request.cost_usd
    return subagent, total


def _agent_lines(ctx: TipContext, records: Iterable[UsageRecord]) -> list[str]:
    """Saving per (agent type, model), the largest first."""
    groups: dict[tuple[str, str, str], Tally] = defaultdict(Tally)
    for record in records:
        target = subagent_target(record)
        saving = switch_saving(ctx, record, target) if target else None
        if target and saving is not None and saving > 0:
            groups[(record.agent_type, record.model, target)].add(record, saving)
    ranked = sorted(groups.items(), key=lambda item: -item[1].usd)
    return [
        f"{agent} agents on {model}: {counted(t.requests, 'request')}, "
        f"{dollars(t.usd)} less on {target}"
        for (agent, model, target), t in ranked[:EVIDENCE_SESSIONS]
    ]


def subagent_share_tip(requests: Sequence[PricedRequest], ctx: TipContext) -> Tip | None:
    """Subagents carrying more than :data:`SUBAGENT_SHARE_MIN` of spend on a dear model."""
    subagent, total = subagent_spend(requests)
    if total <= 0 or subagent / total <= SUBAGENT_SHARE_MIN:
        return None
    helpers = [p.record for p in requests if subagent_target(p.record)]
    tally = model_tally(ctx, helpers)
    return offer_tip(
        ctx,
        tally,
        "subagent-share",
        title="Put subagents on a cheaper model",
        why=(
            f"Subagents did {subagent / total:.0%} of your Claude Code spend. Each starts a "
            "fresh context and many run in parallel, so their model choice weighs heavily; "
            "delegated search and implementation rarely needs the top model."
        ),
        summary=(
            f"Subagents: {dollars(subagent)} of {dollars(total)} Claude Code spend "
            f"({subagent / total:.0%})"
        ),
        action=(
            "Set `model: sonnet` (Explore-type agents: `model: haiku`) in the frontmatter of "
            ".claude/agents/<name>.md, or CLAUDE_CODE_SUBAGENT_MODEL in the env block of "
            "~/.claude/settings.json; ask for fewer parallel agents."
        ),
        method=(
            f"Subagent requests on Opus re-priced on {SONNET_MODEL}, Explore-type ones on "
            f"Sonnet on {HAIKU_MODEL}, with their own token counts at their own date, in "
            "standard speed on both sides, with the same price database; others (already on "
            "Haiku, /btw, compaction) are not counted."
        ),
        details=_agent_lines(ctx, helpers),
    )
