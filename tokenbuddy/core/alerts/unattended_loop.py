"""The ``unattended_loop`` detector (per session): an agent running long with no human.

A streak of requests since the session's last human prompt, with no gap over
``loop_max_gap_minutes``, that has lasted ``loop_min_minutes`` (or
``loop_subagent_min_minutes`` when subagents did most of its spend, as a long Task
run legitimately does) and spent ``loop_min_usd``. Critical when the spend projected
over ``loop_horizon_hours`` reaches ``loop_critical_usd``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tokenbuddy.core.alerts.events import Alert
from tokenbuddy.core.money import dollars
from tokenbuddy.core.units import HOUR_MS, MINUTE_MS
from tokenbuddy.core.wording import duration

if TYPE_CHECKING:
    from tokenbuddy.core.alerts.events import RequestEvent
    from tokenbuddy.core.alerts.thresholds import Thresholds


@dataclass(slots=True)
class Streak:
    """Requests of one session since its last human prompt, with no long gap."""

    start_ms: int
    last_ms: int
    cost_usd: float = 0.0
    subagent_usd: float = 0.0
    after_prompt: bool = False


def extend_streak(
    streak: Streak | None, event: RequestEvent, last_prompt_ms: int | None, limits: Thresholds
) -> Streak:
    """``streak`` with ``event`` added, or a new streak when there was none or the gap
    since its last request was too long."""
    max_gap = limits.loop_max_gap_minutes * MINUTE_MS
    if streak is None or event.ts_ms - streak.last_ms > max_gap:
        after_prompt = streak is None and last_prompt_ms is not None
        streak = Streak(event.ts_ms, event.ts_ms, after_prompt=after_prompt)
    streak.last_ms = max(streak.last_ms, event.ts_ms)
    cost = event.cost_usd or 0.0
    streak.cost_usd += cost
    if event.is_sidechain:
        streak.subagent_usd += cost
    return streak


def loop_alert(
    streak: Streak | None, *, session_id: str, project: str, now_ms: int, limits: Thresholds
) -> Alert | None:
    """The unattended streak, once it is long and costly enough, while it goes on."""
    if streak is None or now_ms - streak.last_ms > limits.loop_max_gap_minutes * MINUTE_MS:
        return None
    elapsed = streak.last_ms - streak.start_ms
    mostly_subagents = streak.subagent_usd * 2 > streak.cost_usd
    minutes = limits.loop_subagent_min_minutes if mostly_subagents else limits.loop_min_minutes
    if elapsed < minutes * MINUTE_MS or streak.cost_usd < limits.loop_min_usd:
        return None
    rate = streak.cost_usd * HOUR_MS / max(elapsed, MINUTE_MS)
    ahead = rate * limits.loop_horizon_hours
    critical = ahead >= limits.loop_critical_usd
    return Alert(
        "unattended_loop",
        "critical" if critical else "warning",
        session_id,
        project,
        _loop_message(streak, elapsed, ahead, limits.loop_horizon_hours),
        rate,
        now_ms,
        rate,
    )


def _loop_message(streak: Streak, elapsed_ms: int, ahead_usd: float, horizon_h: float) -> str:
    since = "the last human prompt" if streak.after_prompt else "this run began"
    spent, ahead = dollars(streak.cost_usd, whole_from=100), dollars(ahead_usd, whole_from=100)
    return (
        f"Running {duration(elapsed_ms)} with no human prompt: {spent} spent since {since}, "
        f"≈{ahead} over the next {horizon_h:g} h at this rate"
    )
