"""The fast price schedules agree with genai-prices' own calc_price, request by request."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from genai_prices import Usage, calc_price

from tokenbuddy.core.price_sql import cost_sql
from tokenbuddy.core.pricing import PriceBook, PriceSchedule, build_schedule, geo_multiplier
from tokenbuddy.core.records import CLAUDE_CODE, CODEX, UsageRecord

if TYPE_CHECKING:
    from pathlib import Path

MODELS = [
    ("claude-opus-4-6", CLAUDE_CODE),
    ("claude-sonnet-4-5-20250929", CLAUDE_CODE),
    ("claude-sonnet-4-20250514", CLAUDE_CODE),
    ("claude-opus-4-1-20250805", CLAUDE_CODE),
    ("claude-haiku-4-5-20251001", CLAUDE_CODE),
    ("gpt-5.4", CODEX),
    ("gpt-5.1-codex-mini", CODEX),
]


def record(model: str, source: str = CLAUDE_CODE, *, ts: datetime, **tokens: int) -> UsageRecord:
    fields = {
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_write_5m_tokens": 0,
        "cache_write_1h_tokens": 0,
        "cache_read_tokens": 0,
        "web_search_requests": 0,
    } | tokens
    return UsageRecord(
        "k",
        source,
        int(ts.timestamp() * 1000),
        "s",
        "/p",
        model,
        fields["input_tokens"],
        fields["output_tokens"],
        fields["cache_write_5m_tokens"],
        fields["cache_write_1h_tokens"],
        fields["cache_read_tokens"],
        0,
        fields["web_search_requests"],
        "",
        "",
        False,
        "",
        "",
    )


def reference_cost(r: UsageRecord) -> float:
    writes = r.cache_write_5m_tokens + r.cache_write_1h_tokens
    usage = Usage(
        input_tokens=r.input_tokens + writes + r.cache_read_tokens,
        cache_read_tokens=r.cache_read_tokens,
        cache_write_tokens=writes,
        cache_write_5m_tokens=r.cache_write_5m_tokens,
        cache_write_1h_tokens=r.cache_write_1h_tokens,
        output_tokens=r.output_tokens,
    )
    provider = "anthropic" if r.source == CLAUDE_CODE else "openai"
    moment = datetime.fromtimestamp(r.ts_ms / 1000, UTC)
    return float(
        calc_price(usage, r.model, provider_id=provider, genai_request_timestamp=moment).total_price
    )


def test_random_requests_match_calc_price_to_the_last_digit() -> None:
    rng = random.Random(7)
    book = PriceBook()
    for _ in range(600):
        model, source = rng.choice(MODELS)
        moment = datetime.fromtimestamp(rng.randint(1_735_689_600, 1_790_000_000), UTC)
        counts = [rng.choice([0, rng.randint(0, 400_000)]) for _ in range(5)]
        if source == CODEX:
            counts[2] = counts[3] = 0
        r = record(
            model,
            source,
            ts=moment,
            input_tokens=counts[0],
            output_tokens=counts[1],
            cache_write_5m_tokens=counts[2],
            cache_write_1h_tokens=counts[3],
            cache_read_tokens=counts[4],
        )
        assert book.cost(r) == pytest.approx(reference_cost(r), rel=1e-12, abs=1e-12)


def test_one_hour_cache_writes_cost_twice_input_and_five_minute_ones_1_25x() -> None:
    book = PriceBook()
    moment = datetime(2025, 10, 1, tzinfo=UTC)
    five = book.cost(record("claude-opus-4-1-20250805", ts=moment, cache_write_5m_tokens=1_000_000))
    hour = book.cost(record("claude-opus-4-1-20250805", ts=moment, cache_write_1h_tokens=1_000_000))
    assert five == pytest.approx(18.75)
    assert hour == pytest.approx(30.0)


def test_the_documented_opus_4_1_example_prices_to_the_cent_fraction() -> None:
    moment = datetime(2025, 10, 1, tzinfo=UTC)
    r = record(
        "claude-opus-4-1",
        ts=moment,
        input_tokens=3,
        cache_write_1h_tokens=10816,
        cache_read_tokens=11327,
        output_tokens=138,
    )
    assert PriceBook().cost(r) == pytest.approx(0.351865, abs=1e-6)


def test_long_context_tier_prices_every_token_above_the_threshold() -> None:
    """Sonnet 4.5 over 200k total input pays $6/$22.50 on all of it (cliff rule), not $3/$15."""
    moment = datetime(2025, 10, 1, tzinfo=UTC)
    below = record("claude-sonnet-4-5", ts=moment, input_tokens=199_000, output_tokens=3_000)
    above = record("claude-sonnet-4-5", ts=moment, input_tokens=215_000, output_tokens=3_000)
    book = PriceBook()
    assert book.cost(below) == pytest.approx(199_000 * 3e-6 + 3_000 * 15e-6)
    assert book.cost(above) == pytest.approx(215_000 * 6e-6 + 3_000 * 22.5e-6)


def test_dated_price_change_applies_by_request_timestamp() -> None:
    """Sonnet 4.6 dropped its >200k premium on 2026-03-13."""
    before = record(
        "claude-sonnet-4-6",
        ts=datetime(2026, 3, 1, tzinfo=UTC),
        input_tokens=215_000,
        output_tokens=3_000,
    )
    after = before._replace(ts_ms=int(datetime(2026, 4, 1, tzinfo=UTC).timestamp() * 1000))
    book = PriceBook()
    assert book.cost(before) == pytest.approx(215_000 * 6e-6 + 3_000 * 22.5e-6)
    assert book.cost(after) == pytest.approx(215_000 * 3e-6 + 3_000 * 15e-6)


def test_unknown_model_is_unpriced_not_free() -> None:
    r = record("totally-new-model-9", ts=datetime(2026, 1, 1, tzinfo=UTC), input_tokens=10)
    assert PriceBook().cost(r) is None


def test_fast_mode_uses_the_premium_variant_where_the_model_has_one() -> None:
    moment = datetime(2026, 11, 1, tzinfo=UTC)
    book = PriceBook()
    standard = record("claude-opus-5", ts=moment, output_tokens=1_000_000)
    assert book.cost(standard) == pytest.approx(25.0)
    assert book.cost(standard._replace(speed="fast")) == pytest.approx(50.0)
    no_fast_variant = record("claude-opus-4-6", ts=moment, output_tokens=1_000_000)
    assert book.cost(no_fast_variant._replace(speed="fast")) == book.cost(no_fast_variant)


@pytest.mark.parametrize(
    ("model", "geo", "expected"),
    [
        ("claude-opus-4-6", "us", 1.1),
        ("claude-sonnet-4-7-20261001", "us", 1.1),
        ("claude-opus-5", "us", 1.1),
        ("claude-sonnet-4-5-20250929", "us", 1.0),
        ("claude-opus-4-6", "", 1.0),
        ("gpt-5.4", "us", 1.0),
    ],
)
def test_us_inference_premium_applies_from_claude_4_6(
    model: str, geo: str, expected: float
) -> None:
    r = record(model, ts=datetime(2026, 11, 1, tzinfo=UTC))._replace(inference_geo=geo)
    assert geo_multiplier(r) == expected


def test_schedules_round_trip_through_json() -> None:
    schedule = build_schedule("claude-sonnet-4-6", "anthropic", "")
    assert schedule is not None
    assert PriceSchedule.from_json(schedule.to_json()) == schedule


def test_cached_schedules_are_used_without_rebuilding() -> None:
    schedule = build_schedule("claude-haiku-4-5", "anthropic", "")
    book = PriceBook({("claude-haiku-4-5", "anthropic", ""): schedule})
    r = record("claude-haiku-4-5", ts=datetime(2026, 1, 1, tzinfo=UTC), output_tokens=1_000_000)
    assert book.cost(r) == pytest.approx(5.0)
    assert book.new_schedules == {}


def test_prices_resolve_with_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pricing uses the database bundled with genai-prices; any connection attempt fails."""
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pricing tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    schedule = build_schedule("claude-sonnet-4-5", "anthropic", "")
    assert schedule is not None
    assert build_schedule("gpt-5.4", "openai", "") is not None


