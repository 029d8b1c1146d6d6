"""The spend-spike detector: bursts far above the usual pace, and a heavy user's own pace."""

from __future__ import annotations

import pytest

from tests.core.alerts.streams import (
    MINUTE,
    SECOND,
    T0,
    Event,
    costing,
    kinds,
    replay,
    request,
    steady,
    working_days,
)
from tokenbuddy.core.alerts import AlertEngine


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


def first_day(minutes: int, usd_per_hour: float, jump: float, *, offset_s: int = 0) -> list[Event]:
    """A first day of use: ``minutes`` at ``usd_per_hour``, then ``jump`` times that for 30."""
    start = T0 + offset_s * SECOND
    before = steady(start, minutes, usd_per_hour, "x")
    after = steady(start + minutes * MINUTE, 30, usd_per_hour * jump, "x")
    return [*before, *after]


@pytest.mark.parametrize("usd_per_hour", [8.0, 12.0, 15.0])
@pytest.mark.parametrize("offset_s", [0, 150, 290])
def test_a_jump_on_a_first_day_shows_within_five_minutes(
    usd_per_hour: float, offset_s: int
) -> None:
    events = first_day(20, usd_per_hour, 5.0, offset_s=offset_s)
    jump_at = T0 + offset_s * SECOND + 20 * MINUTE
    fired = [a for a in replay(AlertEngine(), events) if a.kind == "spend_spike"]
    assert kinds(fired)[:1] == [("spend_spike", "warning")]
    assert fired[0].at_ms - jump_at <= 5 * MINUTE
    assert f"your ${usd_per_hour:.2f}/h earlier this hour" in fired[0].message


def test_a_first_day_jump_names_its_measure() -> None:
    fired = replay(AlertEngine(), first_day(20, 10.0, 5.0))
    assert fired[0].message == (
        "Spending $50.00/h over the last 5 min, 5.0x your $10.00/h earlier this hour; "
        "most of it ($4.17) from session x in api"
    )
    assert fired[0].at_ms - (T0 + 20 * MINUTE) == 5 * MINUTE


@pytest.mark.parametrize(
    "events",
    [
        pytest.param(steady(T0, 60, 25.0, "x"), id="steady"),
        pytest.param(first_day(20, 10.0, 2.5), id="busier-but-under-four-times"),
        pytest.param(first_day(20, 5.0, 5.0), id="five-times-a-trickle-under-the-floor"),
        pytest.param(first_day(12, 10.0, 5.0), id="under-twenty-minutes-of-use"),
        pytest.param(
            [costing(T0, "x", 2.0), *steady(T0 + 30 * SECOND, 40, 12.0, "x")],
            id="one-expensive-request-at-the-start",
        ),
        pytest.param(
            [costing(T0 + 30 * MINUTE, "x", 1.5), *steady(T0 + 31 * MINUTE, 20, 12.0, "x")],
            id="a-quiet-start-then-ordinary-work",
        ),
    ],
)
def test_ordinary_first_days_are_not_spikes(events: list[Event]) -> None:
    assert kinds(replay(AlertEngine(), events), "spend_spike") == []
