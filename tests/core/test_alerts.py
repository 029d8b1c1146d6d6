"""Runaway-spend detectors on realistic request streams: when they fire, and when they must not."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tokenbuddy.core.alerts import (
    Alert,
    AlertEngine,
    PromptEvent,
    RequestEvent,
    Thresholds,
    request_event,
)
from tokenbuddy.core.metrics import budget_cycle
from tokenbuddy.core.pricing import UnitPrices
from tokenbuddy.core.projection import project_cycle
from tokenbuddy.core.records import CLAUDE_CODE, UsageRecord

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
T0 = int(datetime(2026, 5, 11, 9, tzinfo=UTC).timestamp() * 1000)  # a Monday morning
PER_M = 1e-6


@dataclass(frozen=True)
class Model:
    """List prices in $/M tokens."""

    name: str
    input: float
    write: float
    read: float
    output: float


OPUS = Model("claude-opus-4-6", 5.0, 6.25, 0.50, 25.0)
SONNET = Model("claude-sonnet-4-6", 3.0, 3.75, 0.30, 15.0)
HAIKU = Model("claude-haiku-4-5", 1.0, 1.25, 0.10, 5.0)

Event = RequestEvent | PromptEvent


def request(
    ts: int,
    *,
    write: int,
    read: int,
    model: Model = OPUS,
    session: str = "s1",
    output: int = 1_500,
    sidechain: bool = False,
    agent: str = "",
) -> RequestEvent:
    """One request priced at ``model``'s list prices, its cache-miss excess included."""
    uncached = 3
    cost = (
        uncached * model.input + write * model.write + read * model.read + output * model.output
    ) * PER_M
    excess = (uncached * (model.input - model.read) + write * (model.write - model.read)) * PER_M
    return RequestEvent(
        ts,
        session,
        "/home/u/app",
        model.name,
        cost,
        uncached,
        write,
        read,
        output,
        sidechain,
        agent,
        excess,
    )


def healthy(
    start: int,
    count: int,
    *,
    every_s: int = 30,
    context: int = 40_000,
    model: Model = OPUS,
    session: str = "s1",
    sidechain: bool = False,
    agent: str = "",
) -> list[RequestEvent]:
    """A normal thread: a first full write, then reads of the context plus ~800 new tokens."""
    events = []
    for i in range(count):
        ts = start + i * every_s * SECOND
        write, read = (context, 0) if i == 0 else (800, context)
        events.append(
            request(
                ts,
                write=write,
                read=read,
                model=model,
                session=session,
                sidechain=sidechain,
                agent=agent,
            )
        )
        if i > 0:
            context += 800
    return events


def costing(
    ts: int,
    session: str,
    usd: float,
    *,
    project: str = "/p",
    model: Model = OPUS,
    sidechain: bool = False,
    agent: str = "",
) -> RequestEvent:
    """A request with a healthy cache that cost ``usd``."""
    return RequestEvent(
        ts, session, project, model.name, usd, 3, 600, 60_000, 900, sidechain, agent
    )


def broken(
    start: int, count: int, *, every_s: int = 30, write: int = 125_000, session: str = "s1"
) -> list[RequestEvent]:
    """A harness that changes the prompt prefix: every request rewrites the whole context."""
    return [
        request(start + i * every_s * SECOND, write=write, read=0, session=session)
        for i in range(count)
    ]


def replay(engine: AlertEngine, events: Iterable[Event]) -> list[Alert]:
    """Feed events in time order (a prompt before a request at the same instant), evaluating
    after each as the live app does; return every alert announced."""
    fired: list[Alert] = []
    for event in sorted(events, key=lambda e: (e.ts_ms, isinstance(e, RequestEvent))):
        if isinstance(event, RequestEvent):
            engine.feed_request(event)
        else:
            engine.feed_prompt(event)
        fired += engine.evaluate(event.ts_ms)
    return fired


def kinds(alerts: Iterable[Alert], only: str | None = None) -> list[tuple[str, str]]:
    return [(a.kind, a.severity) for a in alerts if only is None or a.kind == only]


def spent_until(events: Iterable[RequestEvent], until: int, since: int = 0) -> float:
    return sum(e.cost_usd or 0.0 for e in events if since <= e.ts_ms <= until)


# --- cache collapse ---------------------------------------------------------------------------


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
    )
    prices = UnitPrices(5e-6, 6.25e-6, 10e-6, 0.5e-6, 25e-6, 0.01)
    event = request_event(record, 1.23, prices)
    assert event.cache_write_tokens == 3_000
    assert (event.agent_id, event.is_sidechain) == ("agent-1", True)
    expected = 1.1 * (10 * 4.5e-6 + 1_000 * 5.75e-6 + 2_000 * 9.5e-6)
    assert event.excess_usd == pytest.approx(expected)
    assert request_event(record, 1.23, None).cache_miss_excess_usd is None


