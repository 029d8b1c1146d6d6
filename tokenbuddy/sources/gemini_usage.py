"""Gemini API usage counts into tokenbuddy's token meaning, shared by Gemini CLI and Qwen Code.

Both agents record a model call's usage in the Gemini API's
``GenerateContentResponseUsageMetadata`` terms (Gemini CLI copies them into its own
``tokens`` object, Qwen Code keeps ``usageMetadata`` as is):

- ``promptTokenCount`` (Gemini CLI ``tokens.input``): the whole prompt, cached tokens
  *included* (the Gemini API documents it as the total effective prompt size even when
  cached content is used); Qwen Code's OpenAI and Anthropic converters also fold the
  cached part into it (``packages/core/src/core/openaiContentGenerator/converter.ts``,
  ``anthropicContentGenerator/usage.ts`` in QwenLM/qwen-code);
- ``cachedContentTokenCount`` (``tokens.cached``): the cached part of the prompt;
- ``candidatesTokenCount`` (``tokens.output``): the answer;
- ``thoughtsTokenCount`` (``tokens.thoughts``): thinking, billed as output;
- ``toolUsePromptTokenCount`` (``tokens.tool``): the prompt of built-in tools (search,
  code execution), billed as input and *not* part of ``promptTokenCount``;
- ``totalTokenCount`` (``tokens.total``): prompt + candidates + tool prompt + thoughts.

Whether the thoughts are inside the candidates depends on who produced the numbers:
the Gemini API counts them apart, while Qwen Code's OpenAI converter passes
``completion_tokens`` (reasoning included) as the candidates and the reasoning part as
the thoughts. The total tells them apart: when it covers prompt + candidates + thoughts,
the thoughts were apart; when it only covers prompt + candidates, they were inside.
Without a total, each source says which it assumes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

ABORTED_CALL = "aborted call with no usage"
USAGE_FIELDS = (
    "promptTokenCount",
    "candidatesTokenCount",
    "cachedContentTokenCount",
    "thoughtsTokenCount",
    "toolUsePromptTokenCount",
    "totalTokenCount",
)
"""The usage metadata's counts, in the order :func:`token_counts` takes them."""
"""A model call whose counts are all zero: nothing was billed."""


class TokenCounts(NamedTuple):
    """One call's tokens in tokenbuddy's meaning (see :mod:`tokenbuddy.core.records`)."""

    input_tokens: int
    """Uncached prompt, tool-use prompt included."""
    output_tokens: int
    """Answer plus thinking."""
    cache_read_tokens: int
    reasoning_tokens: int

    @property
    def is_empty(self) -> bool:
        """True for a call that carried no tokens at all (aborted before any usage)."""
        return not (self.input_tokens or self.output_tokens or self.cache_read_tokens)


def count(value: Any) -> int | None:
    """A token count: a non-negative int (or integral float); 0 when absent (None or a
    missing key); None when it is something else (not a count)."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return None


def token_counts(raw: tuple[Any, ...], *, thoughts_apart: bool) -> TokenCounts | None:
    """Convert one call's Gemini-style counts ``(prompt, candidates, cached, thoughts,
    tool, total)``; None when any of them is not a count.

    ``thoughts_apart`` is what to assume when no total says whether the thoughts were
    counted apart from the candidates (see the module docstring).
    """
    values = [count(v) for v in raw]
    if len(values) != len(USAGE_FIELDS):
        return None
    if any(v is None for v in values):
        return None
    prompt_n, candidates_n, cached_n, thoughts_n, tool_n, total_n = (int(v or 0) for v in values)
    cached_n = min(cached_n, prompt_n)
    if thoughts_n and total_n:
        thoughts_apart = total_n >= prompt_n + candidates_n + thoughts_n
    output = candidates_n + thoughts_n if thoughts_apart else max(candidates_n, thoughts_n)
    return TokenCounts(prompt_n - cached_n + tool_n, output, cached_n, min(thoughts_n, output))


RUNTIME_PREFIX = "$runtime|"
"""Qwen Code's runtime model snapshot ids, ``$runtime|<auth type>|<model id>``
(``packages/core/src/utils/runtimeModelPrefix.ts`` in QwenLM/qwen-code)."""


def model_id(raw: Any) -> str:
    """The model id as a price database knows it: lowercase, without a provider or API
    path prefix (``models/gemini-2.5-pro``, ``qwen/qwen3-coder-plus``) or Qwen Code's
    runtime snapshot prefix (``$runtime|openai|qwen3-coder-plus``); "" when absent."""
    if not isinstance(raw, str):
        return ""
    model = raw.strip()
    while model.startswith(RUNTIME_PREFIX) and model.count("|") >= 2:
        model = model.split("|", 2)[2]
    return model.rsplit("/", 1)[-1].lower()
