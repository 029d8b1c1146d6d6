"""The cache-collapse detector: broken prompt caches caught fast, legitimate rewrites left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.alerts.streams import (
    HAIKU,
    MINUTE,
    OPUS,
    PER_M,
    SECOND,
    SONNET,
    T0,
    broken,
    healthy,
    kinds,
    replay,
    request,
    spent_until,
)
from tokenbuddy.core.alerts import AlertEngine, RequestEvent, request_event
from tokenbuddy.core.records import UsageRecord


@pytest.mark.parametrize(
    ("every_s", "write"), [(20, 150_000), (30, 125_000), (40, 100_000), (30, 60_000)]
)
def test_a_session_broken_from_its_first_request_goes_critical_fast(
    every_s: int, write: int
) -> None:
    events = broken(T0, 30, every_s=every_s, write=write)
    fired = [a for a in replay(AlertEngine(), events) if a.kind == "cache_collapse"]
    first = fired[0]
    assert first.severity == "critical"
    assert first.at_ms == events[4].ts_ms  # the first write is excused; four more judge
    assert first.at_ms - T0 <= 5 * MINUTE
    assert spent_until(events, first.at_ms) < 20.0
    assert first.message.startswith("Cache hit ratio is 0% over the last 4 requests")
    assert "a harness may be changing the prompt prefix" in first.message
    assert first.cost_per_hour_usd == pytest.approx(
        write * (6.25 - 0.5) * PER_M * 3600 / every_s, rel=0.01
    )


@pytest.mark.parametrize("every_s", [20, 30, 40])
def test_a_healthy_opus_session_that_breaks_goes_critical_within_five_minutes(
    every_s: int,
) -> None:
    before = healthy(T0, 30, context=120_000, every_s=every_s)
    start = before[-1].ts_ms + every_s * SECOND
    after = broken(start, 30, every_s=every_s, write=130_000)
    fired = replay(AlertEngine(), [*before, *after])
    assert kinds(fired)[:1] == [("cache_collapse", "critical")]
    latency = fired[0].at_ms - start
    assert latency <= 5 * MINUTE
    assert spent_until(after, fired[0].at_ms) < 20.0
    assert "fell to" in fired[0].message
    assert "(was 99%)" in fired[0].message


@pytest.mark.parametrize(
    "events",
    [
        pytest.param(healthy(T0, 60), id="fresh-session"),
        pytest.param(healthy(T0, 60, context=150_000, every_s=20), id="large-context"),
        pytest.param(
            [*healthy(T0, 10), *healthy(T0 + 11 * MINUTE, 10, context=50_000)],
            id="idle-gap-rewrite",
        ),
        pytest.param(
            [*healthy(T0, 10, context=150_000), *healthy(T0 + 5 * MINUTE, 10, context=30_000)],
            id="compact-rewrite",
        ),
        pytest.param(
            [
                *healthy(T0, 10, context=80_000),
                *healthy(T0 + 5 * MINUTE, 10, context=90_000, model=SONNET),
                *healthy(T0 + 10 * MINUTE, 10, context=95_000),
            ],
            id="model-switch-and-back",
        ),
        pytest.param(
            [
                *healthy(T0, 20, every_s=60),
                *(
                    e
                    for n in range(6)
                    for e in healthy(
                        T0 + 2 * MINUTE + n * SECOND,
                        15,
                        every_s=4,
                        context=27_000,
                        model=HAIKU,
                        sidechain=True,
                        agent=f"agent-{n}",
                    )
                ),
            ],
            id="six-parallel-subagents",
        ),
        pytest.param(
            [request(T0 + i * 10 * MINUTE, write=100_000, read=0) for i in range(12)],
            id="every-request-after-the-ttl",
        ),
    ],
)
def test_legitimate_rewrites_do_not_fire(events: list[RequestEvent]) -> None:
    fired = replay(AlertEngine(), events)
    assert [a for a in fired if a.kind == "cache_collapse"] == []


@pytest.mark.parametrize(
    ("change", "judged"),
    [
        ({}, 8),
        ({"model": SONNET.name}, 6),  # a switch and the switch back rewrite once each
        ({"ts_ms": 6 * MINUTE}, 7),  # so does the first request after the cache TTL
        ({"ts_ms": 4 * MINUTE}, 8),  # ...but not one within it
        ({"cache_write_tokens": 60_000}, 7),  # a prompt shrunk below 60% (/compact)
        ({"cache_write_tokens": 90_000}, 8),
    ],
)
def test_legitimate_rewrites_are_left_out_of_the_judged_window(
    change: dict[str, object], judged: int
) -> None:
    """Ten broken requests; the 7th is altered. The message counts the requests judged."""
    events = broken(T0, 10, every_s=20)
    altered = {**change, "ts_ms": events[5].ts_ms + int(change.get("ts_ms", 20 * SECOND))}
    events[6:] = [
        e._replace(ts_ms=e.ts_ms - events[6].ts_ms + altered["ts_ms"]) for e in events[6:]
    ]
    events[6] = events[6]._replace(**altered)
    engine = AlertEngine()
    replay(engine, events)
    alert = engine.active(events[-1].ts_ms)[0]
    assert alert.kind == "cache_collapse"
    assert f"over the last {judged} requests" in alert.message


def test_model_switches_in_a_row_are_each_one_legitimate_rewrite() -> None:
    models = [OPUS, SONNET, OPUS, HAIKU, OPUS, SONNET, OPUS]
    events = [
        request(T0 + i * 30 * SECOND, write=100_000, read=0, model=model)
        for i, model in enumerate(models)
    ]
    assert kinds(replay(AlertEngine(), events), "cache_collapse") == []


def test_a_cheap_model_collapse_is_a_warning() -> None:
    events = [
        request(T0 + i * 30 * SECOND, write=30_000, read=0, model=HAIKU, session="h")
        for i in range(20)
    ]
    fired = replay(AlertEngine(), events)
    assert kinds(fired) == [("cache_collapse", "warning")]
    assert fired[0].cost_per_hour_usd == pytest.approx(30_000 * 1.15 * PER_M * 120, rel=0.01)


def test_a_collapse_below_the_excess_floor_is_ignored() -> None:
    events = [
        request(T0 + i * 2 * MINUTE, write=12_000, read=0, model=HAIKU, output=100)
        for i in range(20)
    ]
    assert replay(AlertEngine(), events) == []


def test_a_broken_subagent_is_caught_in_its_own_lineage() -> None:
    main = healthy(T0, 40, every_s=60, context=60_000)
    sub = [
        request(
            T0 + 5 * MINUTE + i * 20 * SECOND,
            write=110_000,
            read=0,
            sidechain=True,
            agent="agent-x",
        )
        for i in range(10)
    ]
    fired = [a for a in replay(AlertEngine(), [*main, *sub]) if a.kind == "cache_collapse"]
    assert kinds(fired) == [("cache_collapse", "critical")]
    assert fired[0].message.startswith("Subagent cache hit ratio is 0%")
    assert fired[0].at_ms == sub[4].ts_ms


@pytest.mark.fixtures
def test_real_sessions_show_no_cache_collapse(shared_fixtures: Path) -> None:
    from tokenbuddy.core.pricing import PriceBook
    from tokenbuddy.core.records import ParseStats
    from tokenbuddy.sources.claude_code import context_for, parse_chunk

    final: dict[str, UsageRecord] = {}
    for path in sorted((shared_fixtures / "claude" / "projects").rglob("*.jsonl")):
        for record in parse_chunk(path.read_bytes(), context_for(str(path)), ParseStats()):
            known = final.get(record.dedup_key)
            if known is None or record.total_tokens > known.total_tokens:
                final[record.dedup_key] = record
    book = PriceBook()
    events = [request_event(r, book.cost(r), None) for r in final.values()]
    assert len(events) == 711
    assert kinds(replay(AlertEngine(), events), "cache_collapse") == []


def test_a_front_end_that_records_no_cache_figures_never_reads_as_a_collapse() -> None:
    """Copilot Chat in VS Code logs prompt and output tokens only: its requests show no
    cache reads whatever the cache did, so they are not judged; a Copilot CLI session,
    whose logs carry cache figures, is."""
    stream = broken(T0, 30)
    chat = [e._replace(source="copilot", entrypoint="vscode") for e in stream]
    assert kinds(replay(AlertEngine(), chat), "cache_collapse") == []
    cli = [e._replace(source="copilot", entrypoint="copilot-cli") for e in stream]
    assert ("cache_collapse", "critical") in kinds(replay(AlertEngine(), cli), "cache_collapse")
