"""The tokenbuddy dashboard: compose, message handlers and key actions.

Blocking work runs in the thread workers of :class:`~tokenbuddy.tui.workers.DashboardWorkers`,
which call :class:`~tokenbuddy.services.dashboard.DashboardService` and only post
messages; the handlers here own all state. Every ingest ends in one
:class:`SnapshotBuilt` that repaints everything at once.
"""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING, ClassVar

import orjson
from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.widgets import (
    DataTable,
    Footer,
    OptionList,
    ProgressBar,
    Static,
    TabbedContent,
    TabPane,
)

from tokenbuddy.services.dashboard import DashboardService
from tokenbuddy.tui.browsing import Browsing
from tokenbuddy.tui.config import DashboardConfig
from tokenbuddy.tui.loop_screen import LoopScreen
from tokenbuddy.tui.screens import HelpScreen, SessionScreen
from tokenbuddy.tui.widgets import (
    ALLOW_MINUTES,
    BreakdownTables,
    EmptyState,
    GuardLine,
    HeaderStrip,
    SessionsTable,
    SpendChart,
    TipsPanel,
    WarningsPanel,
    clock_time,
)
from tokenbuddy.tui.widgets.sessions import loop_at

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.notifications import SeverityLevel
    from textual.theme import Theme

    from tokenbuddy.core.dashboard import DashboardSnapshot
    from tokenbuddy.core.tips import Tip
    from tokenbuddy.services.guard import GuardState
    from tokenbuddy.services.team_sync import SyncReport
    from tokenbuddy.services.vendor_poll import Credential
    from tokenbuddy.sources.watch import LogWatcher
    from tokenbuddy.tui.messages import (
        GuardAllowed,
        GuardChecked,
        IngestProgressed,
        LogsChanged,
        SessionLoaded,
        SnapshotBuilt,
        WatchStarted,
    )


TOAST_SEVERITY: dict[str, SeverityLevel] = {
    "critical": "error",
    "warning": "warning",
    "info": "information",
}
TIPS_SECONDS = 600.0
"""Tips look at a week or more: recomputing them every ten minutes is plenty."""
REFRESH_SECONDS = 30.0
"""With no log activity, rebuild the snapshot this often (time moves rates and ages)."""


