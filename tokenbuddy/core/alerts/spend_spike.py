"""The ``spend_spike`` detector (all sessions): a burn rate far above the user's usual one.

Spend over the last ``spend_window_minutes`` (or over the last
``spike_short_window_minutes``, whichever rate is higher) as $/h, against the median
$/h of the active windows of the last ``spike_baseline_days`` days: fires at
``spike_ratio`` times that median and at least ``spike_floor_usd_per_hour``; with
fewer than ``spike_min_baseline_windows`` active windows of history, at
``spike_floor_no_baseline_usd_per_hour``, or, once the last hour holds
``spike_early_min_slots`` active ``spike_short_window_minutes`` stretches before the
judged ones, at ``spike_ratio`` times their median $/h and at least
``spike_floor_usd_per_hour`` when that bar is lower: a jump on a first day of use shows
within minutes, while a quiet start and a first ordinary request have no stretches to
compare with. Critical from ``spike_critical_usd_per_hour``.
"""

from __future__ import annotations

import statistics
from collections import deque
from typing import TYPE_CHECKING, NamedTuple

from tokenbuddy.core.alerts.events import Alert
from tokenbuddy.core.money import dollars
from tokenbuddy.core.projects import project_name
from tokenbuddy.core.units import DAY_MS, HOUR_MS, MINUTE_MS
from tokenbuddy.core.wording import duration

if TYPE_CHECKING:
    from tokenbuddy.core.alerts.events import RequestEvent, Severity
    from tokenbuddy.core.alerts.thresholds import Thresholds


class _SpendEntry(NamedTuple):
    ts_ms: int
    cost_usd: float
    session_id: str
    project: str


class SpendHistory:
    """Spend per fixed window over the baseline days, per short stretch over the last hour,
    and each request of the last window."""

    MAX_RECENT = 20_000

    def __init__(self, limits: Thresholds) -> None:
        self.window_ms = int(limits.spend_window_minutes * MINUTE_MS)
        self.keep_ms = int(limits.spike_baseline_days * DAY_MS)
        self.slot_ms = int(
            min(limits.spike_short_window_minutes, limits.spend_window_minutes) * MINUTE_MS
        )
        self.early_ms = limits.spike_min_baseline_windows * self.window_ms
        self.by_window: dict[int, float] = {}
        self.by_slot: dict[int, float] = {}
        self.recent: deque[_SpendEntry] = deque(maxlen=self.MAX_RECENT)
        self.latest_ms = 0
        self._oldest_slot = 0

    def add(self, event: RequestEvent) -> None:
        """Count one request's cost."""
        cost = event.cost_usd or 0.0
        if cost <= 0:
            return
        slot = event.ts_ms // self.window_ms
        self.by_window[slot] = self.by_window.get(slot, 0.0) + cost
        if self.slot_ms > 0:
            short = event.ts_ms // self.slot_ms
            self.by_slot[short] = self.by_slot.get(short, 0.0) + cost
        self.latest_ms = max(self.latest_ms, event.ts_ms)
        if event.ts_ms > self.latest_ms - self.window_ms:
            self.recent.append(_SpendEntry(event.ts_ms, cost, event.session_id, event.project))
        self.prune(self.latest_ms)

    def prune(self, now_ms: int) -> None:
        """Forget requests older than the window and windows older than the baseline."""
        while self.recent and self.recent[0].ts_ms <= now_ms - self.window_ms:
            self.recent.popleft()
        if self.by_slot:
            first_kept = (now_ms - self.early_ms) // max(self.slot_ms, 1)
            self.by_slot = {k: v for k, v in self.by_slot.items() if k >= first_kept}
        oldest = (now_ms - self.keep_ms) // self.window_ms
        if oldest > self._oldest_slot:
            self._oldest_slot = oldest
            self.by_window = {k: v for k, v in self.by_window.items() if k >= oldest}

    def in_window(self, now_ms: int) -> list[_SpendEntry]:
        """The requests of the window ending at ``now_ms``."""
        return [e for e in self.recent if now_ms - self.window_ms < e.ts_ms <= now_ms]

    def baseline_usd_per_hour(self, now_ms: int, limits: Thresholds) -> float | None:
        """Median $/h of the active windows before the current one; None with too few."""
        before = (now_ms - self.window_ms) // self.window_ms
        rates = [usd * HOUR_MS / self.window_ms for k, usd in self.by_window.items() if k < before]
        if len(rates) < limits.spike_min_baseline_windows:
            return None
        return statistics.median(rates)

    def early_usd_per_hour(self, now_ms: int, limits: Thresholds) -> float | None:
        """Median $/h of the last hour's active short stretches that ended before the judged
        short window began; None with fewer than ``spike_early_min_slots`` of them."""
        if self.slot_ms <= 0:
            return None
        judged_from = now_ms - self.slot_ms
        since = now_ms - self.early_ms
        rates = [
            usd * HOUR_MS / self.slot_ms
            for k, usd in self.by_slot.items()
            if k * self.slot_ms >= since and (k + 1) * self.slot_ms <= judged_from
        ]
        if len(rates) < max(limits.spike_early_min_slots, 1):
            return None
        return statistics.median(rates)


