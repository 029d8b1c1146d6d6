"""What one pull of one vendor source produced, ready for the ledger.

The vendor clients build these from validated payloads; :mod:`tokenbuddy.store.vendors`
writes them. Nothing here touches the network or the disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokenbuddy.core.records import RateLimitSnapshot, UsageRecord


@dataclass(frozen=True, slots=True)
class UsageRow:
    """Token sums of one vendor bucket for one model (``vendor_usage``)."""

    bucket_start_ms: int
    bucket_minutes: int
    model: str
    input_tokens: int
    """Uncached input (OpenAI's cached part already subtracted)."""
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    requests: int


@dataclass(frozen=True, slots=True)
class CostRow:
    """Billed US dollars of one UTC day, model and line item (``vendor_costs``)."""

    day: str
    """``YYYY-MM-DD``, UTC."""
    model: str
    """Empty when the vendor did not attribute the cost to a model."""
    line_item: str
    amount_usd: float
    currency: str = "USD"


@dataclass(slots=True)
class PullResult:
    """Everything one successful pull of one provider returned."""

    provider: str
    since_ms: int
    """Start of the period the pull covered (rows in it are replaced)."""
    until_ms: int
    usage: list[UsageRow] = field(default_factory=list)
    costs: list[CostRow] = field(default_factory=list)
    rate_limits: list[RateLimitSnapshot] = field(default_factory=list)
    requests: list[tuple[UsageRecord, float]] = field(default_factory=list)
    """Vendor-priced requests (Cursor) with their cost in USD, for the ``requests`` table."""
    detail: dict[str, Any] = field(default_factory=dict)
    """A small, secret-free summary shown by ``tokenbuddy sources`` (plan usage, counts)."""

    def summary(self) -> str:
        """What was fetched, in a few words."""
        parts = [
            f"{len(items)} {name}"
            for name, items in (
                ("usage rows", self.usage),
                ("cost rows", self.costs),
                ("windows", self.rate_limits),
                ("requests", self.requests),
            )
            if items
        ]
        return ", ".join(parts) or "nothing new"


def day_of(ts_ms: int) -> str:
    """The UTC date of an epoch-ms instant, ``YYYY-MM-DD``."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts_ms / 1000, UTC).date().isoformat()
