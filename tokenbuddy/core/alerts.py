"""Runaway-spend warnings: incremental detectors over the stream of requests and prompts.

Feed every request (:class:`RequestEvent`) and human prompt (:class:`PromptEvent`)
as it is ingested, and the latest cycle projection when it changes; then call
:meth:`AlertEngine.evaluate` with ``now_ms`` for the alerts to announce and
:meth:`AlertEngine.active` for the ones to list. Pure: no clock, files or env.

The four detectors
------------------
``cache_collapse`` (per session)
    Requests are grouped in cache lineages: one per (session, subagent), since
    every subagent builds its own cache and starts with a full write. Over a
    lineage's last ``cache_window_requests`` requests, leaving out the legitimate
    rewrites (its first request, one after a gap of ``cache_ttl_minutes`` or more,
    one on a model switch, one whose prompt shrank below ``cache_shrink_ratio``
    of the previous, as after ``/compact``), it fires when at least
    ``cache_min_requests`` remain, they average ``cache_large_uncached_tokens``
    of uncached input (writes plus plain input), their hit ratio is under
    ``cache_floor_ratio`` or under ``cache_drop_ratio`` times the lineage's own
    earlier level (when that was at least twice the floor), and the excess the
    misses cost is at least ``cache_min_excess_usd_per_hour``. Critical from
    ``cache_critical_excess_usd_per_hour``.
``spend_spike`` (all sessions)
    Spend over the last ``spend_window_minutes`` (or over the last
    ``spike_short_window_minutes``, whichever rate is higher) as $/h, against the
    median $/h of the active windows of the last ``spike_baseline_days`` days:
    fires at ``spike_ratio`` times that median and at least
    ``spike_floor_usd_per_hour``; with fewer than ``spike_min_baseline_windows``
    active windows of history, at ``spike_floor_no_baseline_usd_per_hour``.
    Critical from ``spike_critical_usd_per_hour``.
``unattended_loop`` (per session)
    A streak of requests since the session's last human prompt, with no gap over
    ``loop_max_gap_minutes``, that has lasted ``loop_min_minutes`` (or
    ``loop_subagent_min_minutes`` when subagents did most of its spend, as a long
    Task run legitimately does) and spent ``loop_min_usd``. Critical when the
    spend projected over ``loop_horizon_hours`` reaches ``loop_critical_usd``.
``cap_trajectory`` (global)
    From the latest :class:`~tokenbuddy.core.projection.CycleProjection`: info
    when the cap is projected to be reached before the cycle ends, warning when
    that is within ``cap_warning_days`` or the soft limit is reached, critical
    when the cap is reached.

Announcing, expiry and memory
-----------------------------
An alert is identified by (kind, session). :meth:`~AlertEngine.evaluate` returns
it the first time its condition holds and again only when it is materially
worse: its severity rose, or, ``refire_min_minutes`` or more after the last
announcement, its magnitude (the excess or spend rate, or the projected share of
the cap) grew to ``refire_growth_ratio`` times the value announced then (a
ramping spike would otherwise be announced at every step). An alert is active
while its condition holds; session alerts lapse when the session goes quiet
(``alert_idle_minutes`` for cache collapse, the loop gap for a loop). Once an
alert has stayed clear for ``rearm_minutes``, its next occurrence is new.

Only sessions active in the last ``session_forget_minutes`` are kept, at most
``max_sessions`` of them with ``max_lineages_per_session`` lineages each; every
per-lineage and spend window is a bounded deque.
"""

from __future__ import annotations

import statistics
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

from tokenbuddy.core.lineage import lineage_thread
from tokenbuddy.core.money import dollars
from tokenbuddy.core.pricing import geo_multiplier
from tokenbuddy.core.projects import project_name
from tokenbuddy.core.units import DAY_MS, HOUR_MS, MINUTE_MS
from tokenbuddy.core.wording import duration

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tokenbuddy.core.pricing import UnitPrices
    from tokenbuddy.core.projection import CycleProjection
    from tokenbuddy.core.records import UsageRecord

AlertKind = Literal[
    "cache_collapse", "spend_spike", "unattended_loop", "cap_trajectory", "subscription_window"
]
Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: dict[Severity, int] = {"info": 0, "warning": 1, "critical": 2}


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


