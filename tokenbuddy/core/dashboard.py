"""What the dashboard shows, as plain data: one snapshot, rebuilt after every ingest.

The TUI only renders a :class:`DashboardSnapshot`; building one is the store's
job (``tokenbuddy.services.snapshot``), so every figure can be tested without a
terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tokenbuddy.core.agents import short_agent_name
from tokenbuddy.core.entrypoints import is_scripted
from tokenbuddy.core.units import HOUR_MS, MINUTE_MS

if TYPE_CHECKING:
    from tokenbuddy.core.alerts import Alert
    from tokenbuddy.core.blocks import ActiveBlock
    from tokenbuddy.core.metrics import BurnRate, Cycle
    from tokenbuddy.core.projection import CycleProjection, WindowProjection
    from tokenbuddy.core.totals import Totals

ACTIVE_MS = 15 * MINUTE_MS
"""A session with a request in the last 15 minutes counts as active."""


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One row of the sessions table."""

    session_id: str
    source: str
    project: str
    """The working directory's last component (the full path is in ``project_path``)."""
    project_path: str
    models: tuple[str, ...]
    cost_usd: float
    requests: int
    cache_hit_ratio: float | None
    subagent_share: float
    """Share of the session's cost spent by subagents."""
    first_ms: int
    last_ms: int
    active: bool
    entrypoint: str = ""
    """How the session was started (``cli``, ``sdk-cli`` for ``claude -p``, ``codex_exec``...);
    empty when its logs do not say."""
    prompt_tokens: int = 0
    """All its input: plain, written to cache and read from cache (what the cache hit
    ratio is a share of)."""

    @property
    def usd_per_hour(self) -> float:
        """Average spend rate over the session's span (at least one minute)."""
        return _rate(self.cost_usd, self.first_ms, self.last_ms)

    @property
    def scripted(self) -> bool:
        """True for a run a program started (``claude -p``, an SDK, ``codex exec``)."""
        return is_scripted(self.source, self.entrypoint)


def _rate(cost_usd: float, first_ms: int, last_ms: int) -> float:
    """Dollars per hour over a span of at least one minute."""
    return cost_usd * HOUR_MS / max(last_ms - first_ms, MINUTE_MS)


@dataclass(frozen=True, slots=True)
class ScriptLoop:
    """Many short runs of one script (same agent, project and entrypoint): one row of the
    sessions table in place of one per run. :mod:`tokenbuddy.core.script_loops` decides
    which sessions form one."""

    source: str
    entrypoint: str
    project: str
    project_path: str
    runs: tuple[SessionSummary, ...]
    """Its sessions, latest first."""

    @property
    def cost_usd(self) -> float:
        return sum(run.cost_usd for run in self.runs)

    @property
    def requests(self) -> int:
        return sum(run.requests for run in self.runs)

    @property
    def first_ms(self) -> int:
        return min(run.first_ms for run in self.runs)

    @property
    def last_ms(self) -> int:
        return max(run.last_ms for run in self.runs)

    @property
    def active(self) -> bool:
        """True while a run has had a request in the last 15 minutes."""
        return any(run.active for run in self.runs)

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(sorted({model for run in self.runs for model in run.models}))

    @property
    def usd_per_hour(self) -> float:
        """What the loop spends per hour, from its first run's start to its latest's end."""
        return _rate(self.cost_usd, self.first_ms, self.last_ms)

    @property
    def cache_hit_ratio(self) -> float | None:
        """Cache reads over all input, across its runs."""
        prompt = sum(run.prompt_tokens for run in self.runs)
        reads = sum((run.cache_hit_ratio or 0.0) * run.prompt_tokens for run in self.runs)
        return reads / prompt if prompt else None

    @property
    def subagent_share(self) -> float:
        """Share of its cost spent by subagents."""
        cost = self.cost_usd
        spent = sum(run.subagent_share * run.cost_usd for run in self.runs)
        return spent / cost if cost else 0.0


