"""The ``unattended_spend`` detector (person-wide): spend going on while nobody types.

A *person's prompt* is a prompt in a session that is not scripted (see
:func:`~tokenbuddy.core.entrypoints.is_scripted`: ``claude -p``, the Agent SDKs,
``codex exec`` and the Codex SDKs are). A prompt whose own entrypoint is unknown, in a
session not seen before, is held until that session's first request says what it is,
and counts as a person's if no request comes within five minutes (a first answer,
reasoning included, takes less; a prompt that gets none spends nothing either way).

Everything after the latest person's prompt is *unattended activity*: the requests of
every session (Cursor's aside, whose logs hold no prompts to tell) and the prompts
scripts wrote. A *run* is that activity with no pause over
``unattended_max_gap_minutes``. It is a warning once

- it has gone on for ``unattended_minutes`` (from its first activity to now, counting
  a run as still going up to two minutes past its latest activity, so a loop's half
  hour is up on time and not at its next request),
- it has spent ``unattended_min_usd``, and
- it involves at least two sessions. One session alone, scripted or not, is the
  per-session ``unattended_loop``'s to announce (from the same minutes, and prompts
  of a scripted session do not end its streak either), so it is not announced twice.
  A loop of ``claude -p`` runs has a second session within a minute or two.

Its rate is its spend over the last ``unattended_minutes``, per hour. The projection
is the spend so far plus that rate up to the next ``unattended_morning_hour``:00 local
time when that is between ``unattended_horizon_hours`` and twice that away (with the
defaults: from 16:00 to midnight), else over the next ``unattended_horizon_hours``.
It is critical once the projection reaches ``unattended_critical_usd``. It clears as
soon as a person types in any session, and lapses once the run has paused longer than
``unattended_max_gap_minutes``.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, NamedTuple

from tokenbuddy.core.alerts.events import Alert
from tokenbuddy.core.entrypoints import entrypoint_label, is_scripted, shows_prompts
from tokenbuddy.core.money import dollars
from tokenbuddy.core.projects import project_name
from tokenbuddy.core.units import HOUR_MS, MINUTE_MS
from tokenbuddy.core.wording import counted, duration

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import tzinfo

    from tokenbuddy.core.alerts.events import PromptEvent, RequestEvent, Severity
    from tokenbuddy.core.alerts.thresholds import Thresholds

PROMPT_SETTLE_MS = 5 * MINUTE_MS
"""A held prompt counts as a person's once its session has made no request for this long."""
ONGOING_MS = 2 * MINUTE_MS
"""A run counts as going on for this long past its latest activity."""
MAX_NAMES = 32
"""Projects and entrypoints a run names; spend beyond them is counted as "others"."""
MAX_RECENT = 20_000
_OTHERS = ""


class _Known(NamedTuple):
    """What a session's entrypoint said: whether a program drives it, and its name."""

    scripted: bool
    label: str


class _Activity(NamedTuple):
    ts_ms: int
    session_id: str
    project: str
    label: str
    scripted: bool
    cost_usd: float


@dataclass(slots=True)
class _Run:
    """Unattended activity with no long pause: its spend, sessions, projects and entrypoints."""

    start_ms: int
    last_ms: int
    cost_usd: float = 0.0
    sessions: OrderedDict[str, bool] = field(default_factory=OrderedDict)
    """Session -> scripted, most recently active last (at most ``max_sessions``)."""
    session_count: int = 0
    scripted_count: int = 0
    projects: dict[str, float] = field(default_factory=dict)
    labels: dict[str, float] = field(default_factory=dict)
    recent: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=MAX_RECENT))

    def add(self, activity: _Activity, limits: Thresholds) -> None:
        self.start_ms = min(self.start_ms, activity.ts_ms)
        self.last_ms = max(self.last_ms, activity.ts_ms)
        self.cost_usd += activity.cost_usd
        self._add_session(activity, limits.max_sessions)
        if activity.project:
            _tally(self.projects, activity.project, activity.cost_usd)
        _tally(self.labels, activity.label, activity.cost_usd)
        if activity.cost_usd > 0:
            self.recent.append((activity.ts_ms, activity.cost_usd))
        window_ms = limits.unattended_minutes * MINUTE_MS
        while self.recent and self.recent[0][0] <= self.last_ms - window_ms:
            self.recent.popleft()

    def _add_session(self, activity: _Activity, max_sessions: int) -> None:
        known = self.sessions.get(activity.session_id)
        if known is None:
            self.session_count += 1
            self.scripted_count += activity.scripted
            if len(self.sessions) >= max_sessions:
                self.sessions.popitem(last=False)
        elif activity.scripted and not known:
            self.scripted_count += 1
        self.sessions[activity.session_id] = bool(known) or activity.scripted
        self.sessions.move_to_end(activity.session_id)

    def usd_per_hour(self, now_ms: int, window_ms: float) -> float:
        """Spend over the ``window_ms`` before ``now_ms``, per hour."""
        spent = sum(usd for ts, usd in self.recent if now_ms - window_ms < ts <= now_ms)
        return spent * HOUR_MS / window_ms


