"""What the guard would have done over past logs: its policy asked before each Claude Code
request, on the figures its hook would have had (pure; :mod:`tokenbuddy.services.replay`
feeds it the logs in time order).

A what-if, with ``[guard]`` in block mode. What the guard stops does not happen: the
detectors, the spend figures and every later decision see the logs without it.

**The hook calls**, inferred from the logs (they hold requests and the prompts people
typed, not the calls themselves):

- a prompt a person typed in a Claude Code session is a ``UserPromptSubmit`` at its time;
- the first request of a session with no prompt before it in the logs (a ``claude -p`` or
  Agent SDK run, whose prompt the reader leaves out as a script's) stands for that run's
  ``UserPromptSubmit``;
- every other request but the first after a prompt follows a tool call: a ``PreToolUse``,
  judged at the request's time (the call came a few seconds earlier, at the end of the
  previous response; the logs keep no time of its own).

A subagent's requests count with its session's. A session is scripted when its requests'
entrypoint says so (``sdk-cli``, ``sdk-ts``, ``sdk-py``), as ``CLAUDE_CODE_ENTRYPOINT``
tells the hook; one whose entrypoint is not known is judged as a person's. Codex and
Cursor have no hooks: their requests are counted, never judged.

**What a block stops.** A blocked prompt is never sent: the session's requests up to its
next prompt do not happen. A denied tool call does not run; the model still answers the
denial (the request the call led to stands for that answer, and is spent), is told to
stop, and the turn ends: its later requests do not happen (the replay assumes the model
heeds that). Spend already in flight when a rule trips is never stopped, and each later
prompt of a blocked session is judged afresh.

**The hook's figures** (:mod:`tokenbuddy.core.guard_figures`) are rebuilt at the first
call that finds them older than ``refresh_lag_ms`` (the hook's own rule: it starts a
refresh of every log root when its figures are over two minutes old), and are in place
for the next call: the call that started the refresh is judged on the older figures, as
the hook judges it. With a scripted-session limit set, the hook also has a scripted
session's own transcript read whenever it grew, so that session's spend is current from
its next call. With a lag of 0 every call sees the figures of its own moment (the best
case). Before the first refresh there are none, and the hook lets the call through
(it fails open). The status line of an interactive session and an open dashboard
refresh them more often; the replay leaves those out, as at 3 a.m. when only the hook
runs.

Each block says when its incident began and what was spent since
(:mod:`tokenbuddy.core.guard_incidents`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tokenbuddy.core import guard as policy
from tokenbuddy.core.alerts import PromptEvent, RequestEvent
from tokenbuddy.core.guard_figures import SESSION_WINDOW_MS, SpendFigures, hook_view
from tokenbuddy.core.guard_incidents import SHARED_RULES, IncidentClock
from tokenbuddy.core.records import CLAUDE_CODE
from tokenbuddy.core.units import MINUTE_MS

if TYPE_CHECKING:
    from datetime import tzinfo

    from tokenbuddy.core.alerts import Alert, AlertEngine

HOOK_REFRESH_MS = 2 * MINUTE_MS
"""The hook starts a refresh of every root when its figures are older than this (a test
keeps it in step with :data:`tokenbuddy.cli.guard_hook.STALE_MS`)."""
__all__ = ["SHARED_RULES", "GuardBlock", "GuardLift", "GuardReplay", "GuardTally", "GuardTrial"]


@dataclass(frozen=True, slots=True)
class GuardTrial:
    """The guard a replay tries: its settings and how fresh its figures are."""

    settings: dict[str, Any]
    """``[guard]`` as ``status.json`` carries it, with ``mode = "block"``."""
    zone: tzinfo
    """Where days and budget cycles begin (and the night unattended spend runs to)."""
    cycle_start_day: int = 1
    refresh_lag_ms: int = HOOK_REFRESH_MS


@dataclass(frozen=True, slots=True)
class GuardBlock:
    """One hook call the guard would have stopped, and why."""

    at_ms: int
    event: str
    """``UserPromptSubmit`` (a prompt, or a script's run) or ``PreToolUse`` (a tool call)."""
    session_id: str
    project: str
    entrypoint: str
    rule: str
    """The first rule that tripped (the one the hook records)."""
    rules: tuple[str, ...]
    message: str
    """What tripped, with the numbers."""
    reason: str
    """What the agent (and the person) would have been told."""
    figures_ms: int
    """When the figures it was judged on were refreshed."""
    incident_ms: int | None
    """When its incident began (see the module's notes); None when that is not known."""
    spend_since_usd: float
    """Spent from the incident's start to this block (0 without a start)."""
    opens: bool
    """The first block since the rule began tripping (the next ones follow from it)."""


@dataclass(frozen=True, slots=True)
class GuardLift:
    """A rule that had stopped calls no longer trips, in the figures of ``at_ms``."""

    at_ms: int
    rule: str
    since_ms: int
    """The block that began its stretch."""
    blocks: int
    sessions: int


if TYPE_CHECKING:
    Outcome = Alert | GuardBlock | GuardLift
    """What one event of the logs brings out: a warning to announce, a block or a lift."""


@dataclass(slots=True)
class GuardTally:
    """What the guard judged and stopped over a whole replay."""

    calls: int = 0
    """Hook calls judged."""
    blind_calls: int = 0
    """Calls before the first figures (let through: the hook fails open)."""
    blocks: dict[str, int] = field(default_factory=dict)
    """Blocks by rule."""
    blocked_sessions: set[str] = field(default_factory=set)
    logged_usd: float = 0.0
    """Every request in the logs."""
    stopped_usd: dict[str, float] = field(default_factory=dict)
    """Spend that would not have happened, by the rule that stopped it."""
    stopped_requests: int = 0
    unguarded_usd: float = 0.0
    """Spend of agents with no hook (Codex, Cursor): never stopped."""

    @property
    def spent_usd(self) -> float:
        """What would have been spent with the guard."""
        return self.logged_usd - sum(self.stopped_usd.values())


@dataclass(slots=True)
class _Session:
    """What the replay knows of one Claude Code session's turn."""

    entrypoint: str = ""
    project: str = ""
    requests: int = 0
    prompted: bool = False
    """A prompt went through since its latest request: the next one begins its turn."""
    stopped_by: str = ""
    """The rule that stopped its current turn ("" while it goes on)."""
    last_ms: int = 0


@dataclass(slots=True)
class _Episode:
    """Blocks by one rule (for the per-session rules, of one session) while it trips."""

    first_ms: int
    session_id: str
    """The latest session it stopped: the rule trips while it would stop that one again."""
    blocks: int = 0
    sessions: set[str] = field(default_factory=set)


class GuardReplay:
    """Feeds the detectors with what would have happened, and judges each hook call."""

    def __init__(self, engine: AlertEngine, trial: GuardTrial) -> None:
        self.engine = engine
        self.trial = trial
        self.tally = GuardTally()
        self.figures = SpendFigures(trial.zone, trial.cycle_start_day)
        self._view: dict[str, Any] | None = None
        self._view_alerts: list[Alert] = []
        self._sessions: dict[str, _Session] = {}
        limits = engine.thresholds
        self.incidents = IncidentClock(
            trial.settings,
            self.figures,
            rearm_ms=limits.rearm_minutes * MINUTE_MS,
            most=4 * limits.max_sessions,
        )
        self._episodes: dict[tuple[str, str], _Episode] = {}
        """(rule, session for the per-session rules) -> its blocks since it began tripping."""
        self._stopped_loop_ms: int | None = None
        """The latest block of unattended spend, as the hook's journal would record it."""
        self._stopped_incident: tuple[int, float] | None = None
        """(start, everyone's spend then) of the unattended spend the guard stopped: its
        blocks after the warning lapsed belong to that incident."""

    def feed(self, event: RequestEvent | PromptEvent) -> list[Outcome]:
        """One event of the logs: the hook call it implies judged, what happens fed to the
        detectors; returns its blocks and lifts, then the warnings to announce."""
        out: list[Outcome] = []
        if isinstance(event, RequestEvent):
            self.tally.logged_usd += event.cost_usd or 0.0
            if self._request(event, out):
                self._spend(event)
        elif self._prompt(event, out):
            self.engine.feed_prompt(event)
        out += self.engine.evaluate(event.ts_ms)
        self.incidents.watch(self.engine.active(event.ts_ms), event.ts_ms)
        return out

    def _prompt(self, event: PromptEvent, out: list[Outcome]) -> bool:
        """A person's prompt: judged in a Claude Code session; whether it was sent."""
        if event.source != CLAUDE_CODE:
            return True
        session = self._session(event.session_id)
        session.entrypoint = event.entrypoint or session.entrypoint
        block = self._call(policy.USER_PROMPT_SUBMIT, event.ts_ms, event.session_id, out)
        session.prompted = block is None
        session.stopped_by = block.rule if block is not None else ""
        return block is None

    def _request(self, event: RequestEvent, out: list[Outcome]) -> bool:
        """A request: the call before it judged (Claude Code); whether it happens."""
        if event.source != CLAUDE_CODE:
            self.tally.unguarded_usd += event.cost_usd or 0.0
            return True
        session = self._session(event.session_id)
        session.entrypoint = event.entrypoint or session.entrypoint
        session.project = event.project or session.project
        session.last_ms = max(session.last_ms, event.ts_ms)
        first, session.requests = session.requests == 0, session.requests + 1
        if session.stopped_by:
            self._stop(event, session.stopped_by)
            return False
        if session.prompted:  # the first of a turn: its prompt was the call
            session.prompted = False
            return True
        hook = policy.USER_PROMPT_SUBMIT if first else policy.PRE_TOOL_USE
        block = self._call(hook, event.ts_ms, event.session_id, out)
        if block is None:
            return True
        session.stopped_by = block.rule
        if hook == policy.PRE_TOOL_USE:  # the model answers the denial, then stops
            return True
        self._stop(event, block.rule)
        return False

    def _stop(self, event: RequestEvent, rule: str) -> None:
        tally = self.tally
        tally.stopped_usd[rule] = tally.stopped_usd.get(rule, 0.0) + (event.cost_usd or 0.0)
        tally.stopped_requests += 1

    def _call(
        self, hook: str, now_ms: int, session_id: str, out: list[Outcome]
    ) -> GuardBlock | None:
        """One hook call, judged on the figures the hook has; old figures are refreshed,
        for this call with no lag, else for the next one (the hook never waits)."""
        self.tally.calls += 1
        lag = self.trial.refresh_lag_ms
        stale = self._view is None or now_ms - self._view["updated_ms"] > lag
        if stale and lag == 0:
            self._refresh(now_ms, out)
        block = self._judge(hook, now_ms, session_id)
        if block is not None:
            out.append(block)
        if stale and lag > 0:
            self._refresh(now_ms, out)
        elif lag > 0:
            self._follow_scripted(session_id)
        return block

    def _follow_scripted(self, session_id: str) -> None:
        """Under a scripted-session limit, a scripted session's own spend in the figures is
        brought up to date for its next call (the hook has its transcript read)."""
        view = self._view
        limit = self.trial.settings.get("scripted_session_limit_usd")
        if (
            view is None
            or not limit
            or not policy.is_scripted(self._session(session_id).entrypoint)
        ):
            return
        view["sessions"][session_id] = round(self.figures.session_usd(session_id), 6)

    def _judge(self, hook: str, now_ms: int, session_id: str) -> GuardBlock | None:
        view = self._view
        if view is None:
            self.tally.blind_calls += 1
            return None
        session = self._session(session_id)
        verdict = policy.decide(
            view,
            [],
            session_id=session_id,
            entrypoint=session.entrypoint,
            event=hook,
            now_ms=now_ms,
        )
        return None if verdict is None else self._block(verdict, hook, now_ms, session_id, view)

    def _block(
        self,
        verdict: policy.Verdict,
        hook: str,
        now_ms: int,
        session_id: str,
        view: dict[str, Any],
    ) -> GuardBlock:
        session = self._session(session_id)
        key = (verdict.rule, "" if verdict.rule in SHARED_RULES else session_id)
        episode = self._episodes.get(key)
        opens = episode is None
        if episode is None:
            episode = self._episodes[key] = _Episode(now_ms, session_id)
        episode.blocks += 1
        episode.sessions.add(session_id)
        episode.session_id = session_id
        if verdict.rule == "unattended_spend":
            self._stopped_loop_ms = now_ms
        tally = self.tally
        tally.blocks[verdict.rule] = tally.blocks.get(verdict.rule, 0) + 1
        tally.blocked_sessions.add(session_id)
        incident_ms, spent_since = self.incidents.began(verdict.rule, session_id, self._view_alerts)
        if verdict.rule == "unattended_spend":
            incident_ms, spent_since = self._stopped_since(incident_ms, spent_since)
        return GuardBlock(
            at_ms=now_ms,
            event=hook,
            session_id=session_id,
            project=session.project,
            entrypoint=session.entrypoint,
            rule=verdict.rule,
            rules=tuple(trip.rule for trip in verdict.trips),
            message=verdict.message,
            reason=policy.block_reason(verdict, session_id, hook),
            figures_ms=int(view["updated_ms"]),
            incident_ms=incident_ms,
            spend_since_usd=spent_since,
            opens=opens,
        )

    def _stopped_since(
        self, incident_ms: int | None, spent_since: float
    ) -> tuple[int | None, float]:
        """The incident a block of unattended spend belongs to: its warning's, or, once
        that lapsed, the one the guard stopped (the stop holds until a person types)."""
        total = self.figures.total_usd
        if incident_ms is not None:
            self._stopped_incident = (incident_ms, total - spent_since)
        elif self._stopped_incident is not None:
            incident_ms, spent_since = self._stopped_incident[0], total - self._stopped_incident[1]
        return incident_ms, spent_since

    def _refresh(self, now_ms: int, out: list[Outcome]) -> None:
        """Rebuild the hook's figures as of ``now_ms``; a rule that no longer trips in them
        ends its stretch of blocks."""
        self._view_alerts = self.engine.active(now_ms)
        self._view = view = hook_view(now_ms, self.figures, self._view_alerts, self.trial.settings)
        view["person_typed_ms"] = self.engine.person_typed_ms
        if self._stopped_loop_ms is not None:  # what a refresh imports from the journal
            stop = {"ts_ms": self._stopped_loop_ms, "decision": "block", "rule": "unattended_spend"}
            view["guard"]["decisions"] = [stop]
        self._forget_quiet_sessions(now_ms)
        for key, episode in list(self._episodes.items()):
            rule = key[0]
            if not self._trips(rule, episode.session_id, now_ms):
                del self._episodes[key]
                out.append(
                    GuardLift(now_ms, rule, episode.first_ms, episode.blocks, len(episode.sessions))
                )

    def _trips(self, rule: str, session_id: str, now_ms: int) -> bool:
        """Whether ``rule`` would stop a tool call of ``session_id`` in the hook's figures."""
        if self._view is None:
            return False
        trips = policy.evaluate(
            self._view,
            session_id=session_id,
            entrypoint=self._session(session_id).entrypoint,
            event=policy.PRE_TOOL_USE,
            now_ms=now_ms,
        )
        return any(trip.rule == rule for trip in trips)

    def _spend(self, event: RequestEvent) -> None:
        """A request that happens: fed to the detectors and counted."""
        self.engine.feed_request(event)
        self.figures.roll(event.ts_ms)
        self.figures.add(event.ts_ms, event.session_id, event.cost_usd or 0.0)
        self.incidents.count_request(event.ts_ms, event.session_id)

    def _forget_quiet_sessions(self, now_ms: int) -> None:
        """Sessions with no request for a day are forgotten, once there are many (a
        session resumed later begins with a prompt)."""
        if len(self._sessions) <= 4 * self.engine.thresholds.max_sessions:
            return
        horizon = now_ms - SESSION_WINDOW_MS
        for session_id, session in list(self._sessions.items()):
            if session.last_ms < horizon:
                del self._sessions[session_id]

    def _session(self, session_id: str) -> _Session:
        session = self._sessions.get(session_id)
        if session is None:
            session = self._sessions[session_id] = _Session()
        return session
