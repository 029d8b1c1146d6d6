"""The ``cheaper-model`` tip: routine Opus work, and subagents, on a cheaper model.

Main-thread Opus requests with at most :data:`ROUTINE_MAX_OUTPUT_TOKENS` output tokens
(thinking included: tool calls and short answers) re-priced on Sonnet; and, unless
``subagent-share`` lists them, subagent requests on Opus re-priced on Sonnet and Explore
subagents on Sonnet on Haiku. Only Claude Code requests: Codex never moves to Claude.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenbuddy.core.model_ids import claude_family
from tokenbuddy.core.tips.model_switch import (
    HAIKU_MODEL,
    SONNET_MODEL,
    model_tally,
    subagent_target,
)
from tokenbuddy.core.tips.tip import Tally, offer_tip
from tokenbuddy.core.wording import counted

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tokenbuddy.core.records import UsageRecord
    from tokenbuddy.core.tips.tip import PricedRequest, Tip, TipContext

ROUTINE_MAX_OUTPUT_TOKENS = 300
"""An Opus reply this short (thinking included) did no long reasoning: a tool call or a
short answer. A third of real Opus main-thread requests qualify."""


def _is_routine_opus(record: UsageRecord) -> bool:
    return (
        not record.is_sidechain
        and claude_family(record) == "opus"
        and record.output_tokens <= ROUTINE_MAX_OUTPUT_TOKENS
    )


def _routine_summary(routine: int, tally: Tally) -> str:
    """What cheaper-model counted: routine Opus requests, subagent requests, where."""
    summary = (
        f"{counted(routine, 'main-thread Opus request')} with at most "
        f"{ROUTINE_MAX_OUTPUT_TOKENS} output tokens"
    )
    if tally.requests > routine:
        helpers = counted(tally.requests - routine, "subagent request")
        summary += f", {helpers} (on Opus, or Explore agents on Sonnet)"
    sessions, projects = counted(len(tally.sessions), "session"), counted(tally.projects, "project")
    return f"{summary}, in {sessions} across {projects}"


def cheaper_model_tip(
    requests: Sequence[PricedRequest], ctx: TipContext, *, subagents: bool = True
) -> Tip | None:
    """Routine Opus work (and, with ``subagents``, subagent work) on a cheaper model."""
    records = [p.record for p in requests]
    tally = model_tally(ctx, (r for r in records if _is_routine_opus(r)))
    routine = tally.requests
    if subagents:
        tally.merge(model_tally(ctx, (r for r in records if subagent_target(r))))
    return offer_tip(
        ctx,
        tally,
        "cheaper-model",
        title="Use a cheaper model for routine work",
        why=(
            "Most of an agent session is tool calls and short answers. Opus requests that "
            f"replied in {ROUTINE_MAX_OUTPUT_TOKENS} tokens or fewer (thinking included) did no "
            "long reasoning, and Sonnet handles such steps at a fraction of Opus's price; "
            "subagents that search and read do fine a tier lower still."
        ),
        summary=_routine_summary(routine, tally),
        action=(
            'Start routine sessions with `/model sonnet` (or make it the default: "model": '
            '"sonnet" in ~/.claude/settings.json; `/model opusplan` keeps Opus for planning). '
            "For subagents, set `model: sonnet` (Explore-type: `model: haiku`) in the agent's "
            "frontmatter. Pick the model at the start: switching mid-session rewrites the cache."
        ),
        method=(
            f"Each counted request re-priced with its own token counts on {SONNET_MODEL} "
            f"(Explore subagents on Sonnet: on {HAIKU_MODEL}), at its own date and in standard "
            "speed on both sides, with the same price database; saving = its cost on its model "
            "− that cost. Assumes the same tokens (context, cache hits, output) on the cheaper "
            "model."
        ),
    )
