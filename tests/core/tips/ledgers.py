"""Hand-built ledgers for the tips, where the right saving can be worked out from list prices.

Prices per million tokens (input / 5m write / 1h write / cache read / output):
Opus 4.6 $5 / 6.25 / 10 / 0.50 / 25; Sonnet 4.6 $3 / 3.75 / 6 / 0.30 / 15;
Haiku 4.5 $1 / 1.25 / 2 / 0.10 / 5; Opus 5 in fast mode 2x Opus; Sonnet 4.5 above
200k input $6 / 7.50 / 12 / 0.60 / 22.50; US-only inference 1.1x on 4.6+.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from tokenbuddy.core.pricing import PriceBook
from tokenbuddy.core.records import CLAUDE_CODE, PromptMark, UsageRecord
from tokenbuddy.core.tips import PricedRequest, Tip, find_tips

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
T0 = int(datetime(2026, 5, 11, 9, tzinfo=UTC).timestamp() * 1000)
NOW = T0 + 6 * HOUR
PER_M = 1e-6
OPUS, SONNET, HAIKU = "claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5-20251001"
BOOK = PriceBook()
_keys = itertools.count()


def rec(
    ts: int,
    *,
    model: str = OPUS,
    session: str = "s1",
    project: str = "/home/dev/shop",
    plain: int = 10,
    output: int = 200,
    w5: int = 0,
    w1: int = 0,
    read: int = 0,
    speed: str = "",
    geo: str = "",
    agent_type: str = "",
    agent_id: str = "",
    source: str = CLAUDE_CODE,
) -> UsageRecord:
    """One request; a non-empty ``agent_type`` makes it subagent work."""
    return UsageRecord(
        f"k{next(_keys)}",
        source,
        ts,
        session,
        project,
        model,
        plain,
        output,
        w5,
        w1,
        read,
        0,
        0,
        speed,
        geo,
        bool(agent_type),
        agent_id or (f"agent-{agent_type}" if agent_type else ""),
        agent_type,
    )


def priced(records: list[UsageRecord]) -> list[PricedRequest]:
    return [PricedRequest(r, BOOK.cost(r)) for r in records]


def tips_for(
    records: list[UsageRecord], prompts: list[PromptMark] | None = None, days: float = 14
) -> dict[str, Tip]:
    found = find_tips(
        priced(records), prompts or [], now_ms=NOW, window_days=days, reprice=BOOK.cost
    )
    return {tip.id: tip for tip in found}


def monthly(usd: float, days: float = 14) -> float:
    return usd * 30 / days