class RequestEvent(NamedTuple):
    """One billed request, as the detectors need it."""

    ts_ms: int
    session_id: str
    project: str
    model: str
    cost_usd: float | None
    """None when the model is unpriced (counted as $0)."""
    input_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    output_tokens: int
    is_sidechain: bool
    agent_id: str = ""
    """The subagent, empty for the main thread: each has its own cache lineage."""
    cache_miss_excess_usd: float | None = None
    """What the request's plain input and cache writes cost beyond the same tokens
    read from cache, priced by the caller (see :func:`request_event`); None
    estimates it from ``cost_usd`` with Claude's price ratios."""

    @property
    def prompt_tokens(self) -> int:
        """All input: plain, written to cache and read from cache."""
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens

    @property
    def excess_usd(self) -> float:
        """The cache-miss excess, given or estimated (input 1x, write 1.25x, read 0.1x,
        output 5x the input price, as on every Claude 4 model)."""
        if self.cache_miss_excess_usd is not None:
            return self.cache_miss_excess_usd
        units = (
            self.input_tokens
            + 1.25 * self.cache_write_tokens
            + 0.1 * self.cache_read_tokens
            + 5 * self.output_tokens
        )
        if not self.cost_usd or units == 0:
            return 0.0
        return (0.9 * self.input_tokens + 1.15 * self.cache_write_tokens) * self.cost_usd / units


class PromptEvent(NamedTuple):
    """A prompt a human typed (tool results and hook feedback are not prompts)."""

    ts_ms: int
    session_id: str


def request_event(
    record: UsageRecord, cost_usd: float | None, prices: UnitPrices | None
) -> RequestEvent:
    """A :class:`RequestEvent` for ``record``, its cache-miss excess priced at ``prices``."""
    excess = None
    if prices is not None:
        excess = geo_multiplier(record) * (
            record.input_tokens * (prices.input - prices.cache_read)
            + record.cache_write_5m_tokens * (prices.cache_write_5m - prices.cache_read)
            + record.cache_write_1h_tokens * (prices.cache_write_1h - prices.cache_read)
        )
    return RequestEvent(
        record.ts_ms,
        record.session_id,
        record.project,
        record.model,
        cost_usd,
        record.input_tokens,
        record.cache_write_tokens,
        record.cache_read_tokens,
        record.output_tokens,
        record.is_sidechain,
        record.agent_id,
        excess,
    )


@dataclass(frozen=True, slots=True)
class Alert:
    """One warning, with the evidence in its message."""

    kind: AlertKind
    severity: Severity
    session_id: str | None
    """The session it is about; None for the spike and cap alerts."""
    project: str | None
    message: str
    """One plain-English line with the numbers behind the alert."""
    cost_per_hour_usd: float
    """What the problem costs per hour (excess for cache collapse, spend otherwise)."""
    at_ms: int
    magnitude: float
    """How bad it is on the kind's own scale; decides "materially worse"."""

    @property
    def key(self) -> tuple[AlertKind, str | None]:
        """The identity dedupe works on: the session, or for a window alert the window."""
        if self.kind == "subscription_window":
            return (self.kind, self.project)
        return (self.kind, self.session_id)


class _CacheSample(NamedTuple):
    ts_ms: int
    read_tokens: int
    prompt_tokens: int
    uncached_tokens: int
    excess_usd: float
    excused: bool


@dataclass(frozen=True, slots=True)
class _CacheFinding:
    hit_ratio: float
    baseline: float | None
    """The lineage's earlier hit ratio, when the window fell far below it."""
    requests: int
    uncached_per_request: float
    excess_per_request_usd: float
    excess_usd_per_hour: float
    is_sidechain: bool