@dataclass(frozen=True, slots=True)
class WindowStatus:
    """A subscription window's latest utilisation and where it is heading."""

    source: str
    window_minutes: int
    plan: str
    read_at_ms: int
    """When the agent (or the vendor) reported it."""
    projection: WindowProjection

    @property
    def label(self) -> str:
        """``Claude 5h``, ``Codex 7d``..."""
        source, _, scope = self.source.partition("/")
        agent = short_agent_name(source)
        if scope:
            agent = f"{agent} {scope}"
        minutes = self.window_minutes
        span = f"{minutes // 60}h" if minutes < 1440 else f"{minutes // 1440}d"
        return f"{agent} {span}"


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Spend by one dimension (model or project) over one period."""

    label: str
    rows: tuple[tuple[str, Totals], ...]


@dataclass(frozen=True, slots=True)
class DashboardSnapshot:
    """Every figure on the dashboard at one instant."""

    now_ms: int
    today: Totals
    cycle_totals: Totals
    cycle: Cycle
    projection: CycleProjection
    """The cycle's spend so far and where it is heading (with the basis)."""
    burn_5m: BurnRate
    burn_1h: BurnRate
    active_session_cache_ratio: float | None
    sessions: tuple[SessionSummary, ...]
    """Recent sessions listed on their own, latest first (the runs of a loop are in
    ``loops`` instead)."""
    hourly_usd: tuple[float, ...]
    """Spend per hour over the last 24 hours, oldest first."""
    daily_usd: tuple[float, ...]
    """Spend per local day over the last 30 days, oldest first."""
    breakdowns: tuple[Breakdown, ...]
    unpriced_models: dict[str, int] = field(default_factory=dict)
    total_requests: int = 0
    windows: tuple[WindowStatus, ...] = ()
    """Subscription windows (Claude 5h/weekly, Codex 5h/7d), latest reading each."""
    alerts: tuple[Alert, ...] = ()
    """Warnings whose condition holds now, worst first."""
    announce: tuple[Alert, ...] = ()
    """Of those, the ones never announced before (or materially worse since)."""
    loops: tuple[ScriptLoop, ...] = ()
    """Recent loops of short scripted runs, each one row in place of its sessions."""
    person_typed_ms: int | None = None
    """When a person last typed a prompt in any session (None: none seen lately)."""
    block: ActiveBlock | None = None
    """Claude's active 5-hour block from the ledger, when its own 5h percentage is not
    known (None: known, or no block in progress)."""
    empty_reasons: tuple[str, ...] = ()
    """Why the ledger, or the sessions of the last day, are empty (what was looked at)."""

    @property
    def tracked_sessions(self) -> tuple[SessionSummary, ...]:
        """The sessions listed on their own, then the active runs of every loop: every
        session that may still be spending, without a loop's hundreds of finished runs."""
        running = tuple(run for loop in self.loops for run in loop.runs if run.active)
        return self.sessions + running

    @property
    def cap(self) -> CycleProjection | None:
        """The projection when a monthly cap is set, else None."""
        return self.projection if self.projection.cap_usd is not None else None

    @property
    def is_empty(self) -> bool:
        """True when the ledger holds no request at all."""
        return self.total_requests == 0


@dataclass(frozen=True, slots=True)
class RequestLine:
    """One request in a session's timeline."""

    ts_ms: int
    model: str
    input_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    output_tokens: int
    cost_usd: float | None
    agent: str
    """Empty for the main conversation, else the subagent's type."""


@dataclass(frozen=True, slots=True)
class SessionDetail:
    """Everything the session screen shows."""

    summary: SessionSummary
    requests: tuple[RequestLine, ...]
    subagents: tuple[tuple[str, int, float], ...]
    """(agent type, requests, cost) per subagent type."""

    @property
    def cache_ratio_series(self) -> tuple[float, ...]:
        """Each request's cache hit ratio, in order (for a sparkline)."""
        series = []
        for line in self.requests:
            total = line.input_tokens + line.cache_write_tokens + line.cache_read_tokens
            series.append(line.cache_read_tokens / total if total else 0.0)
        return tuple(series)
