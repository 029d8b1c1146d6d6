"""The announcement engine: what is news, when an alert lapses and rearms, bounded memory."""

from __future__ import annotations

from tests.core.alerts.streams import (
    HOUR,
    MINUTE,
    SECOND,
    T0,
    broken,
    healthy,
    kinds,
    replay,
    request,
    steady,
    working_days,
)
from tokenbuddy.core.alerts import Alert, AlertEngine, Thresholds


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
