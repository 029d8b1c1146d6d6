"""The unattended-loop detector: long runs with no human prompt, and the work that is not one."""

from __future__ import annotations

import pytest

from tests.core.alerts.streams import (
    HAIKU,
    HOUR,
    MINUTE,
    SECOND,
    SONNET,
    T0,
    Event,
    costing,
    kinds,
    replay,
)
from tokenbuddy.core.alerts import AlertEngine, PromptEvent


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
