"""What both Copilot front ends share: model ids, counts, AI credits, and splitting a total.

GitHub bills Copilot in AI credits: one credit is one billion nano AI units (the
``totalNanoAiu`` of the CLI's events and the ``copilotUsageNanoAiu`` of VS Code's
chat results) and costs $0.01 (the Copilot SDK's generated session events,
github/copilot-sdk ``nodejs/src/generated/session-events.ts``: "AI credits (1 credit =
$0.01)"). Premium requests (the CLI's ``requests.cost``, VS Code's ``Nx`` multiplier)
are kept as billing units, not dollars: most of them fall inside a plan's allowance.
"""

from __future__ import annotations

from typing import Any

NANO_AIU_PER_CREDIT = 1_000_000_000
USD_PER_CREDIT = 0.01


def credits_usd(nano_aiu: float) -> float:
    """Dollars for an amount of nano AI units."""
    return nano_aiu / NANO_AIU_PER_CREDIT * USD_PER_CREDIT


def count(value: Any) -> int:
    """A token count from a JSON value: a non-negative int, 0 for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    return max(int(value), 0)


def amount(value: Any) -> float | None:
    """A non-negative number from a JSON value, None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return max(float(value), 0.0)


def model_id(raw: Any) -> str:
    """The model id as a price database knows it: lowercase, provider prefix dropped
    (``copilot/claude-sonnet-4.5`` -> ``claude-sonnet-4.5``); empty when absent."""
    if not isinstance(raw, str):
        return ""
    return raw.strip().rsplit("/", 1)[-1].lower()


def fresh_input(prompt: int, cache_read: int, cache_write: int) -> int:
    """Input tokens without the cache reads and writes a prompt count includes.

    Copilot reports OpenAI-style prompt counts (cached tokens included). When the cache
    figures exceed the prompt count the count cannot include them, so it is kept whole.
    """
    if prompt >= cache_read + cache_write:
        return prompt - cache_read - cache_write
    if prompt >= cache_read:
        return prompt - cache_read
    return prompt


def split_ints(total: int, weights: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (the last part takes the rounding);
    all of it in the last part when the weights are all zero."""
    weight = sum(weights)
    if weight <= 0:
        return [0] * (len(weights) - 1) + [total]
    parts = [total * share // weight for share in weights[:-1]]
    return [*parts, total - sum(parts)]


def split_floats(total: float, weights: list[int]) -> list[float]:
    """``total`` split in proportion to ``weights``, the parts summing to it exactly."""
    weight = sum(weights)
    if weight <= 0:
        return [0.0] * (len(weights) - 1) + [total]
    parts = [total * share / weight for share in weights[:-1]]
    return [*parts, total - sum(parts)]
