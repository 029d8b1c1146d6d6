"""The shared model of the tips: the requests they read, a tip, the window it covers,
and the tally of what a rule's counterfactuals saved."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, get_args

from tokenbuddy.core.money import dollars
from tokenbuddy.core.projects import project_name
from tokenbuddy.core.wording import counted

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from tokenbuddy.core.records import UsageRecord

TipId = Literal[
    "cheaper-model",
    "cache-ttl",
    "cache-health",
    "premium-modes",
    "draft-in-free-chat",
    "subagent-share",
    "idle-context",
]
TIP_IDS: tuple[TipId, ...] = get_args(TipId)
MIN_SAVING_USD_PER_MONTH = 0.01
DAYS_PER_MONTH = 30
EVIDENCE_SESSIONS = 3
"""Sessions named in a tip's evidence, the largest savings first."""


class PricedRequest(NamedTuple):
    """A request from the ledger with the cost it was priced at (None: unpriced model)."""

    record: UsageRecord
    cost_usd: float | None


@dataclass(frozen=True, slots=True)
class Tip:
    """One way to spend less, with the evidence and the arithmetic behind it."""

    id: TipId
    title: str
    why: str
    """Plain English: why this costs money and why the change is safe."""
    evidence: tuple[str, ...]
    """Which sessions or projects, how many requests: short plain lines."""
    action: str
    """The exact setting, command or habit to change."""
    method: str
    """How the saving was computed."""
    saving_usd_per_month: float
    saving_usd_in_window: float
    window_days: float
    requests_counted: int

    def as_dict(self) -> dict[str, Any]:
        """The JSON form ``tokenbuddy tips --json`` prints."""
        return {
            "id": self.id,
            "title": self.title,
            "saving_usd_per_month": round(self.saving_usd_per_month, 2),
            "saving_usd_in_window": round(self.saving_usd_in_window, 4),
            "why": self.why,
            "evidence": list(self.evidence),
            "action": self.action,
            "method": self.method,
            "window_days": round(self.window_days, 3),
            "requests_counted": self.requests_counted,
        }


@dataclass(frozen=True, slots=True)
class TipContext:
    """The window the tips look at and the price database they re-price with."""

    now_ms: int
    window_days: float
    reprice: Callable[[UsageRecord], float | None]

    def monthly(self, usd: float) -> float:
        """A saving over the window, scaled to 30 days."""
        return usd * DAYS_PER_MONTH / self.window_days

    def difference(self, actual: UsageRecord, counterfactual: UsageRecord) -> float | None:
        """What ``actual`` cost beyond ``counterfactual``; None when either is unpriced."""
        before, after = self.reprice(actual), self.reprice(counterfactual)
        return None if before is None or after is None else before - after

    def scaling(self) -> str:
        """The sentence every method ends with."""
        days = _days(self.window_days)
        return f"Summed over the last {days} days and scaled to a month (× 30 / {days})."


@dataclass(slots=True)
class _SessionSaving:
    project: str
    usd: float = 0.0
    requests: int = 0
    detail: str = ""


@dataclass(slots=True)
class Tally:
    """The requests one tip counted and what they would have saved, per session."""

    usd: float = 0.0
    requests: int = 0
    sessions: dict[str, _SessionSaving] = field(default_factory=dict)

    def add(self, record: UsageRecord, usd: float) -> None:
        """Count one request saving ``usd``."""
        self.usd += usd
        self.requests += 1
        entry = self.sessions.setdefault(record.session_id, _SessionSaving(record.project))
        entry.usd += usd
        entry.requests += 1

    def top_sessions(self) -> list[str]:
        """One evidence line per session, the largest savings first."""
        ranked = sorted(self.sessions.items(), key=lambda item: -item[1].usd)
        return [
            f"{project_name(s.project)} · session {sid[:8]}: {counted(s.requests, 'request')}, "
            f"{dollars(s.usd)} over the window{s.detail}"
            for sid, s in ranked[:EVIDENCE_SESSIONS]
        ]

    def merge(self, other: Tally) -> None:
        """Add another tally's requests to this one."""
        self.usd += other.usd
        self.requests += other.requests
        for session_id, theirs in other.sessions.items():
            mine = self.sessions.setdefault(session_id, _SessionSaving(theirs.project))
            mine.usd += theirs.usd
            mine.requests += theirs.requests

    @property
    def projects(self) -> int:
        """Distinct projects counted."""
        return len({s.project for s in self.sessions.values()})


def _days(days: float) -> str:
    return f"{days:.1f}".removesuffix(".0")


def offer_tip(
    ctx: TipContext,
    tally: Tally,
    tip_id: TipId,
    *,
    title: str,
    why: str,
    summary: str,
    action: str,
    method: str,
    details: Sequence[str] | None = None,
) -> Tip | None:
    """The tip, or None when it saves a cent a month or less.

    Its evidence is ``summary`` then ``details`` (by default, the top sessions).
    """
    monthly = ctx.monthly(tally.usd)
    if monthly <= MIN_SAVING_USD_PER_MONTH:
        return None
    return Tip(
        id=tip_id,
        title=title,
        why=why,
        evidence=(summary, *(tally.top_sessions() if details is None else details)),
        action=action,
        method=f"{method} {ctx.scaling()}",
        saving_usd_per_month=monthly,
        saving_usd_in_window=tally.usd,
        window_days=ctx.window_days,
        requests_counted=tally.requests,
    )
