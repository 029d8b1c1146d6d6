"""The ``cache_collapse`` detector (per session): cache hit ratios that fell through the floor.

Requests are grouped in cache lineages (see :mod:`tokenbuddy.core.lineage`): one per
(session, subagent), since every subagent builds its own cache and starts with a
full write. Over a lineage's last ``cache_window_requests`` requests, leaving out the
legitimate rewrites (its first request, one after a gap of ``cache_ttl_minutes`` or
more, one on a model switch, one whose prompt shrank below ``cache_shrink_ratio`` of
the previous, as after ``/compact``), it fires when at least ``cache_min_requests``
remain, they average ``cache_large_uncached_tokens`` of uncached input (writes plus
plain input), their hit ratio is under ``cache_floor_ratio`` or under
``cache_drop_ratio`` times the lineage's own earlier level (when that was at least
twice the floor), and the excess the misses cost is at least
``cache_min_excess_usd_per_hour``. Critical from ``cache_critical_excess_usd_per_hour``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from tokenbuddy.core.alerts.events import Alert
from tokenbuddy.core.lineage import lineage_thread
from tokenbuddy.core.money import dollars
from tokenbuddy.core.units import HOUR_MS, MINUTE_MS

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tokenbuddy.core.alerts.events import RequestEvent
    from tokenbuddy.core.alerts.thresholds import Thresholds


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


class CacheLineage:
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


def lineage_for(
    lineages: dict[str, CacheLineage], event: RequestEvent, limits: Thresholds
) -> CacheLineage:
    """The lineage of a session's ``lineages`` that ``event`` belongs to, made when new
    (the stalest one is dropped to keep at most ``max_lineages_per_session``)."""
    key = lineage_thread(event.agent_id, event.is_sidechain)
    lineage = lineages.get(key)
    if lineage is None:
        if len(lineages) >= limits.max_lineages_per_session:
            stalest = min(lineages, key=lambda k: lineages[k].last_ts_ms or 0)
            del lineages[stalest]
        lineage = lineages[key] = CacheLineage(
            limits.cache_window_requests, is_sidechain=event.is_sidechain
        )
    return lineage


def cache_alert(
    lineages: Iterable[CacheLineage],
    *,
    session_id: str,
    project: str,
    now_ms: int,
    limits: Thresholds,
) -> Alert | None:
    """A session's cache collapse, summed over its lineages."""
    found = [f for lin in lineages if (f := lin.finding(limits)) is not None]
    if not found:
        return None
    worst = max(found, key=lambda f: f.excess_usd_per_hour)
    rate = sum(f.excess_usd_per_hour for f in found)
    critical = rate >= limits.cache_critical_excess_usd_per_hour
    return Alert(
        "cache_collapse",
        "critical" if critical else "warning",
        session_id,
        project,
        _cache_message(worst),
        rate,
        now_ms,
        rate,
    )