def test_the_sql_price_expression_equals_the_python_price_bit_for_bit(tmp_path: Path) -> None:
    """Bulk loads price rows in SQL at merge time: the same doubles as PriceBook.cost."""
    from tokenbuddy.store.ledger import RECORD_COLUMNS, Ledger, request_row

    rng = random.Random(11)
    models = [
        ("claude-code", "claude-sonnet-4-5-20250929"),
        ("claude-code", "claude-opus-4-6"),
        ("claude-code", "claude-opus-4-1-20250805"),
        ("claude-code", "claude-haiku-4-5-20251001"),
        ("claude-code", "claude-mystery-9"),
        ("codex", "gpt-5"),
        ("codex", "gpt-5.4"),
        ("gemini-cli", "gemini-2.5-pro"),
        ("opencode", "claude-sonnet-4-5"),
        ("copilot", "claude-sonnet-4.5"),
        ("copilot", "gpt-5-mini"),
        ("copilot", "copilot-mystery-1"),
    ]
    records = []
    for number in range(3000):
        source, model = rng.choice(models)
        big = rng.random() < 0.2
        tokens = (
            rng.randint(0, 250_000 if big else 5000),
            rng.randint(0, 9000),
            rng.randint(0, 120_000),
            rng.randint(0, 50_000),
            rng.randint(0, 300_000 if big else 90_000),
        )
        when = rng.randint(1_735_000_000_000, 1_795_000_000_000)
        extras = (0, rng.choice([0, 0, 2]), rng.choice(["", "", "fast"]))
        geo = rng.choice(["", "", "us"])
        own = rng.choice([None, round(rng.random(), 4)]) if source in OWN_COSTS else None
        record = UsageRecord(f"k{number}", source, when, "s", "/p", model, *tokens, *extras,
                             geo, False, "", "", "", own)  # fmt: skip
        records.append(record)
    book = PriceBook()
    expected = {r.dedup_key: book.cost(r) for r in records}
    keys = {(r.model, r.source, r.speed) for r in records}
    expression, params = cost_sql(book, keys)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        ledger.db.executemany(
            f"INSERT INTO requests ({', '.join(RECORD_COLUMNS)})"
            f" VALUES ({', '.join('?' * len(RECORD_COLUMNS))})",
            [request_row(r, None) for r in records],
        )
        got = dict(ledger.db.execute(f"SELECT dedup_key, {expression} FROM requests", params))
    assert got == expected
    assert any(cost is None for cost in got.values()), "an unknown model stays unpriced"
    billed = [r for r in records if r.source == "copilot" and r.reported_cost_usd is not None]
    assert billed and all(got[r.dedup_key] == r.reported_cost_usd for r in billed)
    listed = [r for r in records if r.source == "opencode" and r.reported_cost_usd is not None]
    assert listed and all(got[r.dedup_key] == book.list_cost(r) for r in listed)


OWN_COSTS = ("opencode", "copilot")
"""Sources whose records carry the agent's own cost in the test above."""