class UnattendedSpend:
    """Who is scripted, when a person last typed, and the unattended run since."""

    def __init__(self, limits: Thresholds, zone: tzinfo) -> None:
        self.limits = limits
        self.zone = zone
        self.run: _Run | None = None
        self._typed_ms: int | None = None
        self._known: OrderedDict[str, _Known] = OrderedDict()
        self._held: OrderedDict[str, PromptEvent] = OrderedDict()

    @property
    def typed_ms(self) -> int | None:
        """When a person last typed a prompt, in any session (None: not seen yet)."""
        return self._typed_ms

    def add_prompt(self, event: PromptEvent) -> None:
        """A prompt: a person's ends the run; a script's is unattended activity."""
        known = self._known.get(event.session_id)
        if event.entrypoint:
            known = self._remember(event.session_id, event.source, event.entrypoint)
        if known is None:
            self._hold(event)
        else:
            self._settle(event, known)

    def add_request(self, event: RequestEvent) -> None:
        """A request: unattended activity when it came after the latest person's prompt."""
        known = self._known.get(event.session_id)
        if event.entrypoint or known is None:
            known = self._remember(event.session_id, event.source, event.entrypoint)
        held = self._held.pop(event.session_id, None)
        if held is not None:
            self._settle(held, known)
        if not shows_prompts(event.source):
            return
        if self._typed_ms is not None and event.ts_ms <= self._typed_ms:
            return
        project, cost = event.project, event.cost_usd or 0.0
        self._add(
            _Activity(event.ts_ms, event.session_id, project, known.label, known.scripted, cost)
        )

    def alert(self, now_ms: int) -> Alert | None:
        """The run, once it is long, costly and person-wide enough, while it goes on."""
        self._settle_held(now_ms)
        run, limits = self.run, self.limits
        if run is not None and now_ms - run.last_ms > limits.unattended_max_gap_minutes * MINUTE_MS:
            self.run = run = None
        elapsed = _elapsed(run, now_ms, limits)
        if run is None or elapsed is None:
            return None
        rate = run.usd_per_hour(now_ms, limits.unattended_minutes * MINUTE_MS)
        hours, until = projection_horizon(now_ms, self.zone, limits)
        projected = run.cost_usd + rate * hours
        critical = projected >= limits.unattended_critical_usd
        severity: Severity = "critical" if critical else "warning"
        message = _message(run, elapsed, rate, projected, until)
        top = max(run.projects, key=run.projects.__getitem__, default=None) or None
        return Alert(
            "unattended_spend",
            severity,
            None,
            top,
            message,
            rate,
            now_ms,
            rate,
            sessions=tuple(run.sessions),
        )

    def _add(self, activity: _Activity) -> None:
        gap_ms = self.limits.unattended_max_gap_minutes * MINUTE_MS
        if self.run is None or activity.ts_ms - self.run.last_ms > gap_ms:
            self.run = _Run(activity.ts_ms, activity.ts_ms)
        self.run.add(activity, self.limits)

    def _settle(self, prompt: PromptEvent, known: _Known | None) -> None:
        """A prompt whose session is known: activity if a script wrote it, else a person's
        (also when its session stayed unknown)."""
        if known is not None and known.scripted:
            self._add(_Activity(prompt.ts_ms, prompt.session_id, "", known.label, True, 0.0))
            return
        if self._typed_ms is None or prompt.ts_ms > self._typed_ms:
            self._typed_ms = prompt.ts_ms
        if self.run is not None and self.run.start_ms <= prompt.ts_ms:
            self.run = None

    def _hold(self, prompt: PromptEvent) -> None:
        self._held[prompt.session_id] = prompt
        self._held.move_to_end(prompt.session_id)
        if len(self._held) > self.limits.max_sessions:
            _, oldest = self._held.popitem(last=False)
            self._settle(oldest, None)

    def _settle_held(self, now_ms: int) -> None:
        """Held prompts whose session made no request in time count as a person's."""
        for session_id, prompt in list(self._held.items()):
            if now_ms - prompt.ts_ms >= PROMPT_SETTLE_MS:
                del self._held[session_id]
                self._settle(prompt, None)

    def _remember(self, session_id: str, source: str, entrypoint: str) -> _Known:
        known = _Known(is_scripted(source, entrypoint), entrypoint_label(source, entrypoint))
        self._known[session_id] = known
        self._known.move_to_end(session_id)
        if len(self._known) > self.limits.max_sessions:
            self._known.popitem(last=False)
        return known


