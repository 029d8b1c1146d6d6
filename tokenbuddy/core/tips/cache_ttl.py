"""The ``cache-ttl`` tip: the 5-minute cache where the 1-hour one was never needed.

1-hour cache writes in cache lineages (a session's main thread, or one subagent) where
no gap between requests reached 5 minutes, so a 5-minute cache would have stayed warm,
re-priced as 5-minute writes. A lineage with a request in the last hour may still need
its hour and is left out.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

from tokenbuddy.core.lineage import CACHE_WARM_GAP_MS, lineages
from tokenbuddy.core.records import CLAUDE_CODE
from tokenbuddy.core.tips.tip import Tally, offer_tip
from tokenbuddy.core.units import HOUR_MS
from tokenbuddy.core.wording import counted

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tokenbuddy.core.records import UsageRecord
    from tokenbuddy.core.tips.tip import PricedRequest, Tip, TipContext

CACHE_OPEN_MS = HOUR_MS
"""A lineage with a request this recent may still come back within the hour."""


def _always_warm(lineage: Sequence[UsageRecord], now_ms: int) -> bool:
    """Over, and no gap between its requests long enough to cool a 5-minute cache."""
    if now_ms - lineage[-1].ts_ms < CACHE_OPEN_MS:
        return False
    return all(b.ts_ms - a.ts_ms < CACHE_WARM_GAP_MS for a, b in pairwise(lineage))


def as_5m_writes(record: UsageRecord) -> UsageRecord:
    """``record`` with its 1-hour cache writes made 5-minute ones."""
    return record._replace(cache_write_5m_tokens=record.cache_write_tokens, cache_write_1h_tokens=0)


def cache_ttl_tip(requests: Sequence[PricedRequest], ctx: TipContext) -> Tip | None:
    """1-hour cache writes where a 5-minute cache would have stayed warm throughout."""
    tally, tokens = Tally(), 0
    claude = (p.record for p in requests if p.record.source == CLAUDE_CODE)
    for lineage in lineages(claude):
        if not _always_warm(lineage, ctx.now_ms):
            continue
        for record in (r for r in lineage if r.cache_write_1h_tokens):
            saving = ctx.difference(record, as_5m_writes(record))
            if saving is not None and saving > 0:
                tally.add(record, saving)
                tokens += record.cache_write_1h_tokens
    return offer_tip(
        ctx,
        tally,
        "cache-ttl",
        title="Use the 5-minute cache in sessions without breaks",
        why=(
            "A 1-hour cache write costs 2× the input price, a 5-minute one 1.25×. These "
            "sessions never paused 5 minutes between requests, so a 5-minute cache would have "
            "stayed warm all along: the hour was paid for and never used."
        ),
        summary=(
            f"{counted(tokens, 'token')} written to the 1-hour cache by "
            f"{counted(tally.requests, 'request')} in {counted(len(tally.sessions), 'session')} "
            "with no gap of 5 minutes or more"
        ),
        action=(
            'Add "env": {"FORCE_PROMPT_CACHING_5M": "1"} to ~/.claude/settings.json '
            '(Claude Code 2.1.108+; newer versions also take "promptCacheTtl": "5m") for '
            "sessions you run without breaks; keep the hour if you often step away 5-60 min."
        ),
        method=(
            "Each 1-hour cache write in a finished session thread (main thread or one subagent, "
            "no request in the last hour) whose requests were all under 5 minutes apart, "
            "re-priced as a 5-minute write with the same price database; saving = the "
            "difference. Assumes the same cache hits, since the cache never went cold."
        ),
    )
