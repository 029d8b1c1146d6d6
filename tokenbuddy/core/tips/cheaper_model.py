"""The ``cheaper-model`` tip: routine work, and subagents, on a cheaper model.

Claude Code's main-thread Opus requests with at most :data:`ROUTINE_MAX_OUTPUT_TOKENS`
output tokens (thinking included: tool calls and short answers) re-priced on Sonnet;
unless ``subagent-share`` lists them, its subagent requests on Opus re-priced on Sonnet
and Explore subagents on Sonnet on Haiku. The other agents that run any vendor's models
(Gemini CLI, Copilot, OpenCode, Qwen Code, Cline): their requests as short as that on a
model with a cheaper sibling, re-priced on it (:func:`.model_switch.family_target`).
Codex never moves (to Claude or elsewhere).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenbuddy.core.agents import agent_name
from tokenbuddy.core.model_ids import claude_family
from tokenbuddy.core.tips.model_switch import (
    HAIKU_MODEL,
    SONNET_MODEL,
    family_target,
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


def _is_routine_elsewhere(record: UsageRecord) -> bool:
    """A short request of another agent on a model with a cheaper sibling."""
    return record.output_tokens <= ROUTINE_MAX_OUTPUT_TOKENS and family_target(record) is not None


SWITCH_MODEL = {
    "gemini-cli": "`gemini -m gemini-2.5-flash` (or `/model`; `model.name` in "
    "~/.gemini/settings.json)",
    "qwen-code": "`/model` (or `model.name` in ~/.qwen/settings.json)",
    "copilot": "`/model` in the Copilot CLI, or the model picker in Copilot Chat",
    "opencode": '`/models` (or `"model"` in opencode.json; a cheaper `small_model` too)',
    "cline": "the API configuration's model (Plan and Act can use different models: keep "
    "the dear one for Plan)",
}
"""How each agent that runs any vendor's models is switched to another model."""


def _routine_summary(routine: int, elsewhere: int, tally: Tally) -> str:
    """What cheaper-model counted: routine Opus requests, other agents' routine requests,
    subagent requests, where."""
    parts = []
    if routine:
        parts.append(
            f"{counted(routine, 'main-thread Opus request')} with at most "
            f"{ROUTINE_MAX_OUTPUT_TOKENS} output tokens"
        )
    if elsewhere:
        parts.append(
            f"{counted(elsewhere, 'request')} of other agents with at most "
            f"{ROUTINE_MAX_OUTPUT_TOKENS} output tokens on a model with a cheaper sibling"
        )
    helpers = tally.requests - routine - elsewhere
    if helpers:
        parts.append(
            f"{counted(helpers, 'subagent request')} (on Opus, or Explore agents on Sonnet)"
        )
    summary = ", ".join(parts)
    sessions, projects = counted(len(tally.sessions), "session"), counted(tally.projects, "project")
    return f"{summary}, in {sessions} across {projects}"


CLAUDE_CODE_ACTION = (
    'Start routine sessions with `/model sonnet` (or make it the default: "model": '
    '"sonnet" in ~/.claude/settings.json; `/model opusplan` keeps Opus for planning). '
    "For subagents, set `model: sonnet` (Explore-type: `model: haiku`) in the agent's "
    "frontmatter."
)


def _action(*, claude: bool, agents: Sequence[str]) -> str:
    """How to switch, for Claude Code when its requests were counted and for each other
    agent counted."""
    steps = [CLAUDE_CODE_ACTION] if claude else []
    steps += [
        f"{agent_name(agent)}: switch with {SWITCH_MODEL[agent]}."
        for agent in agents
        if agent in SWITCH_MODEL
    ]
    steps.append("Pick the model at the start: switching mid-session rewrites the cache.")
    return " ".join(steps)


def cheaper_model_tip(
    requests: Sequence[PricedRequest], ctx: TipContext, *, subagents: bool = True
) -> Tip | None:
    """Routine Opus work (and, with ``subagents``, subagent work) on a cheaper model."""
    records = [p.record for p in requests]
    tally = model_tally(ctx, (r for r in records if _is_routine_opus(r)))
    routine = tally.requests
    others = [r for r in records if _is_routine_elsewhere(r)]
    tally.merge(model_tally(ctx, others))
    elsewhere = tally.requests - routine
    if subagents:
        tally.merge(model_tally(ctx, (r for r in records if subagent_target(r))))
    agents = sorted({r.source for r in others})
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
        summary=_routine_summary(routine, elsewhere, tally),
        action=_action(claude=tally.requests > elsewhere, agents=agents),
        method=(
            f"Each counted request re-priced with its own token counts on {SONNET_MODEL} "
            f"(Explore subagents on Sonnet: on {HAIKU_MODEL}; other agents' requests on their "
            "model's cheaper sibling: Gemini Pro on Flash, GPT-5 on its mini), at its own "
            "date and in standard "
            "speed on both sides, with the same price database; saving = its cost on its model "
            "− that cost. Assumes the same tokens (context, cache hits, output) on the cheaper "
            "model."
        ),
    )
