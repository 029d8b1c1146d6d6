"""The cap-trajectory and subscription-window alerts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.core.alerts.streams import kinds
from tokenbuddy.core.alerts import AlertEngine
from tokenbuddy.core.metrics import budget_cycle
from tokenbuddy.core.projection import project_cycle

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
