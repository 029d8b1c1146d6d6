"""One request's usage as Cline and its forks record it, in tokenbuddy's token meaning.

An ``api_req_started`` message's text is the JSON of ``ClineApiReqInfo``: ``tokensIn``,
``tokensOut``, ``cacheWrites``, ``cacheReads``, ``cost``, summed by the task loop from
the provider handler's ``usage`` chunks. What ``tokensIn`` means is the handler's
choice: the Anthropic, Bedrock, Vertex, Claude Code, OpenRouter and Cline handlers
report the uncached input (Anthropic's ``input_tokens``, or ``prompt_tokens`` less
``cached_tokens``), while the OpenAI-compatible handlers report ``prompt_tokens``,
which holds the cache reads and writes (Cline ``src/core/api/providers/openai.ts`` and
``openrouter.ts``). Roo Code and Kilo Code say which with ``apiProtocol``
(``anthropic`` or ``openai``) and price ``openai`` requests on ``tokensIn`` less both
cache counts (Roo ``src/shared/cost.ts``, ``calculateApiCostOpenAI``).

Cline's Gemini handler (``src/core/api/providers/gemini.ts``) reports the thinking tokens
as ``thoughtsTokenCount`` beside ``outputTokens`` (candidates only), and ``tokensOut`` does
not hold them: such a request's output is short by its thinking, which only its ``cost``
includes.

DeepSeek has no cache writes: both Cline's handler (``src/core/api/providers/deepseek.ts``)
and Roo's report its ``prompt_cache_miss_tokens`` as ``cacheWriteTokens``, so for a
DeepSeek model the "cache writes" are input read without the cache, and are counted so.
"""

from __future__ import annotations

from typing import Any, NamedTuple

ANTHROPIC = "anthropic"
OPENAI = "openai"
UNCACHED_INPUT_PROVIDERS = frozenset(
    {"anthropic", "bedrock", "claude-code", "cline", "minimax", "openrouter"}
)
"""Cline providers whose handlers report ``tokensIn`` without the cached part."""
CACHE_INCLUSIVE_PROVIDERS = frozenset({"openai"})
"""Cline's "OpenAI Compatible" provider: ``tokensIn`` is ``prompt_tokens``."""
COUNT_FIELDS = ("tokensIn", "tokensOut", "cacheWrites", "cacheReads")


class Usage(NamedTuple):
    """One request's counts in tokenbuddy's meaning (input without the cache)."""

    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    cost_usd: float | None

    @property
    def total(self) -> int:
        """Every token of the request; zero for a request that never got usage."""
        cache = self.cache_write_tokens + self.cache_read_tokens
        return self.input_tokens + self.output_tokens + cache


def counts_of(info: dict[str, Any]) -> tuple[int, int, int, int] | None:
    """(tokensIn, tokensOut, cacheWrites, cacheReads) as written, absent ones 0; None when
    one is present but not a non-negative number."""
    counts = []
    for field in COUNT_FIELDS:
        value = info.get(field, 0)
        if value is None:
            value = 0
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            return None
        counts.append(int(value))
    return counts[0], counts[1], counts[2], counts[3]


def cost_of(info: dict[str, Any]) -> float | None:
    """The extension's own figure for the request in USD; None when absent or invalid."""
    cost = info.get("cost")
    if isinstance(cost, bool) or not isinstance(cost, (int, float)) or cost < 0:
        return None
    return float(cost)


def protocol_of(info: dict[str, Any], provider: str, counts: tuple[int, int, int, int]) -> str:
    """Whether ``tokensIn`` excludes (``anthropic``) or holds (``openai``) the cache:
    the request's own ``apiProtocol``, else what its provider's handler reports, else
    what the counts allow (a cache-inclusive ``tokensIn`` is never below the cache
    counts; an Anthropic-style one, with the cache hit, nearly always is)."""
    declared = info.get("apiProtocol")
    if declared in (ANTHROPIC, OPENAI):
        return str(declared)
    if provider in UNCACHED_INPUT_PROVIDERS:
        return ANTHROPIC
    if provider in CACHE_INCLUSIVE_PROVIDERS:
        return OPENAI
    tokens_in, _out, cache_writes, cache_reads = counts
    cached = cache_writes + cache_reads
    return OPENAI if cached and tokens_in >= cached else ANTHROPIC


def usage_of(info: dict[str, Any], provider: str, model: str = "") -> Usage | None:
    """The request's usage, input without the cache; None when its counts are invalid."""
    counts = counts_of(info)
    if counts is None:
        return None
    tokens_in, tokens_out, cache_writes, cache_reads = counts
    if protocol_of(info, provider, counts) == OPENAI:
        tokens_in = max(0, tokens_in - cache_writes - cache_reads)
    if misses_as_writes(provider, model):
        tokens_in, cache_writes = tokens_in + cache_writes, 0
    return Usage(tokens_in, tokens_out, cache_writes, cache_reads, cost_of(info))


def misses_as_writes(provider: str, model: str) -> bool:
    """Whether the request's ``cacheWrites`` are DeepSeek's cache misses (uncached input)."""
    return provider == "deepseek" or "deepseek" in model


def model_id(raw: object) -> str:
    """A model id as the price database knows it: lower case, without a routing prefix
    (``anthropic/``) or Cline's ``:thinking`` variant suffix; empty when unknown."""
    if not isinstance(raw, str):
        return ""
    model = raw.strip().lower()
    if model.endswith(":thinking"):
        model = model.removesuffix(":thinking")
    return model.rsplit("/", 1)[-1]
