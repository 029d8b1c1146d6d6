"""Re-pricing a request on a cheaper model of its vendor: which model, and what the switch
saves.

Claude Code's Opus work moves to Sonnet and its Explore subagents to Haiku; the routine
work of the agents that run any vendor's models (Gemini CLI, Copilot, OpenCode, Qwen
Code, Cline) moves within its model's family: Claude Opus to Sonnet, Gemini Pro to Flash,
GPT-5 to GPT-5 mini. Codex is left to its own defaults. Shared by the ``cheaper-model``
and ``subagent-share`` rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenbuddy.core.model_ids import claude_family
from tokenbuddy.core.records import CLAUDE_CODE, CODEX, CURSOR, CURSOR_LOCAL
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
GEMINI_FLASH_MODEL = "gemini-2.5-flash"
"""Gemini Pro requests before Gemini 3 are re-priced on this Flash ($0.30/$2.50)."""
GEMINI_3_FLASH_MODEL = "gemini-3-flash-preview"
"""Gemini 3 Pro requests are re-priced on Gemini 3 Flash ($0.50/$3)."""
GPT_MINI_MODEL = "gpt-5-mini"
"""GPT-5 family requests are re-priced on GPT-5 mini ($0.25/$2)."""
CODEX_MINI_MODEL = "gpt-5.1-codex-mini"
"""GPT-5 Codex models are re-priced on the Codex mini model ($0.25/$2)."""
OWN_FAMILY_RULES_EXCLUDED = frozenset({CLAUDE_CODE, CODEX, CURSOR, CURSOR_LOCAL})
"""Sources :func:`family_target` leaves alone: Claude Code has rules of its own, Codex
runs OpenAI's defaults, and Cursor's requests are priced by Cursor."""
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


def family_target(record: UsageRecord) -> str | None:
    """The cheaper model of the same family a request of an agent that runs any vendor's
    models is re-priced on (Opus to Sonnet, Gemini Pro to Flash, GPT-5 to its mini), or
    None for a model already cheap, unknown, or an agent with rules of its own."""
    if record.source in OWN_FAMILY_RULES_EXCLUDED:
        return None
    model = record.model.lower().rsplit("/", 1)[-1]
    if "claude" in model and "opus" in model:
        return SONNET_MODEL
    if model.startswith("gemini-") and "-pro" in model:
        return GEMINI_3_FLASH_MODEL if model.startswith("gemini-3") else GEMINI_FLASH_MODEL
    if model.startswith("gpt-5") and not any(cut in model for cut in ("mini", "nano")):
        return CODEX_MINI_MODEL if "codex" in model else GPT_MINI_MODEL
    return None


def switch_saving(ctx: TipContext, record: UsageRecord, model: str) -> float | None:
    """The model's share of a request's cost: both sides at list price, in standard speed
    (an agent's own billed figure says nothing of what another model would have cost)."""
    standard = record._replace(speed="", reported_cost_usd=None)
    return ctx.difference(standard, standard._replace(model=model))


def cheaper_target(record: UsageRecord) -> str | None:
    """The model a counted request is re-priced on: a subagent's, Claude Code's routine
    Opus on Sonnet, another agent's within its family."""
    if record.source != CLAUDE_CODE:
        return family_target(record)
    return subagent_target(record) if record.is_sidechain else SONNET_MODEL


def model_tally(ctx: TipContext, records: Iterable[UsageRecord]) -> Tally:
    """Savings of re-pricing each record on its cheaper model (subagent or routine work)."""
    tally = Tally()
    for record in records:
        target = cheaper_target(record)
        saving = switch_saving(ctx, record, target) if target else None
        if saving is not None and saving > 0:
            tally.add(record, saving)
    return tally
