"""Cursor's model names, mapped to the price database's ids.

Cursor names models its own way (``claude-4.5-sonnet``, ``claude-4.5-opus-high-thinking``,
``gpt-5-high``, ``default`` for Auto). Local estimates are priced at the list price of
the model Cursor sent the request to, found in two steps:

1. effort and mode suffixes (``-thinking``, ``-high``, ``-max``...) are dropped, as the
   list price does not depend on them (the extra thinking is billed as output tokens);
2. the remaining name is looked up in :data:`CURSOR_MODEL_ALIASES`.

A name not in the table stays unpriced: it is listed as such, never counted as $0.
Cursor's own models (``composer-1``, ``cheetah``) have no list price and are left out
on purpose.
"""

from __future__ import annotations

CURSOR_MODEL_ALIASES: dict[str, tuple[str, str]] = {
    # Cursor name: (price-database provider, price-database model id)
    "default": ("openai", "gpt-5"),
    "auto": ("openai", "gpt-5"),
    "claude-4.5-sonnet": ("anthropic", "claude-sonnet-4-5"),
    "claude-4.5-opus": ("anthropic", "claude-opus-4-5"),
    "claude-4.5-haiku": ("anthropic", "claude-haiku-4-5"),
    "claude-4.6-sonnet": ("anthropic", "claude-sonnet-4-6"),
    "claude-4.1-opus": ("anthropic", "claude-opus-4-1"),
    "claude-4-opus": ("anthropic", "claude-opus-4-0"),
    "claude-4-sonnet": ("anthropic", "claude-sonnet-4-0"),
    "claude-3.7-sonnet": ("anthropic", "claude-3-7-sonnet-latest"),
    "claude-3.5-sonnet": ("anthropic", "claude-3-5-sonnet-latest"),
    "gpt-5": ("openai", "gpt-5"),
    "gpt-5-codex": ("openai", "gpt-5"),
    "gpt-5-mini": ("openai", "gpt-5-mini"),
    "gpt-5.1": ("openai", "gpt-5.1"),
    "gpt-5.1-codex": ("openai", "gpt-5.1"),
    "gpt-5.2": ("openai", "gpt-5.2"),
    "gpt-4.1": ("openai", "gpt-4.1"),
    "o3": ("openai", "o3"),
    "gemini-2.5-pro": ("google", "gemini-2.5-pro"),
    "gemini-3-pro": ("google", "gemini-3-pro-preview"),
    "grok-code-fast-1": ("x-ai", "grok-code-fast-1"),
}
"""Cursor's model names (suffixes removed) and the price-database entry each one bills at.

``default`` is Cursor's Auto mode, which has no list price of its own: it is estimated at
gpt-5's, the closest published rate."""

EFFORT_SUFFIXES = ("-thinking", "-high", "-medium", "-low", "-max", "-fast", "-xhigh")
"""Suffixes naming an effort level or mode, not a different model."""


def base_name(model: str) -> str:
    """``claude-4.5-opus-high-thinking`` → ``claude-4.5-opus``: the name without its modes."""
    name = model.strip().lower()
    stripped = True
    while stripped:
        stripped = False
        for suffix in EFFORT_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                name = name.removesuffix(suffix)
                stripped = True
    return name


def price_id(model: str) -> tuple[str, str] | None:
    """The (provider, model id) a Cursor model name is priced as; None when unmapped."""
    return CURSOR_MODEL_ALIASES.get(base_name(model))
