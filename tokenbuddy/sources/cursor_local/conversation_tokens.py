"""Token figures of a conversation whose bubbles carry none.

Current Cursor builds often write ``tokenCount: {inputTokens: 0, outputTokens: 0}`` on
every bubble; the usable figures then live elsewhere, and what is there varies by build.
Whatever carries real numbers is read, in this order:

1. the conversation's own totals (``composerData``): an object under ``tokenCount``,
   ``tokenUsage``, ``usage`` or ``promptTokenBreakdown`` with input, output and cache
   counts (``inputTokens``/``input_tokens``/``promptTokens``, ``outputTokens``/
   ``completionTokens``, ``cacheReadTokens``, ``cacheWriteTokens``), or the same
   names at its top level. What the requests with real counts already hold is taken
   off, and the rest is shared evenly among the requests without counts;
2. else each request's context size when it was sent: the user bubble's
   ``contextWindowStatusAtCreation.tokensUsed`` (or ``contextTokensUsed``), its input;
3. else the conversation's ``contextTokensUsed`` (the context at its latest request),
   the input of its latest request without counts.

Requests filled in this way are estimates; the rest keep unknown tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TOTALS_OBJECTS = ("tokenCount", "tokenUsage", "usage", "promptTokenBreakdown")
INPUT_NAMES = ("inputTokens", "input_tokens", "promptTokens", "prompt_tokens")
OUTPUT_NAMES = ("outputTokens", "output_tokens", "completionTokens", "completion_tokens")
CACHE_READ_NAMES = ("cacheReadTokens", "cache_read_tokens", "cachedTokens", "cached_tokens")
CACHE_WRITE_NAMES = ("cacheWriteTokens", "cache_write_tokens", "cacheCreationTokens")
CONTEXT_STATUS = "contextWindowStatusAtCreation"
CONTEXT_USED = "contextTokensUsed"
_INT_LIMIT = 1 << 53


@dataclass(slots=True)
class Counts:
    """Input, output, cache-read and cache-write tokens."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    @property
    def total(self) -> int:
        """Every token counted."""
        return self.input + self.output + self.cache_read + self.cache_write

    def minus(self, other: Counts) -> Counts:
        """What is left of these counts once ``other`` is taken off (never below 0)."""
        return Counts(
            max(self.input - other.input, 0),
            max(self.output - other.output, 0),
            max(self.cache_read - other.cache_read, 0),
            max(self.cache_write - other.cache_write, 0),
        )

    def share(self, parts: int, index: int) -> Counts:
        """The ``index``-th of ``parts`` even shares (the last one takes the remainder)."""
        last = index == parts - 1

        def part(value: int) -> int:
            return value - (parts - 1) * (value // parts) if last else value // parts

        return Counts(
            part(self.input), part(self.output), part(self.cache_read), part(self.cache_write)
        )


def count(value: Any) -> int:
    """A token count from a stored value; 0 when it is not a plausible one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value) if 0 < value < _INT_LIMIT else 0


def _first(data: dict[str, Any], names: tuple[str, ...]) -> int:
    return next((count(data[n]) for n in names if count(data.get(n))), 0)


def counts_in(data: Any) -> Counts:
    """The counts an object holds under any of the known names (zeros when none)."""
    if not isinstance(data, dict):
        return Counts()
    return Counts(
        _first(data, INPUT_NAMES),
        _first(data, OUTPUT_NAMES),
        _first(data, CACHE_READ_NAMES),
        _first(data, CACHE_WRITE_NAMES),
    )


def conversation_totals(composer: dict[str, Any]) -> Counts:
    """The conversation's own token totals, from the first place holding real numbers."""
    for name in TOTALS_OBJECTS:
        found = counts_in(composer.get(name))
        if found.total:
            return found
    return counts_in(composer)


def request_context(bubble: dict[str, Any]) -> int:
    """The context size a user bubble records for its request (0 when none)."""
    status = bubble.get(CONTEXT_STATUS)
    used = count(status.get("tokensUsed")) if isinstance(status, dict) else 0
    return used or count(bubble.get(CONTEXT_USED))


def latest_context(composer: dict[str, Any]) -> int:
    """The context the conversation occupied at its latest request (0 when unknown)."""
    return count(composer.get(CONTEXT_USED))