def _elapsed(run: _Run | None, now_ms: int, limits: Thresholds) -> int | None:
    """How long ``run`` has gone on, once that is ``unattended_minutes`` and it has spent
    ``unattended_min_usd`` in two or more sessions; else None."""
    if run is None or run.session_count < 2 or run.cost_usd < limits.unattended_min_usd:
        return None
    elapsed = min(now_ms, run.last_ms + ONGOING_MS) - run.start_ms
    return elapsed if elapsed >= limits.unattended_minutes * MINUTE_MS else None


def projection_horizon(now_ms: int, zone: tzinfo, limits: Thresholds) -> tuple[float, str]:
    """Hours the projection covers, and when they end as the message says it: ``by 08:00``
    (the next morning hour, local time), or ``by 10:07, 8 h from now``."""
    now = datetime.fromtimestamp(now_ms / 1000, zone)
    hour = limits.unattended_morning_hour
    morning_ms = 0
    for day in (0, 1):
        moment = datetime.combine(now.date() + timedelta(days=day), time(hour), tzinfo=zone)
        morning_ms = int(moment.timestamp() * 1000)
        if morning_ms > now_ms:
            break
    to_morning = (morning_ms - now_ms) / HOUR_MS
    horizon = limits.unattended_horizon_hours
    if horizon <= to_morning <= 2 * horizon:
        return to_morning, f"by {hour:02d}:00"
    end = datetime.fromtimestamp(now_ms / 1000 + horizon * 3600, zone)
    return horizon, f"by {end:%H:%M}, {horizon:g} h from now"


def _message(run: _Run, elapsed_ms: int, rate: float, projected: float, until: str) -> str:
    if run.scripted_count == run.session_count:
        who = counted(run.session_count, "scripted session")
    elif run.scripted_count:
        who = f"{counted(run.session_count, 'session')} ({run.scripted_count} scripted)"
    else:
        who = counted(run.session_count, "session")
    where = f" in {_names(run.projects, project_name)}" if run.projects else ""
    spent, ahead = dollars(run.cost_usd, whole_from=100), dollars(projected, whole_from=100)
    return (
        f"Unattended spend for {duration(elapsed_ms)} (no prompt typed in any session): "
        f"{who} via {_names(run.labels, str)}{where} at {dollars(rate, whole_from=100)}/h; "
        f"{spent} so far, ≈{ahead} {until} at this rate"
    )


def _tally(spend: dict[str, float], name: str, usd: float) -> None:
    """Add ``usd`` to ``name``, or to the others once :data:`MAX_NAMES` are named."""
    if name not in spend and len(spend) >= MAX_NAMES:
        name = _OTHERS
    spend[name] = spend.get(name, 0.0) + usd


def _names(spend: dict[str, float], show: Callable[[str], str]) -> str:
    """The three costliest names, then how many more: ``a, b, c and 3 more``."""
    named = sorted((n for n in spend if n != _OTHERS), key=lambda n: -spend[n])
    shown = [show(n) for n in named[:3]]
    if _OTHERS in spend:
        shown.append("others")
    elif len(named) > len(shown):
        shown.append(f"{len(named) - len(shown)} more")
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
