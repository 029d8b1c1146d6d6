"""The dashboard's thread workers: each calls the dashboard service and posts what it got.

Workers never touch widgets or the app's state; the handlers on
:class:`~tokenbuddy.tui.app.TokenBuddyApp` do, when the message arrives. Every
ingest, whether the first backlog, a watched append or the safety re-scan, ends
in one :class:`SnapshotBuilt`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import App

from tokenbuddy.tui.messages import (
    CredentialsFound,
    GuardAllowed,
    GuardChecked,
    HistoryLoaded,
    IngestProgressed,
    LogsChanged,
    SessionLoaded,
    SnapshotBuilt,
    SpendLoaded,
    TeamLoaded,
    TeamSynced,
    TipsComputed,
    VendorsLoaded,
    VendorsPolled,
    WatchStarted,
)
from tokenbuddy.tui.notify import desktop_notification
from tokenbuddy.tui.widgets import HeaderStrip

if TYPE_CHECKING:
    from tokenbuddy.core.dashboard import DashboardSnapshot
    from tokenbuddy.core.history import HistoryQuery
    from tokenbuddy.core.spans import Span
    from tokenbuddy.services.dashboard import DashboardService
    from tokenbuddy.services.vendor_poll import Credential
    from tokenbuddy.sources.watch import LogWatcher
    from tokenbuddy.tui.config import DashboardConfig


class DashboardWorkers(App[None]):
    """The workers of :class:`~tokenbuddy.tui.app.TokenBuddyApp` (its base class)."""

    config: DashboardConfig
    service: DashboardService
    snapshot: DashboardSnapshot | None
    _credentials: dict[str, Credential | None] | None
    _keyring_problem: str

    @work(thread=True, group="ingest", name="backlog", exit_on_error=False)
    def ingest_backlog(self) -> None:
        """First ingest of everything, with progress; then start following the logs."""
        summary = self.service.catch_up(self._post_progress)
        if summary is None:
            return  # the dashboard is closing: nothing more to do
        self.post_message(SnapshotBuilt(self.service.snapshot(), summary))
        if self.config.watch:
            self.post_message(WatchStarted(self.service.start_watcher(self._on_watch)))

    @work(thread=True, group="ingest", name="changes", exit_on_error=False)
    def ingest_changes(self, paths: frozenset[str]) -> None:
        """Read the new bytes of the files the watcher reported."""
        self.service.read_changes(paths)
        self.post_message(SnapshotBuilt(self.service.snapshot(), None))

    @work(thread=True, group="ingest", name="rescan", exit_on_error=False)
    def rescan(self) -> None:
        """The safety re-scan: every root, for events the watcher coalesced or missed."""
        self.service.sync()
        self.post_message(SnapshotBuilt(self.service.snapshot(), None))

    @work(thread=True, group="query", name="snapshot", exit_on_error=False)
    def refresh_snapshot(self) -> None:
        """Rebuild the snapshot without ingesting (time moves burn rates and 'last' columns)."""
        self.post_message(SnapshotBuilt(self.service.snapshot(), None))

    @work(thread=True, group="guard", name="guard", exclusive=True, exit_on_error=False)
    def check_guard(self) -> None:
        """Read what the guard stops now and its allows (the allow file is read here)."""
        self.post_message(GuardChecked(self.service.guard_state()))

    @work(thread=True, group="guard allow", name="guard allow", exit_on_error=False)
    def allow_guard(self, minutes: int) -> None:
        """Lift the guard's blocks for every session (``tokenbuddy guard allow``)."""
        self.post_message(GuardAllowed(self.service.allow_guard(minutes)))

    @work(thread=True, group="query", name="session", exit_on_error=False)
    def load_session(self, session_id: str, source: str | None) -> None:
        """Read one session's detail for the session screen (any source when None)."""
        self.post_message(SessionLoaded(self.service.session_detail(session_id, source)))

    @work(thread=True, group="tips", name="tips", exclusive=True, exit_on_error=False)
    def compute_tips(self, span: Span) -> None:
        """Re-price the requests of ``span`` (the chart's) for the conservation tips."""
        self.post_message(TipsComputed(self.service.tips(span)))

    @work(thread=True, group="history", name="history", exclusive=True, exit_on_error=False)
    def load_history(self, query: HistoryQuery) -> None:
        """Read one page of the history view."""
        self.post_message(HistoryLoaded(self.service.history(query)))

    @work(thread=True, group="chart", name="chart", exclusive=True, exit_on_error=False)
    def load_spend(self, span: Span) -> None:
        """Read the spend per day over one of the chart's longer spans."""
        self.post_message(SpendLoaded(self.service.daily_spend(span)))

    @work(thread=True, group="vendors", name="vendor credentials", exit_on_error=False)
    def find_vendor_credentials(self) -> None:
        """Look up each vendor source's credential (the keyring can block, hence a thread)."""
        found = self.service.find_credentials()
        self.post_message(
            CredentialsFound(found.credentials, found.problems, found.keyring_problem)
        )

    @work(thread=True, group="vendors", name="vendor poll", exclusive=True, exit_on_error=False)
    def poll_vendors(self) -> None:
        """Poll the vendor sources whose next poll is due."""
        assert self._credentials is not None
        active = bool(self.snapshot and any(s.active for s in self.snapshot.tracked_sessions))
        outcomes = self.service.poll_vendors(self._credentials, agent_active=active)
        if outcomes is not None:
            self.post_message(VendorsPolled(outcomes))

    @work(thread=True, group="query", name="vendors view", exit_on_error=False)
    def load_vendors(self) -> None:
        """Read the sources' states and the reconciliation for the vendors screen."""
        view = self.service.vendor_view(self._credentials or {}, self._keyring_problem)
        self.post_message(VendorsLoaded(view))

    @work(thread=True, group="team", name="team sync", exclusive=True, exit_on_error=False)
    def sync_team(self) -> None:
        """Push this machine's changed days to the team server (quietly off until joined)."""
        self.post_message(TeamSynced(self.service.sync_team()))

    @work(thread=True, group="team", name="team view", exit_on_error=False)
    def load_team(self) -> None:
        """Read the team overview for the team screen."""
        view = self.service.team_view()
        self.post_message(TeamLoaded(view.overview, view.error))

    @work(thread=True, group="notify", name="notify", exit_on_error=False)
    def notify_desktop(self, title: str, body: str) -> None:
        """A desktop notification; quietly nothing where none is available."""
        desktop_notification(title, body)

    @work(thread=True, group="watch", name="watch", exit_on_error=False)
    def restart_watcher(self, old: LogWatcher) -> None:
        """Watch again, now including log dirs that appeared since the watcher started."""
        old.stop()
        self.post_message(WatchStarted(self.service.start_watcher(self._on_watch)))

    def _shutting_down(self) -> bool:
        """True once the dashboard's widgets are gone (the app is closing): a thread
        worker that finishes late has its result dropped instead of failing the exit."""
        return self._exit or not self.query(HeaderStrip)

    def _post_progress(self, done: int, total: int) -> None:
        self.post_message(IngestProgressed(done, total))

    def _on_watch(self, paths: frozenset[str]) -> None:
        """Called from the watcher's thread: hand over to the app's message loop."""
        self.post_message(LogsChanged(paths))