class _Lineage:
    """The cache history of one thread of one session (main or a subagent)."""

    __slots__ = (
        "base_prompt",
        "base_read",
        "base_requests",
        "is_sidechain",
        "last_model",
        "last_prompt_tokens",
        "last_ts_ms",
        "recent",
    )

    BASELINE_DECAY = 0.9
    """Per retired request: the earlier level follows the last dozen or so requests."""

    def __init__(self, window: int, *, is_sidechain: bool) -> None:
        self.recent: deque[_CacheSample] = deque(maxlen=window)
        self.base_read = self.base_prompt = 0.0
        self.base_requests = 0
        self.last_ts_ms: int | None = None
        self.last_model = ""
        self.last_prompt_tokens = 0
        self.is_sidechain = is_sidechain

    def add(self, event: RequestEvent, limits: Thresholds) -> None:
        """Record one request of this lineage."""
        excused = self._is_legitimate_rewrite(event, limits)
        if len(self.recent) == self.recent.maxlen:
            self._retire(self.recent[0])
        uncached = event.input_tokens + event.cache_write_tokens
        self.recent.append(
            _CacheSample(
                event.ts_ms,
                event.cache_read_tokens,
                event.prompt_tokens,
                uncached,
                event.excess_usd,
                excused,
            )
        )
        self.last_ts_ms = max(event.ts_ms, self.last_ts_ms or event.ts_ms)
        self.last_model = event.model
        self.last_prompt_tokens = event.prompt_tokens

    def _is_legitimate_rewrite(self, event: RequestEvent, limits: Thresholds) -> bool:
        """First request, cache expired, model switched, or context compacted."""
        if self.last_ts_ms is None or event.model != self.last_model:
            return True
        if event.ts_ms - self.last_ts_ms >= limits.cache_ttl_minutes * MINUTE_MS:
            return True
        return event.prompt_tokens < limits.cache_shrink_ratio * self.last_prompt_tokens

    def _retire(self, sample: _CacheSample) -> None:
        """Fold a request leaving the window into the lineage's earlier level."""
        if sample.excused:
            return
        self.base_read = self.base_read * self.BASELINE_DECAY + sample.read_tokens
        self.base_prompt = self.base_prompt * self.BASELINE_DECAY + sample.prompt_tokens
        self.base_requests += 1

    def healthy_level(self, limits: Thresholds) -> float | None:
        """The hit ratio before the current window, when enough requests have left it
        and it was healthy (at least twice the floor)."""
        if self.base_requests < limits.cache_min_requests or self.base_prompt <= 0:
            return None
        level = self.base_read / self.base_prompt
        return level if level >= 2 * limits.cache_floor_ratio else None

    def finding(self, limits: Thresholds) -> _CacheFinding | None:
        """The collapse the current window shows, or None."""
        judged = [s for s in self.recent if not s.excused]
        if len(judged) < limits.cache_min_requests:
            return None
        prompt = sum(s.prompt_tokens for s in judged)
        ratio = sum(s.read_tokens for s in judged) / prompt if prompt else 1.0
        uncached = sum(s.uncached_tokens for s in judged) / len(judged)
        level = self.healthy_level(limits)
        fell = level is not None and ratio < level * limits.cache_drop_ratio
        if not (fell or ratio < limits.cache_floor_ratio):
            return None
        if uncached < limits.cache_large_uncached_tokens:
            return None
        excess = sum(s.excess_usd for s in judged)
        hours = _span_ms(judged) / HOUR_MS
        rate = excess / hours
        if rate < limits.cache_min_excess_usd_per_hour:
            return None
        per_request = excess / len(judged)
        return _CacheFinding(
            ratio,
            level if fell else None,
            len(judged),
            uncached,
            per_request,
            rate,
            self.is_sidechain,
        )


def _span_ms(samples: list[_CacheSample]) -> float:
    """The time ``samples`` cover, counting one average gap per request (a minute at least)."""
    count = len(samples)
    span = max(s.ts_ms for s in samples) - min(s.ts_ms for s in samples)
    return max(span * count / (count - 1) if count > 1 else 0, MINUTE_MS)


def _cache_message(found: _CacheFinding) -> str:
    who = "Subagent cache" if found.is_sidechain else "Cache"
    ratio = f"{found.hit_ratio:.0%} over the last {found.requests} requests"
    if found.baseline is not None:
        head = f"{who} hit ratio fell to {ratio} (was {found.baseline:.0%})"
    else:
        head = (
            f"{who} hit ratio is {ratio}, each writing "
            f"~{found.uncached_per_request / 1000:,.0f}k uncached tokens"
        )
    per_request = dollars(found.excess_per_request_usd, whole_from=100)
    per_hour = dollars(found.excess_usd_per_hour, whole_from=100)
    return (
        f"{head}; cache misses cost {per_request}/request extra, "
        f"≈{per_hour}/h — a harness may be changing the prompt prefix"
    )


