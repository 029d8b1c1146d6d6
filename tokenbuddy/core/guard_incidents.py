"""When the incident behind a guard block began, and what was spent since (pure).

A replay of the guard (:mod:`tokenbuddy.core.guard_replay`) says, with each block, how
late it came. The incident begins:

- for ``unattended_spend`` and ``critical_alert``: when the warning the rule acted on
  first held; a warning that had been clear for ``rearm_minutes`` begins a new incident
  (the detectors announce it anew then);
- for ``hard_cap`` and ``daily_cap``: with the request that took the cycle's or the day's
  spend to the cap;
- for ``scripted_session_limit``: with the request that took the session's spend to the
  limit.

What was spent since is every session's spend for the person-wide rule and the caps
(:data:`SHARED_RULES`), and the blocked session's own for the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tokenbuddy.core.alerts import Alert, AlertKind
    from tokenbuddy.core.guard_figures import SpendFigures

SHARED_RULES = ("hard_cap", "daily_cap", "unattended_spend")
"""Rules that act for every session: their incident's spend is everyone's."""
CAPS = (("hard_cap", "hard_cap_usd"), ("daily_cap", "daily_cap_usd"))


@dataclass(slots=True)
class _Stretch:
    """A warning's current incident: when it began, the spend then, when last it held."""

    start_ms: int
    last_ms: int
    total_usd: float
    session_usd: float


class IncidentClock:
    """Watches the spend and the warnings for the moments incidents begin."""

    def __init__(
        self, settings: dict[str, Any], figures: SpendFigures, *, rearm_ms: float, most: int
    ) -> None:
        self.settings = settings
        self.figures = figures
        self.rearm_ms = rearm_ms
        self.most = most
        """Warnings remembered at most (the quiet longest are forgotten first)."""
        self._stretches: dict[tuple[AlertKind, str | None], _Stretch] = {}
        self._caps: dict[str, tuple[int, float, int]] = {}
        """Cap rule -> when the spend reached it, the total then, and when that day or
        cycle ends (a later one starts from zero)."""
        self._limits: dict[str, tuple[int, float]] = {}
        """Session -> when it reached the scripted-session limit, and its spend then."""

    def count_request(self, ts_ms: int, session_id: str) -> None:
        """After a request's spend is counted: note the caps and the limit it reached."""
        figures = self.figures
        for rule, setting in CAPS:
            cap = self.settings.get(setting)
            spent = figures.cycle_usd if rule == "hard_cap" else figures.today_usd
            if cap and spent >= cap and self._cap_reached(rule) is None:
                self._caps[rule] = (ts_ms, figures.total_usd, self._period_end(rule))
        limit = self.settings.get("scripted_session_limit_usd")
        if limit and session_id not in self._limits:
            spent = figures.session_usd(session_id)
            if spent >= limit:
                self._limits[session_id] = (ts_ms, spent)

    def watch(self, alerts: Iterable[Alert], now_ms: int) -> None:
        """Note when each warning active at ``now_ms`` began its current incident."""
        figures = self.figures
        for alert in alerts:
            stretch = self._stretches.get(alert.key)
            if stretch is None or now_ms - stretch.last_ms >= self.rearm_ms:
                session_usd = figures.session_usd(alert.session_id or "")
                stretch = _Stretch(now_ms, now_ms, figures.total_usd, session_usd)
                self._stretches[alert.key] = stretch
            stretch.last_ms = now_ms
        if len(self._stretches) > self.most:
            by_age = sorted(self._stretches, key=lambda key: self._stretches[key].last_ms)
            for key in by_age[: len(by_age) - self.most // 2]:
                del self._stretches[key]

    def began(
        self, rule: str, session_id: str, alerts: Iterable[Alert]
    ) -> tuple[int | None, float]:
        """When the incident behind a block by ``rule`` of ``session_id`` began, and what
        was spent since; (None, 0) when that is not known. ``alerts`` are the warnings in
        the figures the block was judged on."""
        figures = self.figures
        if rule in ("hard_cap", "daily_cap"):
            reached = self._cap_reached(rule)
            return (reached[0], figures.total_usd - reached[1]) if reached else (None, 0.0)
        if rule == "scripted_session_limit":
            limit = self._limits.get(session_id)
            if limit is None:
                return None, 0.0
            return limit[0], figures.session_usd(session_id) - limit[1]
        key = warning_key(rule, session_id, alerts)
        stretch = None if key is None else self._stretches.get(key)
        if stretch is None:
            return None, 0.0
        if rule in SHARED_RULES:
            return stretch.start_ms, figures.total_usd - stretch.total_usd
        return stretch.start_ms, figures.session_usd(session_id) - stretch.session_usd

    def _period_end(self, rule: str) -> int:
        figures = self.figures
        return figures.cycle_ends_ms if rule == "hard_cap" else figures.day_ends_ms

    def _cap_reached(self, rule: str) -> tuple[int, float] | None:
        """When this cycle's or day's spend reached the cap, and the total then."""
        reached = self._caps.get(rule)
        if reached is None or reached[2] != self._period_end(rule):
            return None
        return reached[0], reached[1]


def warning_key(
    rule: str, session_id: str, alerts: Iterable[Alert]
) -> tuple[AlertKind, str | None] | None:
    """The critical warning among ``alerts`` that ``rule`` acts on for ``session_id``, as
    :func:`tokenbuddy.core.guard.evaluate` picks it."""
    for alert in alerts:
        if alert.severity != "critical":
            continue
        if rule == "unattended_spend" and alert.kind == "unattended_spend":
            return alert.key
        named = alert.session_id == session_id or session_id in alert.sessions
        if rule == "critical_alert" and alert.kind != "unattended_spend" and named:
            return alert.key
    return None
