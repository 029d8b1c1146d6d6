"""Messages the dashboard's workers post; handlers on the app own all state.

Named as events: what happened, not what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from tokenbuddy.core.dashboard import DashboardSnapshot, SessionDetail
    from tokenbuddy.core.history import HistoryPage, HistoryQuery
    from tokenbuddy.core.spans import DailySpend
    from tokenbuddy.services.dashboard import TipsView, VendorsView
    from tokenbuddy.services.guard import Allow, GuardState
    from tokenbuddy.services.ingest import IngestSummary
    from tokenbuddy.services.team_sync import SyncReport
    from tokenbuddy.services.vendor_poll import Credential
    from tokenbuddy.sources.watch import LogWatcher
    from tokenbuddy.team import TeamOverview


class IngestProgressed(Message):
    """A backlog ingest read ``done`` of ``total`` bytes."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total

    def can_replace(self, message: Message) -> bool:
        """Only the latest progress matters."""
        return isinstance(message, IngestProgressed)


class SnapshotBuilt(Message):
    """The ledger was brought up to date and a fresh snapshot built from it."""

    def __init__(self, snapshot: DashboardSnapshot, summary: IngestSummary | None) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.summary = summary

    def can_replace(self, message: Message) -> bool:
        """A newer snapshot supersedes a queued older one."""
        return isinstance(message, SnapshotBuilt) and message.summary is None


class GuardChecked(Message):
    """The guard's state as of the latest snapshot (None: no guard on this dashboard)."""

    def __init__(self, state: GuardState | None) -> None:
        super().__init__()
        self.state = state

    def can_replace(self, message: Message) -> bool:
        """Only the latest state matters."""
        return isinstance(message, GuardChecked)


class GuardAllowed(Message):
    """The guard's blocks were lifted for every session until ``allow.until_ms``."""

    def __init__(self, allow: Allow) -> None:
        super().__init__()
        self.allow = allow


class LogsChanged(Message):
    """The file watcher saw these transcript paths written, created or moved."""

    def __init__(self, paths: frozenset[str]) -> None:
        super().__init__()
        self.paths = paths


class SessionLoaded(Message):
    """A session's detail was read from the ledger."""

    def __init__(self, detail: SessionDetail | None) -> None:
        super().__init__()
        self.detail = detail


class WatchStarted(Message):
    """A worker set up the file watches; the app takes ownership of the watcher."""

    def __init__(self, watcher: LogWatcher) -> None:
        super().__init__()
        self.watcher = watcher


class TipsComputed(Message):
    """The conservation tips were recomputed from the ledger for a span."""

    def __init__(self, view: TipsView) -> None:
        super().__init__()
        self.view = view


class HistoryRequested(Message):
    """The history view asked for a page of sessions."""

    def __init__(self, query: HistoryQuery) -> None:
        super().__init__()
        self.query = query


class HistoryLoaded(Message):
    """A page of the history view was read."""

    def __init__(self, page: HistoryPage) -> None:
        super().__init__()
        self.page = page


class SpendLoaded(Message):
    """The spend per day over one of the chart's longer spans was read."""

    def __init__(self, daily: DailySpend) -> None:
        super().__init__()
        self.daily = daily

    def can_replace(self, message: Message) -> bool:
        """Only the latest read matters."""
        return isinstance(message, SpendLoaded)


class VendorsLoaded(Message):
    """The vendor sources' states and the reconciliation were read for the vendors screen."""

    def __init__(self, view: VendorsView) -> None:
        super().__init__()
        self.view = view


class VendorsPolled(Message):
    """A background poll of the vendor endpoints finished (results are in the ledger)."""

    def __init__(self, outcomes: list[str]) -> None:
        super().__init__()
        self.outcomes = outcomes


class CredentialsFound(Message):
    """The vendor credentials were looked up (values stay in memory, never displayed)."""

    def __init__(
        self,
        credentials: dict[str, Credential | None],
        problems: dict[str, str],
        keyring_problem: str = "",
    ) -> None:
        super().__init__()
        self.credentials = credentials
        self.problems = problems
        self.keyring_problem = keyring_problem
        """Why no credential can be stored here (no keyring backend), or empty."""


class TeamSynced(Message):
    """A background team sync finished (or found nothing to do)."""

    def __init__(self, report: SyncReport) -> None:
        super().__init__()
        self.report = report


class TeamLoaded(Message):
    """The team overview was read for the team screen (None: not joined; error: why not)."""

    def __init__(self, overview: TeamOverview | None, error: str = "") -> None:
        super().__init__()
        self.overview = overview
        self.error = error
