"""Re-pricing a request on a cheaper Claude model: which model, and what the switch saves.

Shared by the ``cheaper-model`` and ``subagent-share`` rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenbuddy.core.model_ids import claude_family
from tokenbuddy.core.tips.tip import Tally

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tokenbuddy.core.records import UsageRecord
    from tokenbuddy.core.tips.tip import TipContext

SONNET_MODEL = "claude-sonnet-4-6"
"""Opus requests are re-priced on this Sonnet ($3/$15 per MTok): what ``/model sonnet``
chose through 2026, and dearer than Sonnet 5, so the saving errs low."""
HAIKU_MODEL = "claude-haiku-4-5"
"""Explore subagents on Sonnet are re-priced on this Haiku ($1/$5), the model the built-in
Explore agent was made for (Haiku 5.5 is cheaper still, so the saving errs low)."""
EXPLORE_AGENTS = frozenset({"explore"})
"""Subagent types (lower case) that only search and read: fine on Haiku."""
FIXED_MODEL_AGENTS = frozenset({"aside_question", "compact"})
"""Side requests (``/btw``, compaction) that run on the session's model: no frontmatter."""


def is_subagent(record: UsageRecord) -> bool:
    """Subagent work whose model the user chooses (not ``/btw`` or compaction)."""
    return record.is_sidechain and record.agent_type not in FIXED_MODEL_AGENTS


def subagent_target(record: UsageRecord) -> str | None:
    """The cheaper model a subagent request is re-priced on, or None to leave it."""
    family = claude_family(record)
    if not is_subagent(record):
        return None
    if family == "opus":
        return SONNET_MODEL
    if family == "sonnet" and record.agent_type.lower() in EXPLORE_AGENTS:
        return HAIKU_MODEL
    return None


def switch_saving(ctx: TipContext, record: UsageRecord, model: str) -> float | None:
    """The model's share of a request's cost: both sides in standard speed."""
    standard = record._replace(speed="")
    return ctx.difference(standard, standard._replace(model=model))


def model_tally(ctx: TipContext, records: Iterable[UsageRecord]) -> Tally:
    """Savings of re-pricing each record on its cheaper model (subagent or routine Opus)."""
    tally = Tally()
    for record in records:
        target = subagent_target(record) if record.is_sidechain else SONNET_MODEL
        saving = switch_saving(ctx, record, target) if target else None
        if saving is not None and saving > 0:
            tally.add(record, saving)
    return tally
