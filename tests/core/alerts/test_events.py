"""Request events: the cache-miss excess, estimated or priced per TTL."""

from __future__ import annotations

import pytest

from tests.core.alerts.streams import OPUS, SONNET, T0, request
from tokenbuddy.core.alerts import request_event
from tokenbuddy.core.pricing import UnitPrices
from tokenbuddy.core.records import CLAUDE_CODE, UsageRecord


def test_the_estimated_excess_matches_claude_prices() -> None:
    priced = request(T0, write=100_000, read=20_000, model=SONNET)
    estimated = priced._replace(cache_miss_excess_usd=None)
    assert estimated.excess_usd == pytest.approx(priced.excess_usd)
    assert priced._replace(cost_usd=None, cache_miss_excess_usd=None).excess_usd == 0.0


def test_request_event_prices_the_excess_per_ttl() -> None:
    record = UsageRecord(
        dedup_key="k",
        source=CLAUDE_CODE,
        ts_ms=T0,
        session_id="s",
        project="/p",
        model=OPUS.name,
        input_tokens=10,
        output_tokens=500,
        cache_write_5m_tokens=1_000,
        cache_write_1h_tokens=2_000,
        cache_read_tokens=3_000,
        reasoning_tokens=0,
        web_search_requests=0,
        speed="",
        inference_geo="us",
        is_sidechain=True,
        agent_id="agent-1",
        agent_type="Explore",
        entrypoint="sdk-cli",
    )
    prices = UnitPrices(5e-6, 6.25e-6, 10e-6, 0.5e-6, 25e-6, 0.01)
    event = request_event(record, 1.23, prices)
    assert event.cache_write_tokens == 3_000
    assert (event.agent_id, event.is_sidechain) == ("agent-1", True)
    assert (event.entrypoint, event.source) == ("sdk-cli", CLAUDE_CODE)
    expected = 1.1 * (10 * 4.5e-6 + 1_000 * 5.75e-6 + 2_000 * 9.5e-6)
    assert event.excess_usd == pytest.approx(expected)
    assert request_event(record, 1.23, None).cache_miss_excess_usd is None
