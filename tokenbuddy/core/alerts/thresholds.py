"""The tunables of the runaway-spend detectors, one frozen settings object.

The field names double as the keys of the ``[alerts]`` table of ``config.toml``, and
each field's docstring is its documentation there.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Every tunable of the detectors; field names double as config.toml keys.

    Raises ValueError on construction when a value cannot work (a negative
    amount, a ratio outside (0, 1], a judged window larger than the kept one).
    """

    cache_window_requests: int = 8
    """Recent requests per cache lineage the hit ratio is taken over."""
    cache_min_requests: int = 4
    """Fewest requests (legitimate rewrites left out) in that window to judge it."""
    cache_floor_ratio: float = 0.30
    """A hit ratio under this, with large uncached input, is a collapse."""
    cache_drop_ratio: float = 0.5
    """...as is one under this share of the lineage's own earlier hit ratio, when that
    earlier ratio was healthy (at least twice the floor)."""
    cache_large_uncached_tokens: int = 10_000
    """Average uncached input (writes + plain input) per request that counts as large."""
    cache_ttl_minutes: float = 5.0
    """A request after a gap this long may rewrite the cache legitimately."""
    cache_shrink_ratio: float = 0.6
    """A prompt under this share of the previous one (``/compact``) may rewrite it too."""
    cache_min_excess_usd_per_hour: float = 2.0
    """Cache misses costing less than this over the window are not worth a warning."""
    cache_critical_excess_usd_per_hour: float = 20.0
    """Cache misses costing this much are critical (a broken Opus harness costs ~$90-250/h)."""
    spend_window_minutes: float = 10.0
    """The window a spike's burn rate is measured over (also the baseline's unit)."""
    spike_short_window_minutes: float = 5.0
    """The burn rate is the higher of this window's and the full one's, so a jump shows
    within minutes while a short burst still has to be steep to count."""
    spike_baseline_days: float = 7.0
    """History the usual rate is the median of."""
    spike_min_baseline_windows: int = 6
    """Active windows of history (an hour's worth) needed before the ratio rule applies."""
    spike_ratio: float = 4.0
    """A burn rate this many times the usual one is a spike..."""
    spike_floor_usd_per_hour: float = 30.0
    """...when it is also at least this much."""
    spike_floor_no_baseline_usd_per_hour: float = 80.0
    """The bar while there is too little history for a usual rate."""
    spike_early_min_slots: int = 4
    """While there is too little history for a usual rate, a jump is also judged against
    the median of the last hour's active ``spike_short_window_minutes`` stretches once
    there are this many (``spike_ratio`` times it and at least ``spike_floor_usd_per_hour``,
    if that is under the no-history bar)."""
    spike_critical_usd_per_hour: float = 100.0
    spike_min_requests: int = 3
    """Requests in the window needed, so one large request is no spike."""
    loop_min_minutes: float = 30.0
    """Unattended time before a streak is a loop."""
    loop_subagent_min_minutes: float = 60.0
    """The same when subagents (Task runs) did most of the streak's spend."""
    loop_max_gap_minutes: float = 10.0
    """A longer pause between requests ends the streak."""
    loop_min_usd: float = 1.0
    """Spend a streak needs before it is worth a warning."""
    loop_horizon_hours: float = 8.0
    """The stretch ("overnight") the loop's spend is projected over."""
    loop_critical_usd: float = 100.0
    """Spend over the horizon at the loop's rate that makes it critical."""
    unattended_minutes: float = 30.0
    """Spend in two or more sessions that goes on this long with no prompt typed in any
    session (``claude -p``, SDK and ``codex exec`` prompts are a script's) is unattended..."""
    unattended_max_gap_minutes: float = 20.0
    """...as long as no pause in it is longer than this (a job every 15 minutes is one run)."""
    unattended_min_usd: float = 1.0
    """Unattended spend needed before it is worth a warning."""
    unattended_morning_hour: int = 8
    """The local hour (1-23) unattended spend is projected to ("by 08:00")..."""
    unattended_horizon_hours: float = 8.0
    """...or over this many hours when that hour is nearer than this, or over twice this away."""
    unattended_critical_usd: float = 100.0
    """Unattended spend so far plus its projection that makes it critical."""
    window_warning_percent: float = 90.0
    """A subscription window this full is a warning even when it will not fill up."""
    cap_warning_days: float = 7.0
    """A projected cap crossing this close is a warning rather than info."""
    refire_growth_ratio: float = 1.5
    """An alert is announced again when its magnitude reaches this multiple of the last..."""
    refire_min_minutes: float = 10.0
    """...and at least this long has passed (a severity rise is announced at once)."""
    rearm_minutes: float = 30.0
    """Once clear this long, an alert's next occurrence is announced as new."""
    alert_idle_minutes: float = 15.0
    """A cache collapse lapses once its session has been quiet this long."""
    session_forget_minutes: float = 60.0
    """Sessions quiet this long are forgotten."""
    max_sessions: int = 200
    max_lineages_per_session: int = 16

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")
        for name in ("cache_floor_ratio", "cache_drop_ratio", "cache_shrink_ratio"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in (0, 1]")
        if not 1 <= self.cache_min_requests <= self.cache_window_requests:
            raise ValueError("cache_min_requests must be between 1 and cache_window_requests")
        if self.spend_window_minutes <= 0 or self.max_sessions < 1:
            raise ValueError("spend_window_minutes and max_sessions must be positive")
        if self.unattended_minutes <= 0 or self.unattended_horizon_hours <= 0:
            raise ValueError("unattended_minutes and unattended_horizon_hours must be positive")
        if not 1 <= self.unattended_morning_hour <= 23:
            raise ValueError("unattended_morning_hour must be an hour from 1 to 23")
