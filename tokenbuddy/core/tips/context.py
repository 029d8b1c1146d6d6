"""A request's context, all the input it sends: its size, and the same request with the
input split differently (what the premium-modes and idle-context rules re-price)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenbuddy.core.records import UsageRecord

CONTEXT_FIELDS = ("cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens")
"""The input fields besides plain input, the cheapest first."""


def prompt_tokens(record: UsageRecord) -> int:
    """All input a request sent: plain, written to cache and read from cache."""
    return record.input_tokens + record.cache_write_tokens + record.cache_read_tokens


def with_context(
    record: UsageRecord, reads: int, writes_5m: int, writes_1h: int, plain: int
) -> UsageRecord:
    """``record`` with these cache reads, cache writes and plain input."""
    return record._replace(
        cache_read_tokens=reads,
        cache_write_5m_tokens=writes_5m,
        cache_write_1h_tokens=writes_1h,
        input_tokens=plain,
    )