@dataclass(slots=True)
class _Streak:
    """Requests of one session since its last human prompt, with no long gap."""

    start_ms: int
    last_ms: int
    cost_usd: float = 0.0
    subagent_usd: float = 0.0
    after_prompt: bool = False


@dataclass(slots=True)
class _Session:
    """What the detectors remember about one recently active session."""

    session_id: str
    project: str = ""
    last_seen_ms: int = 0
    last_prompt_ms: int | None = None
    streak: _Streak | None = None
    lineages: dict[str, _Lineage] = field(default_factory=dict)

    def add_request(self, event: RequestEvent, limits: Thresholds) -> None:
        """Update the cache lineage and the unattended streak with one request."""
        self.project = event.project or self.project
        self.last_seen_ms = max(self.last_seen_ms, event.ts_ms)
        self._lineage_for(event, limits).add(event, limits)
        if self.last_prompt_ms is None or event.ts_ms >= self.last_prompt_ms:
            self._extend_streak(event, limits)

    def add_prompt(self, event: PromptEvent) -> None:
        """A human prompt ends the unattended streak."""
        self.last_seen_ms = max(self.last_seen_ms, event.ts_ms)
        if self.last_prompt_ms is None or event.ts_ms > self.last_prompt_ms:
            self.last_prompt_ms = event.ts_ms
            self.streak = None

    def _lineage_for(self, event: RequestEvent, limits: Thresholds) -> _Lineage:
        key = lineage_thread(event.agent_id, event.is_sidechain)
        lineage = self.lineages.get(key)
        if lineage is None:
            if len(self.lineages) >= limits.max_lineages_per_session:
                stalest = min(self.lineages, key=lambda k: self.lineages[k].last_ts_ms or 0)
                del self.lineages[stalest]
            lineage = self.lineages[key] = _Lineage(
                limits.cache_window_requests, is_sidechain=event.is_sidechain
            )
        return lineage

    def _extend_streak(self, event: RequestEvent, limits: Thresholds) -> None:
        streak = self.streak
        max_gap = limits.loop_max_gap_minutes * MINUTE_MS
        if streak is None or event.ts_ms - streak.last_ms > max_gap:
            after_prompt = streak is None and self.last_prompt_ms is not None
            streak = self.streak = _Streak(event.ts_ms, event.ts_ms, after_prompt=after_prompt)
        streak.last_ms = max(streak.last_ms, event.ts_ms)
        cost = event.cost_usd or 0.0
        streak.cost_usd += cost
        if event.is_sidechain:
            streak.subagent_usd += cost

    def cache_alert(self, now_ms: int, limits: Thresholds) -> Alert | None:
        """The session's cache collapse, summed over its lineages, while it is active."""
        if now_ms - self.last_seen_ms > limits.alert_idle_minutes * MINUTE_MS:
            return None
        found = [f for lin in self.lineages.values() if (f := lin.finding(limits)) is not None]
        if not found:
            return None
        worst = max(found, key=lambda f: f.excess_usd_per_hour)
        rate = sum(f.excess_usd_per_hour for f in found)
        critical = rate >= limits.cache_critical_excess_usd_per_hour
        return Alert(
            "cache_collapse",
            "critical" if critical else "warning",
            self.session_id,
            self.project,
            _cache_message(worst),
            rate,
            now_ms,
            rate,
        )

    def loop_alert(self, now_ms: int, limits: Thresholds) -> Alert | None:
        """The unattended streak, once it is long and costly enough, while it goes on."""
        streak = self.streak
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
            self.session_id,
            self.project,
            _loop_message(streak, elapsed, ahead, limits.loop_horizon_hours),
            rate,
            now_ms,
            rate,
        )


def _loop_message(streak: _Streak, elapsed_ms: int, ahead_usd: float, horizon_h: float) -> str:
    since = "the last human prompt" if streak.after_prompt else "this run began"
    spent, ahead = dollars(streak.cost_usd, whole_from=100), dollars(ahead_usd, whole_from=100)
    return (
        f"Running {duration(elapsed_ms)} with no human prompt: {spent} spent since {since}, "
        f"≈{ahead} over the next {horizon_h:g} h at this rate"
    )


class _SpendEntry(NamedTuple):
    ts_ms: int
    cost_usd: float
    session_id: str
    project: str