def spike_alert(history: SpendHistory, now_ms: int, limits: Thresholds) -> Alert | None:
    entries = history.in_window(now_ms)
    short_ms = int(limits.spike_short_window_minutes * MINUTE_MS)
    rate, window_ms = max(
        (_burn(entries, now_ms, window, limits), window)
        for window in (history.window_ms, min(short_ms, history.window_ms))
    )
    bar, usual = _bar(history, now_ms, limits)
    if rate <= 0 or rate < bar:
        return None
    top = _top_spender([e for e in entries if e.ts_ms > now_ms - window_ms])
    severity: Severity = "critical" if rate >= limits.spike_critical_usd_per_hour else "warning"
    message = _spike_message(rate, usual, bar, window_ms, top)
    return Alert("spend_spike", severity, None, top.project, message, rate, now_ms, rate)


class _Usual(NamedTuple):
    usd_per_hour: float
    long: bool
    """True for the median of the baseline days, False for the last hour's stretches."""


def _bar(history: SpendHistory, now_ms: int, limits: Thresholds) -> tuple[float, _Usual | None]:
    """The $/h a spike must reach, and the usual rate it was set from (None for the
    no-history bar): the baseline days' or, short of those, the last hour's, whose bar
    applies only where it is lower than the no-history one."""
    baseline = history.baseline_usd_per_hour(now_ms, limits)
    usual = _Usual(baseline, long=True) if baseline is not None else None
    if usual is None:
        early = history.early_usd_per_hour(now_ms, limits)
        usual = None if early is None else _Usual(early, long=False)
    if usual is None:
        return limits.spike_floor_no_baseline_usd_per_hour, None
    bar = max(limits.spike_floor_usd_per_hour, limits.spike_ratio * usual.usd_per_hour)
    if not usual.long and bar >= limits.spike_floor_no_baseline_usd_per_hour:
        return limits.spike_floor_no_baseline_usd_per_hour, None
    return bar, usual


def _burn(entries: list[_SpendEntry], now_ms: int, window_ms: int, limits: Thresholds) -> float:
    """$/h over the ``window_ms`` before ``now_ms``; 0 with too few requests to judge."""
    inside = [e.cost_usd for e in entries if e.ts_ms > now_ms - window_ms]
    if len(inside) < limits.spike_min_requests:
        return 0.0
    return sum(inside) * HOUR_MS / window_ms


def _top_spender(entries: list[_SpendEntry]) -> _SpendEntry:
    """The session that spent most in ``entries``, with its total as the cost."""
    by_session: dict[str, _SpendEntry] = {}
    for entry in entries:
        known = by_session.get(entry.session_id)
        total = entry.cost_usd + (known.cost_usd if known else 0.0)
        by_session[entry.session_id] = entry._replace(cost_usd=total)
    return max(by_session.values(), key=lambda e: e.cost_usd)


def _spike_message(
    rate: float, usual: _Usual | None, bar: float, window_ms: int, top: _SpendEntry
) -> str:
    head = f"Spending {dollars(rate, whole_from=100)}/h over the last {duration(window_ms)}"
    if usual is None:
        head += f", above {dollars(bar, whole_from=100)}/h (no usual rate to compare with yet)"
    elif usual.long:
        head += f", {rate / usual.usd_per_hour:.1f}x your usual {_per_hour(usual)}"
    else:
        head += f", {rate / usual.usd_per_hour:.1f}x your {_per_hour(usual)} earlier this hour"
    where = f" in {project_name(top.project)}" if top.project else ""
    most = dollars(top.cost_usd, whole_from=100)
    return f"{head}; most of it ({most}) from session {top.session_id[:8]}{where}"


def _per_hour(usual: _Usual) -> str:
    return f"{dollars(usual.usd_per_hour, whole_from=100)}/h"