class TokenBuddyApp(Browsing):
    """Live token spend of your coding agents."""

    TITLE = "tokenbuddy"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        # Ctrl+C quits from every screen, over any focused input's copy: what users of
        # terminal programs expect, and the same key everywhere.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("question_mark", "help", "Help"),
        Binding("c", "cycle_chart", "Period"),
        Binding("b", "cycle_breakdown", "Breakdown"),
        Binding("r", "rescan", "Re-scan"),
        Binding("t", "show_tips", "Tips"),
        Binding("h", "history", "History"),
        Binding("s", "show_sessions", "Sessions", show=False),
        Binding("v", "vendors", "Vendors"),
        Binding("m", "team", "Team", show=False),
        Binding("w", "focus_warnings", "Warnings", show=False),
        Binding("g", "allow_guard", "Allow 30m"),
    ]

    DASHBOARD_ACTIONS: ClassVar[frozenset[str]] = frozenset(
        {
            "cycle_chart",
            "cycle_breakdown",
            "rescan",
            "focus_warnings",
            "show_tips",
            "history",
            "vendors",
            "team",
            "show_sessions",
            "allow_guard",
        }
    )
    """Actions that act on the dashboard, so only offered while it is on screen."""

    def __init__(self, config: DashboardConfig, service: DashboardService | None = None) -> None:
        """``service`` does the blocking work; by default one built from ``config``."""
        super().__init__()
        self.config = config
        self.snapshot: DashboardSnapshot | None = None
        self.tips: list[Tip] | None = None
        """The last computed conservation tips; None until the first computation."""
        self._credentials: dict[str, Credential | None] | None = None
        """Vendor credentials found at start (kept in memory only, never shown)."""
        self._keyring_problem = ""
        self.guard: GuardState | None = None
        """The guard's state as last checked; None without a guard (the demo)."""
        self.team_report: SyncReport | None = None
        """The last team sync's outcome; None before the first attempt."""
        self._team_alerted: set[str] = set()
        self._watcher: LogWatcher | None = None
        self._built_at = float("-inf")
        """Monotonic time of the last snapshot shown."""
        self.service = service or DashboardService(config)

    def compose(self) -> ComposeResult:
        # Determinate from the start: a hidden indeterminate bar would animate for nothing.
        yield ProgressBar(total=1, show_eta=False, id="ingest-progress")
        yield HeaderStrip(id="header")
        yield GuardLine(id="guard")
        yield WarningsPanel(id="warnings")
        yield EmptyState(id="empty")
        with TabbedContent(id="main"):
            with TabPane("Sessions", id="sessions-tab"):
                yield Static(id="sessions-hint")
                yield SessionsTable(id="sessions")
            with TabPane("Breakdown", id="breakdown-tab"):
                yield BreakdownTables(id="breakdown")
            with TabPane("Tips", id="tips-tab"):
                yield TipsPanel(id="tips")
        yield SpendChart(self.config.zone, id="spend")
        yield Footer()

    def _restore_theme(self) -> None:
        """The theme chosen last time (command palette), if it still exists."""
        if self.config.ui_state is None:
            return
        try:
            saved = orjson.loads(self.config.ui_state.read_bytes()).get("theme")
        except (OSError, orjson.JSONDecodeError, AttributeError):
            saved = None
        if isinstance(saved, str) and saved in self.available_themes:
            self.theme = saved
        self.theme_changed_signal.subscribe(self, self._remember_theme)

    def _remember_theme(self, theme: Theme) -> None:
        if self.config.ui_state is None:
            return
        try:
            self.config.ui_state.parent.mkdir(parents=True, exist_ok=True)
            self.config.ui_state.write_bytes(orjson.dumps({"theme": theme.name}))
        except OSError:
            pass  # remembering the theme is a convenience, never a failure

    def on_mount(self) -> None:
        self._restore_theme()
        self.query_one("#empty").display = False
        for notice in self.config.notices:
            self.notify(notice, severity="warning", timeout=10)
        self.ingest_backlog()
        self.set_interval(self.config.rescan_seconds, self.action_rescan)
        self.set_interval(REFRESH_SECONDS, self._refresh_if_stale)
        self.set_interval(TIPS_SECONDS, self.recompute_tips)

    def on_unmount(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
        self.service.close()

    # -- handlers --------------------------------------------------------------------------

    def on_ingest_progressed(self, message: IngestProgressed) -> None:
        if self._shutting_down():
            return
        bar = self.query_one("#ingest-progress", ProgressBar)
        bar.display = True
        bar.update(total=max(message.total, 1), progress=message.done)

    def on_snapshot_built(self, message: SnapshotBuilt) -> None:
        if self._shutting_down():
            return
        first = self.snapshot is None
        self.snapshot = message.snapshot
        self._built_at = time.monotonic()
        self._hide_progress()
        self.query_one(HeaderStrip).snapshot = message.snapshot
        empty = message.snapshot.is_empty
        self.query_one("#empty", EmptyState).display = empty
        self.query_one("#main").display = not empty
        if empty:
            self.query_one("#empty", EmptyState).show(
                self.config.roots, str(self.config.config_file), message.snapshot.empty_reasons
            )
        self.query_one(SessionsTable).show(message.snapshot)
        self._hint_if_no_recent_sessions(message.snapshot)
        self.query_one(SpendChart).show(message.snapshot)
        self.query_one(BreakdownTables).show(message.snapshot)
        if isinstance(self.screen, SessionScreen):  # keep the open session live too
            summary = self.screen.detail.summary
            self.load_session(summary.session_id, summary.source)
        for screen in self.screen_stack:
            if isinstance(screen, LoopScreen):  # and an open loop, under its run or not
                screen.follow(message.snapshot)
        self.query_one(WarningsPanel).show(message.snapshot.alerts)
        if self.config.guard is not None:
            self.check_guard()
        self._announce(message.snapshot)
        self.load_chart_days()
        if message.summary is not None:
            self.recompute_tips()
            if self.config.vendors is not None:
                self.find_vendor_credentials()
            if self.config.team is not None:
                self.sync_team()
                self.set_interval(self.config.team_sync_minutes * 60, self.sync_team)
            self.query_one(SessionsTable).focus()
            for error in message.summary.errors[:3]:
                self.notify(error, severity="warning", timeout=8)
        elif self._watcher is not None and self.service.has_new_roots(self._watcher):
            self.restart_watcher(self._watcher)
            self._watcher = None
        if first:
            # The backlog's garbage is gone; what is left lives as long as the app.
            gc.collect()
            gc.freeze()

    def _hint_if_no_recent_sessions(self, snapshot: DashboardSnapshot) -> None:
        """Say why the table is empty when the ledger is not (nothing in the last 24 h)."""
        hint = self.query_one("#sessions-hint", Static)
        hint.display = not snapshot.sessions and not snapshot.loops and not snapshot.is_empty
        if hint.display:
            why = "; ".join(snapshot.empty_reasons)
            hint.update(
                Text(
                    f"No session in the last 24 hours{': ' + why if why else ''}. The ledger"
                    f" holds {snapshot.total_requests:,} requests: h browses every session,"
                    " c steps the chart back to all time, b shows all-time breakdowns.",
                    style="dim",
                )
            )

    def _announce(self, snapshot: DashboardSnapshot) -> None:
        """Toast every new warning; a new critical one also rings and notifies the desktop."""
        critical = [a for a in snapshot.announce if a.severity == "critical"]
        for alert in snapshot.announce:
            self.notify(
                alert.message,
                title=f"{alert.severity}: {alert.kind.replace('_', ' ')}",
                severity=TOAST_SEVERITY[alert.severity],
                timeout=20 if alert in critical else 10,
                markup=False,
            )
        if critical and self.config.bell:
            self.bell()
        if critical and self.config.desktop_notifications:
            worst = critical[0]
            self.notify_desktop(f"tokenbuddy: {worst.kind.replace('_', ' ')}", worst.message)

    def on_guard_checked(self, message: GuardChecked) -> None:
        if self._shutting_down():
            return
        self.guard = message.state
        self.query_one(GuardLine).show(message.state, self.config.zone)
        self.refresh_bindings()

    def on_guard_allowed(self, message: GuardAllowed) -> None:
        until = clock_time(message.allow.until_ms, self.config.zone)
        self.notify(f"Guard: blocks lifted for every session until {until}.", timeout=8)
        self.check_guard()

    def _hide_progress(self) -> None:
        """Hide the progress bar (left complete, so nothing animates while hidden)."""
        bar = self.query_one("#ingest-progress", ProgressBar)
        bar.update(total=1, progress=1)
        bar.display = False

    def on_watch_started(self, message: WatchStarted) -> None:
        if self.is_running and self._watcher is None:
            self._watcher = message.watcher
        else:
            message.watcher.stop()

    def _refresh_if_stale(self) -> None:
        if self.service.reading_backlog:
            return  # the ledger is empty until the backlog process is done: keep the progress
        if time.monotonic() - self._built_at >= REFRESH_SECONDS * 0.9:
            self.refresh_snapshot()

    def on_logs_changed(self, message: LogsChanged) -> None:
        self.ingest_changes(message.paths)

    @on(DataTable.RowSelected, "#sessions, #loop-runs, #history-sessions")
    def open_session(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        loop = loop_at(self.snapshot, key) if isinstance(key, str) else None
        if loop is not None:
            self.push_screen(LoopScreen(loop, self.config.zone))
        elif isinstance(key, str):
            source, session_id = key.split("\x1f", 1)
            self.load_session(session_id, source)

    @on(OptionList.OptionSelected, "#warnings")
    def open_warning(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ""
        kind, _, session_id = option_id.partition("/")
        if kind and session_id and not session_id.startswith("-"):
            self.load_session(session_id, None)
        else:
            self.notify(
                "This warning is about all your spend, not one session: the sessions "
                "table (s) shows which are active.",
                severity="information",
            )

    def on_session_loaded(self, message: SessionLoaded) -> None:
        if self._shutting_down():
            return
        if message.detail is None:
            self.notify("That session has no requests in the ledger.", severity="warning")
            return
        screen = self.screen
        summary = message.detail.summary
        if isinstance(screen, SessionScreen) and (
            screen.detail.summary.session_id,
            screen.detail.summary.source,
        ) == (summary.session_id, summary.source):
            screen.show(message.detail)  # a refresh of the session on screen
            return
        self.push_screen(SessionScreen(message.detail, self.config.zone))

    def on_worker_state_changed(self, event: object) -> None:
        """Route worker failures to one notification (the worker's name says which)."""
        from textual.worker import WorkerState

        worker = getattr(event, "worker", None)
        if worker is not None and worker.state == WorkerState.ERROR:
            self.notify(f"{worker.name} failed: {worker.error}", severity="error", timeout=10)

    # -- actions ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dashboard keys do nothing (and leave the footer) while another screen is shown;
        the guard's key is offered only while the guard stops something."""
        if action == "allow_guard" and not (self.guard and self.guard.blocking):
            return False
        return not (action in self.DASHBOARD_ACTIONS and len(self.screen_stack) > 1)

    def action_help(self) -> None:
        """Show the help screen."""
        self.push_screen(HelpScreen())

    def action_cycle_breakdown(self) -> None:
        """Show the breakdown tab, cycling its period."""
        tabs = self.query_one("#main", TabbedContent)
        breakdown = self.query_one(BreakdownTables)
        if tabs.active == "breakdown-tab":
            breakdown.period = (breakdown.period + 1) % len(breakdown.PERIODS)
        tabs.active = "breakdown-tab"

    def action_show_sessions(self) -> None:
        """Back to the sessions tab."""
        self.query_one("#main", TabbedContent).active = "sessions-tab"
        self.query_one(SessionsTable).focus()

    def action_show_tips(self) -> None:
        """Show the tips tab."""
        self.query_one("#main", TabbedContent).active = "tips-tab"

    def action_focus_warnings(self) -> None:
        """Move to the warnings list (enter there opens the warning's session)."""
        panel = self.query_one(WarningsPanel)
        if panel.display:
            panel.focus()

    def action_rescan(self) -> None:
        """Re-scan every log now."""
        self.rescan()

    def action_allow_guard(self) -> None:
        """Lift the guard's blocks for every session for half an hour."""
        self.allow_guard(ALLOW_MINUTES)
