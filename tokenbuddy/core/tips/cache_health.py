"""The ``cache-health`` tip: what needless cache rewrites cost.

Lineages whose warm requests (minutes after the previous one, same model) read less
than :data:`CACHE_POOR_RATIO` of their input from cache: the tokens a request wrote
although the previous request had just cached them, re-priced as cache reads.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from typing import TYPE_CHECKING

from tokenbuddy.core.lineage import CACHE_WARM_GAP_MS, lineages
from tokenbuddy.core.records import CLAUDE_CODE
from tokenbuddy.core.tips.context import prompt_tokens
from tokenbuddy.core.tips.tip import Tally, offer_tip
from tokenbuddy.core.wording import counted

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from tokenbuddy.core.records import UsageRecord
    from tokenbuddy.core.tips.tip import PricedRequest, Tip, TipContext

CACHE_POOR_RATIO = 0.80
"""A lineage reading less than this share of its input from cache is poorly cached;
healthy Claude Code sessions read 90-98 %."""
CACHE_MIN_REQUESTS = 4
"""Fewest warm requests (see :func:`warm_pairs`) a lineage needs to be judged; its hit
ratio is taken over those, so a cold start or a pause does not count against it."""
CACHE_SHRINK_RATIO = 0.6
"""A prompt under this share of the previous one was compacted: its rewrite is due."""


def hit_ratio(records: Iterable[UsageRecord]) -> float:
    """Cache reads over all input; 1 when there was no input."""
    reads = total = 0
    for record in records:
        reads += record.cache_read_tokens
        total += prompt_tokens(record)
    return reads / total if total else 1.0


def warm_pairs(lineage: Sequence[UsageRecord]) -> Iterator[tuple[UsageRecord, UsageRecord]]:
    """(previous, request) for every request that should have found the previous one's
    context cached: under 5 minutes after it, on the same model, not compacted."""
    for previous, current in pairwise(lineage):
        if current.model != previous.model:
            continue
        if current.ts_ms - previous.ts_ms >= CACHE_WARM_GAP_MS:
            continue
        if prompt_tokens(current) >= CACHE_SHRINK_RATIO * prompt_tokens(previous):
            yield previous, current


def cache_misses(lineage: Sequence[UsageRecord]) -> Iterator[tuple[UsageRecord, int]]:
    """(request, tokens it wrote or sent plainly although the previous request had just
    cached them), over :func:`warm_pairs`."""
    for previous, current in warm_pairs(lineage):
        cached = previous.cache_read_tokens + previous.cache_write_tokens
        missed = min(cached, prompt_tokens(current)) - current.cache_read_tokens
        if missed > 0:
            yield current, missed


def read_instead(record: UsageRecord, tokens: int) -> UsageRecord:
    """``record`` with ``tokens`` of its writes (5-minute first, then 1-hour), then of its
    plain input, read from cache instead."""
    from_5m = min(tokens, record.cache_write_5m_tokens)
    from_1h = min(tokens - from_5m, record.cache_write_1h_tokens)
    from_input = min(tokens - from_5m - from_1h, record.input_tokens)
    return record._replace(
        cache_write_5m_tokens=record.cache_write_5m_tokens - from_5m,
        cache_write_1h_tokens=record.cache_write_1h_tokens - from_1h,
        input_tokens=record.input_tokens - from_input,
        cache_read_tokens=record.cache_read_tokens + from_5m + from_1h + from_input,
    )


def _poor_lineages(requests: Sequence[PricedRequest]) -> dict[str, list[list[UsageRecord]]]:
    """Claude Code lineages judged poorly cached, per session."""
    claude = (p.record for p in requests if p.record.source == CLAUDE_CODE)
    poor: dict[str, list[list[UsageRecord]]] = defaultdict(list)
    for lineage in lineages(claude):
        warm = [current for _, current in warm_pairs(lineage)]
        if len(warm) >= CACHE_MIN_REQUESTS and hit_ratio(warm) < CACHE_POOR_RATIO:
            poor[lineage[0].session_id].append(lineage)
    return poor


def cache_health_tip(requests: Sequence[PricedRequest], ctx: TipContext) -> Tip | None:
    """Poorly cached lineages: what their needless cache rewrites cost."""
    tally = Tally()
    for session_id, poor in _poor_lineages(requests).items():
        for record, missed in (miss for lineage in poor for miss in cache_misses(lineage)):
            saving = ctx.difference(record, read_instead(record, missed))
            if saving is not None and saving > 0:
                tally.add(record, saving)
        if session_id in tally.sessions:
            ratio = hit_ratio(r for lineage in poor for _, r in warm_pairs(lineage))
            tally.sessions[session_id].detail = f", hit ratio {ratio:.0%}"
    return offer_tip(
        ctx,
        tally,
        "cache-health",
        title="Fix what breaks the prompt cache",
        why=(
            "Healthy sessions read 90% or more of their input from cache, at a tenth of the "
            f"input price. These read less than {CACHE_POOR_RATIO:.0%} even between requests "
            "minutes apart: they rewrote context the previous request had just cached, which "
            "happens when something changes the start of the prompt between requests."
        ),
        summary=(
            f"{counted(tally.requests, 'request')} rewrote recently cached context, in "
            f"{counted(len(tally.sessions), 'session')} with a hit ratio under "
            f"{CACHE_POOR_RATIO:.0%}"
        ),
        action=(
            "Look for what changes the start of the prompt mid-session: hooks, MCP servers or "
            "an --append-system-prompt that inject timestamps or other changing text, MCP "
            "servers connecting and disconnecting. Update Claude Code (`claude update`) and "
            "watch the cache line of `/usage`."
        ),
        method=(
            "Warm requests are those under 5 minutes after the previous request of the same "
            "session thread (main thread or one subagent), on the same model and not "
            f"compacted. In threads with at least {CACHE_MIN_REQUESTS} warm requests reading "
            f"under {CACHE_POOR_RATIO:.0%} of their input from cache, each warm request's "
            "shortfall against what the previous request had cached is re-priced as cache "
            "reads instead of writes (5-minute writes first, then 1-hour, then plain input), "
            "with the same price database; saving = the difference."
        ),
    )