# --- spend spike ------------------------------------------------------------------------------


def working_days(days: int, usd_per_hour: float, *, end: int = T0) -> list[RequestEvent]:
    """``days`` days before ``end`` of 09:00-17:00 work at ``usd_per_hour``, a request a minute."""
    per_request = usd_per_hour / 60
    events = []
    for day in range(days, 0, -1):
        start = end - day * DAY
        for minute in range(8 * 60):
            events.append(costing(start + minute * MINUTE, f"d{day}", per_request))
    return events


def steady(start: int, minutes: int, usd_per_hour: float, session: str) -> list[RequestEvent]:
    """A request every 30 s for ``minutes`` at ``usd_per_hour``."""
    return [
        costing(start + i * 30 * SECOND, session, usd_per_hour / 120, project="/home/u/api")
        for i in range(minutes * 2)
    ]


def test_a_spike_over_a_weeks_baseline_fires_within_ten_minutes_then_escalates() -> None:
    history = working_days(7, 12.0)
    today = steady(T0, 60, 12.0, "normal")
    spike_start = T0 + 20 * MINUTE
    spike = steady(spike_start, 30, 240.0, "runaway")
    fired = [
        a for a in replay(AlertEngine(), [*history, *today, *spike]) if a.kind == "spend_spike"
    ]
    assert kinds(fired) == [("spend_spike", "warning"), *[("spend_spike", "critical")] * 2]
    # the last 5 minutes then hold $1 of usual spend and two $2 spike requests: $60/h >= 4x $12/h
    assert fired[0].at_ms - spike_start == 30 * SECOND
    assert "$60.00/h over the last 5 min, 5.0x your usual $12.00/h" in fired[0].message
    assert fired[1].at_ms - spike_start == 90 * SECOND  # $9 in 5 min: $108/h
    # still ramping: announced again only once 10 minutes have passed and it is 1.5x worse
    assert fired[2].at_ms - fired[1].at_ms == 10 * MINUTE
    assert fired[2].magnitude == pytest.approx(240.0)
    assert "from session runaway in api" in fired[1].message
    assert fired[1].session_id is None


@pytest.mark.parametrize(
    ("history_days", "usd_per_hour", "expected"),
    [
        (7, 12.0, []),  # an ordinary day
        (7, 45.0, []),  # a busier day, under 4x
        (0, 60.0, []),  # no baseline yet: under the $80/h bar
        (0, 90.0, [("spend_spike", "warning")]),
        (0, 150.0, [("spend_spike", "warning"), ("spend_spike", "critical")]),
        (7, 30.0, []),  # 2.5x a $12/h baseline
    ],
)
def test_spike_thresholds(
    history_days: int, usd_per_hour: float, expected: list[tuple[str, str]]
) -> None:
    history = working_days(history_days, 12.0)
    fired = replay(AlertEngine(), [*history, *steady(T0, 60, usd_per_hour, "x")])
    assert kinds(fired, "spend_spike") == expected


def test_a_few_large_requests_are_not_a_spike() -> None:
    big = [request(T0 + i * 2 * MINUTE, write=300_000, read=0, output=4_000) for i in range(2)]
    assert kinds(replay(AlertEngine(), big), "spend_spike") == []


def test_a_heavy_users_own_pace_is_not_a_spike() -> None:
    history = working_days(7, 70.0)
    fired = replay(AlertEngine(), [*history, *steady(T0, 120, 90.0, "x")])
    assert kinds(fired, "spend_spike") == []


def test_a_spike_expires_when_the_burst_ends() -> None:
    engine = AlertEngine()
    burst = steady(T0, 15, 200.0, "x")
    replay(engine, burst)
    end = burst[-1].ts_ms
    assert kinds(engine.active(end)) == [("spend_spike", "critical")]
    assert engine.active(end + 10 * MINUTE + 1) == []


# --- unattended loop --------------------------------------------------------------------------