class _SpendHistory:
    """Spend per fixed window over the baseline days, and each request of the last window."""

    MAX_RECENT = 20_000

    def __init__(self, limits: Thresholds) -> None:
        self.window_ms = int(limits.spend_window_minutes * MINUTE_MS)
        self.keep_ms = int(limits.spike_baseline_days * DAY_MS)
        self.by_window: dict[int, float] = {}
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
        self.latest_ms = max(self.latest_ms, event.ts_ms)
        if event.ts_ms > self.latest_ms - self.window_ms:
            self.recent.append(_SpendEntry(event.ts_ms, cost, event.session_id, event.project))
        self.prune(self.latest_ms)

    def prune(self, now_ms: int) -> None:
        """Forget requests older than the window and windows older than the baseline."""
        while self.recent and self.recent[0].ts_ms <= now_ms - self.window_ms:
            self.recent.popleft()
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


def _spike_alert(history: _SpendHistory, now_ms: int, limits: Thresholds) -> Alert | None:
    entries = history.in_window(now_ms)
    short_ms = int(limits.spike_short_window_minutes * MINUTE_MS)
    rate, window_ms = max(
        (_burn(entries, now_ms, window, limits), window)
        for window in (history.window_ms, min(short_ms, history.window_ms))
    )
    baseline = history.baseline_usd_per_hour(now_ms, limits)
    if baseline is None:
        bar = limits.spike_floor_no_baseline_usd_per_hour
    else:
        bar = max(limits.spike_floor_usd_per_hour, limits.spike_ratio * baseline)
    if rate <= 0 or rate < bar:
        return None
    top = _top_spender([e for e in entries if e.ts_ms > now_ms - window_ms])
    severity: Severity = "critical" if rate >= limits.spike_critical_usd_per_hour else "warning"
    message = _spike_message(rate, baseline, bar, window_ms, top)
    return Alert("spend_spike", severity, None, top.project, message, rate, now_ms, rate)


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
    rate: float, baseline: float | None, bar: float, window_ms: int, top: _SpendEntry
) -> str:
    head = f"Spending {dollars(rate, whole_from=100)}/h over the last {duration(window_ms)}"
    if baseline is None:
        head += f", above {dollars(bar, whole_from=100)}/h (no usual rate to compare with yet)"
    else:
        head += f", {rate / baseline:.1f}x your usual {dollars(baseline, whole_from=100)}/h"
    where = f" in {project_name(top.project)}" if top.project else ""
    most = dollars(top.cost_usd, whole_from=100)
    return f"{head}; most of it ({most}) from session {top.session_id[:8]}{where}"


def _cap_alert(projection: CycleProjection, now_ms: int, limits: Thresholds) -> Alert | None:
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


def _window_alert(window: WindowReading, now_ms: int, limits: Thresholds) -> Alert | None:
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


@dataclass(slots=True)
class _Announced:
    severity: Severity
    magnitude: float
    at_ms: int
    clear_since_ms: int | None = None


class AlertEngine:
    """Feeds the detectors and decides which alerts are new, worse, or still active."""

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.thresholds = thresholds or Thresholds()
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._spend = _SpendHistory(self.thresholds)
        self._projection: CycleProjection | None = None
        self._windows: tuple[WindowReading, ...] = ()
        self._announced: dict[tuple[AlertKind, str | None], _Announced] = {}

    @property
    def tracked_sessions(self) -> int:
        """How many sessions the engine currently keeps state for."""
        return len(self._sessions)

    def feed_request(self, event: RequestEvent) -> None:
        """Take in one request; events should arrive in roughly time order."""
        self._session(event.session_id).add_request(event, self.thresholds)
        self._spend.add(event)

    def feed_prompt(self, event: PromptEvent) -> None:
        """Take in one human prompt."""
        self._session(event.session_id).add_prompt(event)

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
        found: list[Alert | None] = [_spike_alert(self._spend, now_ms, limits)]
        for session in self._sessions.values():
            found += (session.cache_alert(now_ms, limits), session.loop_alert(now_ms, limits))
        if self._projection is not None:
            found.append(_cap_alert(self._projection, now_ms, limits))
        found += (_window_alert(window, now_ms, limits) for window in self._windows)
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
