"""Summed usage of a group of requests: the one totals type of reports, the dashboard and
the team view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tokenbuddy.core.metrics import cache_hit_ratio

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(slots=True)
class Totals:
    """Token and cost sums of a group of requests."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    """Cache writes of either TTL."""
    cache_read_tokens: int = 0
    cost_usd: float = 0.0
    """Cost of the priced requests only; unpriced ones are listed separately."""
    requests: int = 0
    reported_cost_usd: float = 0.0
    """What the agents themselves say the requests cost (OpenCode's and Cline's ``cost``,
    Copilot's AI credits), for the requests that carry such a figure."""
    reported_requests: int = 0
    """Requests carrying the agent's own cost figure."""
    billing_units: float = 0.0
    """The agents' own billing units (Copilot's premium requests)."""

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Totals:
        """From six summed columns in field order, optionally followed by the three of the
        agents' own figures; a NULL sum (no rows) counts as 0."""
        totals = cls(
            input_tokens=int(row[0] or 0),
            output_tokens=int(row[1] or 0),
            cache_write_tokens=int(row[2] or 0),
            cache_read_tokens=int(row[3] or 0),
            cost_usd=float(row[4] or 0.0),
            requests=int(row[5] or 0),
        )
        if len(row) >= 9:
            totals.reported_cost_usd = float(row[6] or 0.0)
            totals.reported_requests = int(row[7] or 0)
            totals.billing_units = float(row[8] or 0.0)
        return totals

    def add(self, other: Totals) -> None:
        """Add another group's sums to these."""
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_write_tokens += other.cache_write_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cost_usd += other.cost_usd
        self.requests += other.requests
        self.reported_cost_usd += other.reported_cost_usd
        self.reported_requests += other.reported_requests
        self.billing_units += other.billing_units

    @property
    def cache_hit_ratio(self) -> float | None:
        """cache reads / all input (uncached + writes + reads); None with no input."""
        return cache_hit_ratio(self.input_tokens, self.cache_write_tokens, self.cache_read_tokens)

    def as_dict(self) -> dict[str, Any]:
        """The sums as the JSON reports print them: cost rounded to a hundredth of a cent,
        cache writes under Anthropic's name for them, ``cache_creation_tokens``; the
        agents' own cost figure is null when no request carried one."""
        ratio = self.cache_hit_ratio
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_tokens": self.cache_write_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "requests": self.requests,
            "cache_hit_ratio": None if ratio is None else round(ratio, 4),
            "reported_cost_usd": (
                round(self.reported_cost_usd, 6) if self.reported_requests else None
            ),
            "reported_requests": self.reported_requests,
            "billing_units": round(self.billing_units, 6),
        }
