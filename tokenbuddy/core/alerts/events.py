"""What the detectors take in and give out: request and prompt events, and alerts.

A :class:`RequestEvent` is one billed request and a :class:`PromptEvent` one prompt a
human typed; an :class:`Alert` is one warning with the evidence in its message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

from tokenbuddy.core.pricing import geo_multiplier

if TYPE_CHECKING:
    from tokenbuddy.core.pricing import UnitPrices
    from tokenbuddy.core.records import UsageRecord

AlertKind = Literal[
    "cache_collapse",
    "spend_spike",
    "unattended_loop",
    "unattended_spend",
    "cap_trajectory",
    "subscription_window",
]
Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: dict[Severity, int] = {"info": 0, "warning": 1, "critical": 2}


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
    entrypoint: str = ""
    """The front end that started the session (Claude Code's ``entrypoint``, Codex's
    ``originator``); empty when unknown. See :mod:`tokenbuddy.core.entrypoints`."""
    source: str = ""
    """The agent that wrote it (``claude-code``, ``codex``...); empty when unknown."""

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
    """A prompt in a session's log (tool results and hook feedback are not prompts).

    A person typed it unless the session is scripted (``claude -p``, an SDK, ``codex
    exec``), which its own ``entrypoint`` or its session's requests tell.
    """

    ts_ms: int
    session_id: str
    entrypoint: str = ""
    """As on :class:`RequestEvent`; empty when the log line did not say."""
    source: str = ""


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
        record.entrypoint,
        record.source,
    )


@dataclass(frozen=True, slots=True)
class Alert:
    """One warning, with the evidence in its message."""

    kind: AlertKind
    severity: Severity
    session_id: str | None
    """The session it is about; None for the spike, cap and person-wide alerts."""
    project: str | None
    message: str
    """One plain-English line with the numbers behind the alert."""
    cost_per_hour_usd: float
    """What the problem costs per hour (excess for cache collapse, spend otherwise)."""
    at_ms: int
    magnitude: float
    """How bad it is on the kind's own scale; decides "materially worse"."""
    sessions: tuple[str, ...] = ()
    """For an alert about several sessions (``unattended_spend``), the sessions it
    covers, most recent last; empty for the others."""

    @property
    def key(self) -> tuple[AlertKind, str | None]:
        """The identity dedupe works on: the session, or for a window alert the window."""
        if self.kind == "subscription_window":
            return (self.kind, self.project)
        return (self.kind, self.session_id)
