"""The spend-spike detector: bursts far above the usual pace, and a heavy user's own pace."""

from __future__ import annotations

import pytest

from tests.core.alerts.streams import (
    MINUTE,
    SECOND,
    T0,
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
