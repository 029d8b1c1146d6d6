"""Alerts on limits: the monthly cap's trajectory and the subscription windows.

``cap_trajectory`` (global)
    From the latest :class:`~tokenbuddy.core.projection.CycleProjection`: info when
    the cap is projected to be reached before the cycle ends, warning when that is
    within ``cap_warning_days`` or the soft limit is reached, critical when the cap
    is reached.
``subscription_window`` (per window)
    From a :class:`WindowReading`: warning when the window fills before it resets at
    the current burn, or is ``window_warning_percent`` full; critical when it is full.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from tokenbuddy.core.alerts.events import Alert
from tokenbuddy.core.money import dollars
from tokenbuddy.core.wording import duration

if TYPE_CHECKING:
    from tokenbuddy.core.alerts.events import Severity
    from tokenbuddy.core.alerts.thresholds import Thresholds
    from tokenbuddy.core.projection import CycleProjection


def cap_alert(projection: CycleProjection, now_ms: int, limits: Thresholds) -> Alert | None:
    cap = projection.cap_usd
    if cap is None:
        return None
    spent = (
        f"{dollars(projection.spent_usd, whole_from=100)} of the {dollars(cap, whole_from=100)} cap"
    )
    severity: Severity
    if projection.cap_reached:
        severity, message = "critical", f"Cap reached on {_day(projection)}: {spent} spent"
    elif projection.soft_limit_reached:
        severity = "warning"
        message = f"Soft limit passed: {spent} spent ({projection.spent_usd / cap:.0%})"
        if projection.cap_date is not None:
            message += f"; at this pace the cap is reached on {_day(projection)}"
    elif projection.days_to_cap is not None:
        soon = projection.days_to_cap <= limits.cap_warning_days
        severity = "warning" if soon else "info"
        message = (
            f"On pace for {dollars(projection.projected_usd, whole_from=100)} this cycle: the "
            f"{dollars(cap, whole_from=100)} cap is reached on {_day(projection)}, "
            f"{projection.remaining_days - projection.days_to_cap:.0f} days before the cycle ends"
        )
    else:
        return None
    message += f" ({projection.basis.describe()})"
    magnitude = projection.projected_usd / cap
    rate = projection.usd_per_hour_ahead
    return Alert("cap_trajectory", severity, None, None, message, rate, now_ms, magnitude)


class WindowReading(NamedTuple):
    """A subscription window's latest utilisation and where it is heading."""

    label: str
    """``Claude 5h``, ``Codex 7d``..."""
    used_percent: float
    resets_at_ms: int
    full_at_ms: int | None
    """When it fills at the current burn; None when it resets first."""


def window_alert(window: WindowReading, now_ms: int, limits: Thresholds) -> Alert | None:
    """Warning when a window will fill before it resets (or is nearly full), critical when full."""
    resets = f"resets in {duration(max(window.resets_at_ms - now_ms, 0))}"
    used = window.used_percent
    if used >= 100:
        severity: Severity = "critical"
        message = f"{window.label} limit reached: the agent waits until it {resets}"
    elif window.full_at_ms is not None:
        severity = "warning"
        message = (
            f"{window.label} at {used:.0f}%: at this pace it fills in "
            f"{duration(max(window.full_at_ms - now_ms, 0))}, before it {resets}"
        )
    elif used >= limits.window_warning_percent:
        severity = "warning"
        message = f"{window.label} at {used:.0f}%; it {resets}"
    else:
        return None
    return Alert("subscription_window", severity, None, window.label, message, 0.0, now_ms, used)


def _day(projection: CycleProjection) -> str:
    day = projection.cap_date
    return "an unknown day" if day is None else f"{day:%a} {day:%b} {day.day}"
