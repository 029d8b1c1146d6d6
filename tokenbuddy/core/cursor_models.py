"""Cursor's model names, mapped to a price.

Cursor names models its own way (``claude-4.5-sonnet``, ``claude-4.6-opus-max-thinking``,
``gpt-5.1-codex-high-fast``, ``default`` for Auto). A request is priced in three steps:

1. Cursor's own models (:data:`CURSOR_OWN_PRICES`, looked up by the full name first, as
   ``composer-2-fast`` costs more than ``composer-2``) take Cursor's published per-token
   prices;
2. otherwise the suffixes naming thinking, effort, Max Mode or fast
   (:data:`EFFORT_SUFFIXES`) are dropped, as the list price does not depend on them
   (thinking is billed as output tokens; Max Mode's surcharge is Cursor's, not the
   model's list price);
3. the remaining name is looked up in :data:`CURSOR_MODEL_ALIASES`, the price database's
   provider and model id.

A name found in neither table stays unpriced: it is listed as such, never counted as $0.
Cursor's own models without a published price (``composer-1.5``,
``code-supernova-1-million``) are in :data:`CURSOR_UNPRICED` and stay unpriced too.
"""

from __future__ import annotations

from typing import Any

CURSOR_MODEL_ALIASES: dict[str, tuple[str, str]] = {
    # Cursor name (suffixes removed): (price-database provider, price-database model id)
    "claude-3.5-sonnet": ("anthropic", "claude-3-5-sonnet-latest"),
    "claude-3.7-sonnet": ("anthropic", "claude-3-7-sonnet-latest"),
    "claude-4-sonnet": ("anthropic", "claude-sonnet-4-0"),
    "claude-4-opus": ("anthropic", "claude-opus-4-0"),
    "claude-4.1-opus": ("anthropic", "claude-opus-4-1"),
    "claude-4.5-sonnet": ("anthropic", "claude-sonnet-4-5"),
    "claude-4.5-opus": ("anthropic", "claude-opus-4-5"),
    "claude-4.5-haiku": ("anthropic", "claude-haiku-4-5"),
    "claude-4.6-sonnet": ("anthropic", "claude-sonnet-4-6"),
    "claude-4.6-opus": ("anthropic", "claude-opus-4-6"),
    "claude-sonnet-4-5": ("anthropic", "claude-sonnet-4-5"),
    "claude-sonnet-4-6": ("anthropic", "claude-sonnet-4-6"),
    "claude-opus-4-5": ("anthropic", "claude-opus-4-5"),
    "claude-opus-4-6": ("anthropic", "claude-opus-4-6"),
    "claude-opus-4-7": ("anthropic", "claude-opus-4-7"),
    "claude-4.7-opus": ("anthropic", "claude-opus-4-7"),
    "gpt-4.1": ("openai", "gpt-4.1"),
    "o3": ("openai", "o3"),
    "gpt-5": ("openai", "gpt-5"),
    "gpt-5-codex": ("openai", "gpt-5"),
    "gpt-5-mini": ("openai", "gpt-5-mini"),
    "gpt-5.1": ("openai", "gpt-5.1"),
    "gpt-5.1-codex": ("openai", "gpt-5.1"),
    "gpt-5.1-codex-max": ("openai", "gpt-5.1"),
    "gpt-5.1-codex-mini": ("openai", "gpt-5.1-codex-mini"),
    "gpt-5.2": ("openai", "gpt-5.2"),
    "gpt-5.2-codex": ("openai", "gpt-5.2"),
    "gpt-5.3-codex": ("openai", "gpt-5.3-codex"),
    "gpt-5.4": ("openai", "gpt-5.4"),
    "gpt-5.5": ("openai", "gpt-5.5"),
    "gemini-2.5-pro": ("google", "gemini-2.5-pro"),
    "gemini-2.5-pro-preview-05-06": ("google", "gemini-2.5-pro"),
    "gemini-2.5-flash": ("google", "gemini-2.5-flash"),
    "gemini-3-pro": ("google", "gemini-3-pro-preview"),
    "gemini-3-pro-preview": ("google", "gemini-3-pro-preview"),
    "gemini-3-flash": ("google", "gemini-3-flash-preview"),
    "gemini-3.1-pro": ("google", "gemini-3.1-pro-preview"),
    "gemini-3.1-pro-preview": ("google", "gemini-3.1-pro-preview"),
    "grok-code-fast-1": ("x-ai", "grok-code-fast-1"),
    "kimi-k2": ("moonshotai", "kimi-k2"),
}
"""Cursor's model names (suffixes removed) and the price-database entry each one bills at."""

_PER_MILLION = 1e-6
CURSOR_OWN_PRICES: dict[str, tuple[float, float, float, float]] = {
    # name: (input, cache write, cache read, output), USD per 1M tokens
    "auto": (1.25, 1.25, 0.25, 6.00),
    "default": (1.25, 1.25, 0.25, 6.00),
    "composer-1": (1.25, 1.25, 0.125, 10.00),
    "composer-2": (0.50, 0.50, 0.20, 2.50),
    "composer-2-fast": (1.50, 1.50, 0.35, 7.50),
}
"""Cursor's own models at Cursor's published per-token rates (its Models & Pricing page):
input and cache write share one rate ("Input + Cache Write"). ``default`` is the name
Cursor's local store gives Auto."""

CURSOR_UNPRICED = frozenset({"composer-1.5", "code-supernova-1-million", "cheetah"})
"""Cursor's own models with no published per-token price: unpriced, never $0."""

EFFORT_SUFFIXES = ("-thinking", "-high", "-xhigh", "-medium", "-low", "-max", "-fast")
"""Suffixes naming thinking, an effort level, Max Mode or fast, not a different model."""


def base_name(model: str) -> str:
    """``claude-4.6-opus-max-thinking`` → ``claude-4.6-opus``: the name without its modes."""
    name = model.strip().lower()
    stripped = True
    while stripped:
        stripped = False
        for suffix in EFFORT_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                name = name.removesuffix(suffix)
                stripped = True
    return name


def own_model(model: str) -> str | None:
    """The entry of :data:`CURSOR_OWN_PRICES` a name bills at (full name first); None if
    it is not one of Cursor's own priced models."""
    name = model.strip().lower()
    if name in CURSOR_OWN_PRICES:
        return name
    base = base_name(name)
    return base if base in CURSOR_OWN_PRICES else None


def own_schedule(model: str) -> dict[str, Any] | None:
    """A Cursor model's own price, as :meth:`PriceSchedule.to_json` writes a schedule (one
    period from 1970 on, one tier); None when the name is not one of Cursor's priced models."""
    name = own_model(model)
    if name is None:
        return None
    price_in, write, read, out = (rate * _PER_MILLION for rate in CURSOR_OWN_PRICES[name])
    tier = [-1, [price_in, write, write, read, out, 0.0]]
    return {"model_id": f"cursor/{name}", "periods": [[0, [tier]]]}


def price_id(model: str) -> tuple[str, str] | None:
    """The (provider, model id) a Cursor model name is priced as in the price database;
    None when unmapped (Cursor's own models are priced by :func:`own_schedule` instead)."""
    name = model.strip().lower()
    if name in CURSOR_MODEL_ALIASES:
        return CURSOR_MODEL_ALIASES[name]
    return CURSOR_MODEL_ALIASES.get(base_name(name))
