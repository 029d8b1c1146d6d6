"""The announcement engine: feeds the detectors and decides what is news.

An alert is identified by (kind, session). :meth:`~AlertEngine.evaluate` returns it
the first time its condition holds and again only when it is materially worse: its
severity rose, or, ``refire_min_minutes`` or more after the last announcement, its
magnitude (the excess or spend rate, or the projected share of the cap) grew to
``refire_growth_ratio`` times the value announced then (a ramping spike would
otherwise be announced at every step). An alert is active while its condition holds;
session alerts lapse when the session goes quiet (``alert_idle_minutes`` for cache
collapse, the loop gap for a loop). Once an alert has stayed clear for
``rearm_minutes``, its next occurrence is new.

Only sessions active in the last ``session_forget_minutes`` are kept, at most
``max_sessions`` of them with ``max_lineages_per_session`` lineages each; every
per-lineage and spend window is a bounded deque.

The engine takes the user's time zone (UTC unless given) for the one local-time rule:
the person-wide unattended spend is projected to the next morning.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING

from tokenbuddy.core.agents import records_cache
from tokenbuddy.core.alerts.cache_collapse import CacheLineage, cache_alert, lineage_for
from tokenbuddy.core.alerts.events import SEVERITY_RANK
from tokenbuddy.core.alerts.limits import cap_alert, window_alert
from tokenbuddy.core.alerts.spend_spike import SpendHistory, spike_alert
from tokenbuddy.core.alerts.thresholds import Thresholds
from tokenbuddy.core.alerts.unattended_loop import Streak, extend_streak, loop_alert
from tokenbuddy.core.alerts.unattended_spend import UnattendedSpend
from tokenbuddy.core.entrypoints import is_scripted
from tokenbuddy.core.units import MINUTE_MS

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import tzinfo

    from tokenbuddy.core.alerts.events import Alert, AlertKind, PromptEvent, RequestEvent, Severity
    from tokenbuddy.core.alerts.limits import WindowReading
    from tokenbuddy.core.projection import CycleProjection


@dataclass(slots=True)
class _Session:
    """What the detectors remember about one recently active session."""

    session_id: str
    project: str = ""
    last_seen_ms: int = 0
    last_prompt_ms: int | None = None
    scripted: bool = False
    """A program drives it (its requests' entrypoint says so): its prompts are no
    person's and do not end its streak."""
    streak: Streak | None = None
    lineages: dict[str, CacheLineage] = field(default_factory=dict)

    def add_request(self, event: RequestEvent, limits: Thresholds) -> None:
        """Update the cache lineage and the unattended streak with one request."""
        self.project = event.project or self.project
        self.last_seen_ms = max(self.last_seen_ms, event.ts_ms)
        if event.entrypoint:
            self.scripted = is_scripted(event.source, event.entrypoint)
        if records_cache(event.source, event.entrypoint):
            lineage_for(self.lineages, event, limits).add(event, limits)
        if self.last_prompt_ms is None or event.ts_ms >= self.last_prompt_ms:
            self.streak = extend_streak(self.streak, event, self.last_prompt_ms, limits)

    def add_prompt(self, event: PromptEvent) -> None:
        """A human prompt ends the unattended streak; a script's does not."""
        self.last_seen_ms = max(self.last_seen_ms, event.ts_ms)
        if self.scripted or is_scripted(event.source, event.entrypoint):
            return
        if self.last_prompt_ms is None or event.ts_ms > self.last_prompt_ms:
            self.last_prompt_ms = event.ts_ms
            self.streak = None

    def alerts(self, now_ms: int, limits: Thresholds) -> tuple[Alert | None, Alert | None]:
        """The session's cache collapse while it is active, and its unattended loop."""
        session_id, project = self.session_id, self.project
        collapse = None
        if now_ms - self.last_seen_ms <= limits.alert_idle_minutes * MINUTE_MS:
            collapse = cache_alert(
                self.lineages.values(),
                session_id=session_id,
                project=project,
                now_ms=now_ms,
                limits=limits,
            )
        loop = loop_alert(
            self.streak, session_id=session_id, project=project, now_ms=now_ms, limits=limits
        )
        return collapse, loop


@dataclass(slots=True)
class _Announced:
    severity: Severity
    magnitude: float
    at_ms: int
    clear_since_ms: int | None = None


class AlertEngine:
    """Feeds the detectors and decides which alerts are new, worse, or still active."""

    def __init__(self, thresholds: Thresholds | None = None, *, zone: tzinfo = UTC) -> None:
        self.thresholds = thresholds or Thresholds()
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._spend = SpendHistory(self.thresholds)
        self._unattended = UnattendedSpend(self.thresholds, zone)
        self._projection: CycleProjection | None = None
        self._windows: tuple[WindowReading, ...] = ()
        self._announced: dict[tuple[AlertKind, str | None], _Announced] = {}

    @property
    def tracked_sessions(self) -> int:
        """How many sessions the engine currently keeps state for."""
        return len(self._sessions)

    @property
    def person_typed_ms(self) -> int | None:
        """When a person last typed a prompt in any session (scripts' prompts aside)."""
        return self._unattended.typed_ms

    def feed_request(self, event: RequestEvent) -> None:
        """Take in one request; events should arrive in roughly time order."""
        self._session(event.session_id).add_request(event, self.thresholds)
        self._spend.add(event)
        self._unattended.add_request(event)

    def feed_prompt(self, event: PromptEvent) -> None:
        """Take in one prompt (a person's, or a script's when its session is scripted)."""
        self._session(event.session_id).add_prompt(event)
        self._unattended.add_prompt(event)

    def feed_projection(self, projection: CycleProjection | None) -> None:
        """Replace the cycle projection the cap alert is judged on (None: no cap alert)."""
        self._projection = projection

    def feed_windows(self, windows: Iterable[WindowReading]) -> None:
        """Replace the subscription windows the window alerts are judged on."""
        self._windows = tuple(windows)

    def active(self, now_ms: int) -> list[Alert]:
        """Every alert whose condition holds at ``now_ms``, worst first."""
        self._forget_idle(now_ms)
        limits = self.thresholds
        found: list[Alert | None] = [
            spike_alert(self._spend, now_ms, limits),
            self._unattended.alert(now_ms),
        ]
        for session in self._sessions.values():
            found += session.alerts(now_ms, limits)
        if self._projection is not None:
            found.append(cap_alert(self._projection, now_ms, limits))
        found += (window_alert(window, now_ms, limits) for window in self._windows)
        live = [alert for alert in found if alert is not None]
        return sorted(live, key=lambda a: (-SEVERITY_RANK[a.severity], -a.cost_per_hour_usd))

    def evaluate(self, now_ms: int) -> list[Alert]:
        """The active alerts that are new or materially worse than when last announced."""
        current = self.active(now_ms)
        fresh = [alert for alert in current if self._is_news(alert)]
        for alert in fresh:
            self._announced[alert.key] = _Announced(alert.severity, alert.magnitude, now_ms)
        self._rearm({alert.key for alert in current}, now_ms)
        return fresh

    def _is_news(self, alert: Alert) -> bool:
        last = self._announced.get(alert.key)
        if last is None:
            return True
        if SEVERITY_RANK[alert.severity] > SEVERITY_RANK[last.severity]:
            return True
        limits = self.thresholds
        rested = alert.at_ms - last.at_ms >= limits.refire_min_minutes * MINUTE_MS
        return rested and alert.magnitude >= last.magnitude * limits.refire_growth_ratio

    def _rearm(self, active_keys: set[tuple[AlertKind, str | None]], now_ms: int) -> None:
        """Forget announcements whose condition has stayed clear for ``rearm_minutes``."""
        rearm_ms = self.thresholds.rearm_minutes * MINUTE_MS
        for key, announced in list(self._announced.items()):
            if key in active_keys:
                announced.clear_since_ms = None
            elif announced.clear_since_ms is None:
                announced.clear_since_ms = now_ms
            elif now_ms - announced.clear_since_ms >= rearm_ms:
                del self._announced[key]

    def _session(self, session_id: str) -> _Session:
        session = self._sessions.get(session_id)
        if session is None:
            session = self._sessions[session_id] = _Session(session_id)
            if len(self._sessions) > self.thresholds.max_sessions:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(session_id)
        return session

    def _forget_idle(self, now_ms: int) -> None:
        horizon = now_ms - self.thresholds.session_forget_minutes * MINUTE_MS
        for session_id in [s for s, v in self._sessions.items() if v.last_seen_ms < horizon]:
            del self._sessions[session_id]
        self._spend.prune(now_ms)
