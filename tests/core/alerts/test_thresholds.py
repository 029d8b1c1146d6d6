"""Detector settings that cannot work are rejected."""

from __future__ import annotations

import pytest

from tokenbuddy.core.alerts import Thresholds


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
        {"unattended_minutes": 0.0},
        {"unattended_horizon_hours": 0.0},
        {"unattended_morning_hour": 0},
        {"unattended_morning_hour": 24},
    ],
)
def test_unworkable_thresholds_are_rejected(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        Thresholds(**bad)  # type: ignore[arg-type]
