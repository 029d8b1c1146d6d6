"""Cursor's model names, name by name: the price each one gets."""

from __future__ import annotations

import pytest

from tokenbuddy.core.cursor_models import (
    CURSOR_MODEL_ALIASES,
    CURSOR_OWN_PRICES,
    CURSOR_UNPRICED,
    base_name,
    own_model,
    price_id,
)
from tokenbuddy.core.pricing import PriceBook
from tokenbuddy.core.records import CURSOR, CURSOR_LOCAL, UsageRecord

NAMES = {
    "claude-4-sonnet-thinking": ("anthropic", "claude-sonnet-4-0"),
    "claude-4.5-sonnet-thinking": ("anthropic", "claude-sonnet-4-5"),
    "claude-4.6-opus-max-thinking": ("anthropic", "claude-opus-4-6"),
    "claude-4.6-sonnet-medium-thinking": ("anthropic", "claude-sonnet-4-6"),
    "claude-opus-4-7-thinking-xhigh": ("anthropic", "claude-opus-4-7"),
    "claude-4.5-haiku-thinking": ("anthropic", "claude-haiku-4-5"),
    "claude-3.7-sonnet-thinking": ("anthropic", "claude-3-7-sonnet-latest"),
    "claude-4.5-opus-high-thinking": ("anthropic", "claude-opus-4-5"),
    "gpt-5-high": ("openai", "gpt-5"),
    "gpt-5-fast": ("openai", "gpt-5"),
    "gpt-5.1-codex-high-fast": ("openai", "gpt-5.1"),
    "gpt-5.3-codex-xhigh-fast": ("openai", "gpt-5.3-codex"),
    "gpt-5.5-medium": ("openai", "gpt-5.5"),
    "gemini-2.5-pro-preview-05-06": ("google", "gemini-2.5-pro"),
    "gemini-3-pro-preview": ("google", "gemini-3-pro-preview"),
    "gemini-3.1-pro": ("google", "gemini-3.1-pro-preview"),
    "grok-code-fast-1": ("x-ai", "grok-code-fast-1"),
}


def record(model: str, source: str = CURSOR) -> UsageRecord:
    return UsageRecord(
        "k", source, 1_772_000_000_000, "", "", model, 1_000_000, 1_000_000, 0, 0, 0,
        0, 0, "", "", False, "", "",
    )  # fmt: skip


@pytest.mark.parametrize(("name", "expected"), sorted(NAMES.items()))
def test_each_export_name_maps_to_a_listed_price(name: str, expected: tuple[str, str]) -> None:
    assert price_id(name) == expected
    cost = PriceBook().cost(record(name))
    assert cost is not None and cost > 0


@pytest.mark.parametrize("alias", sorted(CURSOR_MODEL_ALIASES))
def test_every_alias_is_in_the_price_database(alias: str) -> None:
    cost = PriceBook().cost(record(alias))
    assert cost is not None and cost > 0


@pytest.mark.parametrize(
    ("name", "input_usd", "output_usd"),
    [
        ("auto", 1.25, 6.00),
        ("default", 1.25, 6.00),
        ("composer-1", 1.25, 10.00),
        ("composer-2", 0.50, 2.50),
        ("composer-2-fast", 1.50, 7.50),
    ],
)
def test_cursors_own_models_at_cursors_prices(
    name: str, input_usd: float, output_usd: float
) -> None:
    book = PriceBook()
    assert book.cost(record(name)) == pytest.approx(input_usd + output_usd)
    assert book.cost(record(name, CURSOR_LOCAL)) == pytest.approx(input_usd + output_usd)
    assert own_model(name) == name and price_id(name) is None


def test_fast_composer_is_not_the_regular_one() -> None:
    assert base_name("composer-2-fast") == "composer-2"
    assert own_model("composer-2-fast") == "composer-2-fast"
    assert own_model("composer-2-thinking") == "composer-2"


@pytest.mark.parametrize("name", [*sorted(CURSOR_UNPRICED), "some-future-model"])
def test_unpublished_prices_are_unpriced_never_zero(name: str) -> None:
    assert name not in CURSOR_OWN_PRICES
    assert PriceBook().cost(record(name)) is None
    assert PriceBook().cost(record(name, CURSOR_LOCAL)) is None


def test_a_billed_figure_wins_over_the_list_price() -> None:
    billed = record("claude-4.5-sonnet")._replace(reported_cost_usd=0.0)
    assert PriceBook().cost(billed) == 0.0