def overnight_loop(usd_per_request: float, *, hours: int = 8) -> list[Event]:
    """A last prompt at 23:00, then a request every 45 s until morning."""
    start = T0 + 14 * HOUR  # 23:00
    prompt: list[Event] = [PromptEvent(start - 5 * SECOND, "night")]
    return prompt + [
        costing(start + i * 45 * SECOND, "night", usd_per_request)
        for i in range(hours * 3600 // 45)
    ]


@pytest.mark.parametrize(
    ("usd_per_request", "severity", "per_hour"),
    [(0.30, "critical", 24.0), (0.10, "warning", 8.0)],
)
def test_an_overnight_loop_fires_once_at_thirty_minutes(
    usd_per_request: float, severity: str, per_hour: float
) -> None:
    events = overnight_loop(usd_per_request)
    fired = replay(AlertEngine(), events)
    assert kinds(fired) == [("unattended_loop", severity)]
    start = events[1].ts_ms
    assert fired[0].at_ms - start == 30 * MINUTE
    assert fired[0].cost_per_hour_usd == pytest.approx(per_hour, rel=0.03)
    assert fired[0].message.startswith(
        f"Running 30 min with no human prompt: ${usd_per_request * 41:.2f} spent since the last"
    )


def test_a_loop_alert_message_carries_the_evidence() -> None:
    fired = replay(AlertEngine(), overnight_loop(0.30))
    assert fired[0].message == (
        "Running 30 min with no human prompt: $12.30 spent since the last human prompt, "
        "≈$197 over the next 8 h at this rate"
    )


def everyday_session() -> list[Event]:
    """Three hours of work: a prompt every 4 minutes, then a few requests."""
    events: list[Event] = []
    for turn in range(45):
        start = T0 + turn * 4 * MINUTE
        events.append(PromptEvent(start, "day"))
        events += [costing(start + (i + 1) * 20 * SECOND, "day", 0.25) for i in range(6)]
    return events


def subagent_run(minutes: int) -> list[Event]:
    """One prompt launching a long Task subagent; the main thread checks in rarely."""
    events: list[Event] = [PromptEvent(T0, "task")]
    events += [
        costing(T0 + i * 20 * SECOND, "task", 0.06, model=SONNET, sidechain=True, agent="long")
        for i in range(1, minutes * 3)
    ]
    events += [costing(T0 + i * 9 * MINUTE, "task", 0.10) for i in range(minutes // 9 + 1)]
    return events


def gappy_session() -> list[Event]:
    """25 minutes of work, a 12-minute pause, 25 more: never 30 minutes unbroken."""
    first = [costing(T0 + i * MINUTE, "g", 0.3) for i in range(25)]
    second = [e._replace(ts_ms=e.ts_ms + 36 * MINUTE) for e in first]
    return [*first, *second]


def cheap_loop() -> list[Event]:
    """90 minutes unattended on Haiku for 90 cents."""
    return [costing(T0 + i * MINUTE, "c", 0.01, model=HAIKU) for i in range(90)]


@pytest.mark.parametrize(
    "events",
    [
        pytest.param(everyday_session(), id="prompts-every-few-minutes"),
        pytest.param(subagent_run(50), id="fifty-minute-subagent"),
        pytest.param(gappy_session(), id="gap-over-ten-minutes"),
        pytest.param(cheap_loop(), id="under-a-dollar"),
    ],
)
def test_attended_or_cheap_work_is_not_a_loop(events: list[Event]) -> None:
    fired = replay(AlertEngine(), events)
    assert [a for a in fired if a.kind == "unattended_loop"] == []


def test_a_subagent_run_is_flagged_after_an_hour() -> None:
    fired = replay(AlertEngine(), subagent_run(75))
    loops = [a for a in fired if a.kind == "unattended_loop"]
    assert kinds(loops) == [("unattended_loop", "warning")]
    assert loops[0].at_ms - T0 == 60 * MINUTE


def test_a_human_prompt_clears_the_loop() -> None:
    engine = AlertEngine()
    events = overnight_loop(0.30, hours=1)
    replay(engine, events)
    end = events[-1].ts_ms
    assert kinds(engine.active(end)) == [("unattended_loop", "critical")]
    engine.feed_prompt(PromptEvent(end + SECOND, "night"))
    assert engine.active(end + SECOND) == []


def test_a_loop_lapses_once_the_session_goes_quiet() -> None:
    engine = AlertEngine()
    events = overnight_loop(0.30, hours=1)
    replay(engine, events)
    end = events[-1].ts_ms
    assert engine.active(end + 10 * MINUTE) != []
    assert engine.active(end + 10 * MINUTE + 1) == []


# --- cap trajectory ---------------------------------------------------------------------------


CAP_CASES = [
    (1_000.0, 11, None, ""),  # $620 projected
    (
        500.0,
        6,
        "info",
        "On pace for $620 this cycle: the $500 cap is reached on Mon May 25, 6 days",
    ),
    (300.0, 11, "warning", "On pace for $620 this cycle: the $300 cap is reached on Fri May 15"),
    (240.0, 11, "warning", "Soft limit passed: $200 of the $240 cap spent (83%); at this pace"),
    (180.0, 11, "critical", "Cap reached on Sat May 9: $200 of the $180 cap spent"),
]


@pytest.mark.parametrize(("cap", "today", "severity", "opening"), CAP_CASES)
def test_cap_trajectory_severities(
    cap: float, today: int, severity: str | None, opening: str
) -> None:
    """$20 a day since April 20."""
    now = datetime(2026, 5, today, tzinfo=UTC)
    spend = {date(2026, 4, 20 + i): 20.0 for i in range(11)}
    spend |= {date(2026, 5, d): 20.0 for d in range(1, today)}
    engine = AlertEngine()
    engine.feed_projection(project_cycle(cap, 0.8, budget_cycle(now, 1), now, spend))
    fired = engine.evaluate(int(now.timestamp() * 1000))
    assert kinds(fired) == ([] if severity is None else [("cap_trajectory", severity)])
    if fired:
        window = today - 1 + 11
        basis = f"($20.00/weekday, $20.00/weekend day over the last {window} days)"
        assert fired[0].message.startswith(opening)
        assert fired[0].message.endswith(basis)
        assert fired[0].session_id is None


def test_a_cap_alert_escalates_and_clears_with_the_projection() -> None:
    now = datetime(2026, 5, 11, tzinfo=UTC)
    now_ms = int(now.timestamp() * 1000)
    spend = {date(2026, 5, d): 20.0 for d in range(1, 11)}
    engine = AlertEngine()
    announced = []
    for cap in (500.0, 300.0, 240.0, 190.0):
        engine.feed_projection(project_cycle(cap, 0.8, budget_cycle(now, 1), now, spend))
        announced.append([a.severity for a in engine.evaluate(now_ms)])
    # $240: the soft limit is passed, but still a warning, and only 1.25x the $300 magnitude
    assert announced == [["info"], ["warning"], [], ["critical"]]
    engine.feed_projection(None)
    assert engine.active(now_ms) == []


# --- announcing, expiry and memory ------------------------------------------------------------


def test_an_alert_is_announced_once_while_it_holds() -> None:
    engine = AlertEngine()
    events = broken(T0, 60)
    fired = replay(engine, events)
    assert kinds(fired, "cache_collapse") == [("cache_collapse", "critical")]
    assert kinds(engine.active(events[-1].ts_ms), "cache_collapse") == [
        ("cache_collapse", "critical")
    ]


def test_materially_worse_re_fires() -> None:
    engine = AlertEngine()
    slow = broken(T0, 12, every_s=60, write=60_000)  # ≈$20.7/h of excess
    fast = broken(slow[-1].ts_ms + 10 * SECOND, 30, every_s=10, write=60_000)  # ≈$124/h
    first = [a for a in replay(engine, slow) if a.kind == "cache_collapse"]
    second = [a for a in replay(engine, fast) if a.kind == "cache_collapse"]
    assert kinds(first) == [("cache_collapse", "critical")]
    assert kinds(second) == [("cache_collapse", "critical")]
    assert second[0].magnitude >= 1.5 * first[0].magnitude
    assert second[0].at_ms - first[0].at_ms == 10 * MINUTE


def test_severity_rising_re_fires_and_small_growth_does_not() -> None:
    limits = Thresholds(cache_critical_excess_usd_per_hour=30.0)
    engine = AlertEngine(limits)
    warning = broken(T0, 12, every_s=60, write=60_000)  # ≈$20.7/h: a warning under this config
    worse = broken(warning[-1].ts_ms + 40 * SECOND, 12, every_s=40, write=60_000)  # ≈$31/h
    assert kinds(replay(engine, warning)) == [("cache_collapse", "warning")]
    assert kinds(replay(engine, worse)) == [("cache_collapse", "critical")]


def quiet(engine: AlertEngine, since: int, minutes: int) -> list[Alert]:
    """Evaluate once a minute through a stretch with no requests."""
    return [a for m in range(1, minutes + 1) for a in engine.evaluate(since + m * MINUTE)]


def test_an_alert_rearms_only_after_staying_clear() -> None:
    engine = AlertEngine()
    first = broken(T0, 10)
    assert kinds(replay(engine, first), "cache_collapse") == [("cache_collapse", "critical")]
    # lapses after 15 quiet minutes; broken again 5 minutes later: not announced again
    assert quiet(engine, first[-1].ts_ms, 19) == []
    assert engine.active(first[-1].ts_ms + 19 * MINUTE) == []
    again = broken(first[-1].ts_ms + 20 * MINUTE, 10)
    assert kinds(replay(engine, again), "cache_collapse") == []
    assert kinds(engine.active(again[-1].ts_ms), "cache_collapse") == [
        ("cache_collapse", "critical")
    ]
    # clear for 30 minutes after lapsing: the next collapse is news
    assert quiet(engine, again[-1].ts_ms, 49) == []
    later = broken(again[-1].ts_ms + 50 * MINUTE, 10)
    assert kinds(replay(engine, later), "cache_collapse") == [("cache_collapse", "critical")]


def test_a_cache_alert_lapses_when_the_session_goes_quiet() -> None:
    engine = AlertEngine()
    events = broken(T0, 10)
    replay(engine, events)
    end = events[-1].ts_ms
    assert [a.kind for a in engine.active(end + 15 * MINUTE)] == ["cache_collapse"]
    assert engine.active(end + 15 * MINUTE + 1) == []


def test_active_lists_the_worst_first() -> None:
    engine = AlertEngine()
    replay(
        engine,
        [
            *healthy(T0, 5, session="ok"),
            *broken(T0, 30, session="bad"),
            *steady(T0, 15, 150.0, "spender"),
        ],
    )
    now = T0 + 15 * MINUTE
    assert [(a.kind, a.session_id) for a in engine.active(now)] == [
        ("spend_spike", None),
        ("cache_collapse", "bad"),
    ]


def test_memory_stays_bounded() -> None:
    limits = Thresholds(max_sessions=50, max_lineages_per_session=4)
    engine = AlertEngine(limits)
    for n in range(500):
        engine.feed_request(request(T0 + n * SECOND, write=800, read=40_000, session=f"s{n}"))
    assert engine.tracked_sessions == 50
    for n in range(40):
        engine.feed_request(
            request(
                T0 + n * SECOND,
                write=800,
                read=40_000,
                session="many",
                sidechain=True,
                agent=f"agent-{n}",
            )
        )
    many = engine._sessions["many"]
    assert len(many.lineages) == 4
    assert all(len(lin.recent) <= limits.cache_window_requests for lin in many.lineages.values())
    engine.evaluate(T0 + 2 * HOUR)
    assert engine.tracked_sessions == 0


def test_a_weeks_history_keeps_a_bounded_spend_record() -> None:
    engine = AlertEngine()
    for event in working_days(14, 12.0):
        engine.feed_request(event)
    assert len(engine._spend.by_window) <= 7 * 24 * 6 + 1
    assert len(engine._spend.recent) <= 10


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


def test_the_detectors_and_projections_stay_pure() -> None:
    probe = (
        "import sys, tokenbuddy.core.alerts, tokenbuddy.core.projection\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'httpx', "
        "'sqlite3', 'genai_prices') or m.startswith(('tokenbuddy.store', 'tokenbuddy.sources',"
        " 'tokenbuddy.tui', 'tokenbuddy.cli'))]\n"
        "print(bad)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "[]", result.stderr


@pytest.mark.parametrize(
    "bad",
    [
        {"loop_min_usd": -1.0},
        {"cache_floor_ratio": 0.0},
        {"cache_drop_ratio": 1.5},
        {"cache_min_requests": 9},
        {"cache_min_requests": 0},
        {"spend_window_minutes": 0.0},
        {"max_sessions": 0},
    ],
)
def test_unworkable_thresholds_are_rejected(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        Thresholds(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("used", "full_at_min", "severity", "words"),
    [
        (45.0, None, None, None),
        (45.0, 30, "warning", "fills in 30 min"),
        (92.0, None, "warning", "at 92%"),
        (100.0, 0, "critical", "limit reached"),
    ],
)
def test_subscription_windows(
    used: float, full_at_min: int | None, severity: str | None, words: str | None
) -> None:
    from tokenbuddy.core.alerts import AlertEngine, WindowReading

    now = 1_790_000_000_000
    engine = AlertEngine()
    full_at = None if full_at_min is None else now + full_at_min * 60_000
    engine.feed_windows([WindowReading("Codex 5h", used, now + 3 * 3_600_000, full_at)])
    alerts = [a for a in engine.active(now) if a.kind == "subscription_window"]
    if severity is None:
        assert alerts == []
        return
    (alert,) = alerts
    assert alert.severity == severity and words in alert.message
    assert alert.key == ("subscription_window", "Codex 5h")
    assert "resets in 3 h 00 min" in alert.message
