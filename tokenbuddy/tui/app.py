"""The tokenbuddy dashboard.

Blocking work (ingest, queries) runs in thread workers that only post
messages; the handlers here own all state. Every ingest, whether the first
backlog, a watched append or the safety re-scan, ends in one
:class:`SnapshotBuilt` that repaints everything at once.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import orjson
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import (
    DataTable,
    Footer,
    Label,
    OptionList,
    ProgressBar,
    Static,
    TabbedContent,
    TabPane,
)

from tokenbuddy.core.alerts import Thresholds
from tokenbuddy.services.budget import BudgetSettings
from tokenbuddy.services.ingest import IngestSummary, backlog_is_large, sync, sync_paths
from tokenbuddy.services.monitor import Monitor
from tokenbuddy.services.snapshot import build_snapshot, session_detail
from tokenbuddy.services.status_file import publish_status
from tokenbuddy.services.tips import priced_tips
from tokenbuddy.sources.watch import LogWatcher, source_of
from tokenbuddy.store.ledger import Ledger
from tokenbuddy.tui.messages import (
    CredentialsFound,
    IngestProgressed,
    LogsChanged,
    SessionLoaded,
    SnapshotBuilt,
    TeamLoaded,
    TeamSynced,
    TipsComputed,
    VendorsLoaded,
    VendorsPolled,
    VendorsView,
    WatchStarted,
)
from tokenbuddy.tui.notify import desktop_notification
from tokenbuddy.tui.screens import HelpScreen, SessionScreen, TeamScreen, VendorsScreen
from tokenbuddy.tui.widgets import (
    BreakdownTables,
    EmptyState,
    HeaderStrip,
    SessionsTable,
    SpendChart,
    TipsPanel,
    WarningsPanel,
    top_tip_text,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from zoneinfo import ZoneInfo

    from textual.notifications import SeverityLevel
    from textual.theme import Theme

    from tokenbuddy.core.dashboard import DashboardSnapshot
    from tokenbuddy.core.tips import Tip
    from tokenbuddy.services.vendor_poll import Credential
    from tokenbuddy.sources.discovery import LogRoot
    from tokenbuddy.store.settings import StatuslineSettings, VendorSettings
    from tokenbuddy.team import SyncOptions, SyncReport


@dataclass(slots=True)
class DashboardConfig:
    """Everything the app needs from outside: paths, roots, settings and the clock."""

    ledger_path: Path
    config_file: Path
    roots: list[LogRoot]
    zone: ZoneInfo
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    refresh_seconds: float = 0.25
    rescan_seconds: float = 30.0
    clock: Callable[[], float] = time.time
    """Seconds since the epoch; tests freeze it."""
    watch: bool = True
    """Follow the logs live (off in snapshot tests)."""
    notices: list[str] = field(default_factory=list)
    """Messages to show once at start (an invalid config, say)."""
    thresholds: Thresholds = field(default_factory=Thresholds)
    """The runaway detectors' thresholds (``[alerts]`` in config.toml)."""
    bell: bool = True
    """Ring the terminal bell on a new critical warning."""
    desktop_notifications: bool = True
    """Send a desktop notification on a new critical warning, where possible."""
    status_file: Path | None = None
    """Where to keep the status line's snapshot up to date (None: nowhere, as in the demo)."""
    statusline: StatuslineSettings | None = None
    """The ``[statusline]`` settings written into that snapshot."""
    vendors: VendorSettings | None = None
    """Poll the vendor endpoints with these settings (None: never, as in the demo)."""
    team: SyncOptions | None = None
    """Team sync options (None: never, as in the demo); syncs only once joined."""
    team_sync_minutes: float = 15.0
    ui_state: Path | None = None
    """Where the chosen theme is remembered between runs (None: nowhere)."""


TOAST_SEVERITY: dict[str, SeverityLevel] = {
    "critical": "error",
    "warning": "warning",
    "info": "information",
}
VENDOR_CHECK_SECONDS = 30.0
"""How often the dashboard looks for vendor sources whose next poll is due."""
RECONCILE_DAYS = 30
TIPS_SECONDS = 600.0
"""Tips look at two weeks: recomputing them every ten minutes is plenty."""
TIPS_WINDOW_DAYS = 14
REFRESH_SECONDS = 30.0
"""With no log activity, rebuild the snapshot this often (time moves rates and ages)."""


class TokenBuddyApp(App[None]):
    """Live token spend of your coding agents."""

    TITLE = "tokenbuddy"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("c", "toggle_chart", "Chart h/d"),
        Binding("b", "cycle_breakdown", "Period"),
        Binding("r", "rescan", "Re-scan"),
        Binding("t", "show_tips", "Tips"),
        Binding("s", "show_sessions", "Sessions", show=False),
        Binding("v", "vendors", "Vendors"),
        Binding("m", "team", "Team", show=False),
        Binding("w", "focus_warnings", "Warnings", show=False),
    ]

    DASHBOARD_ACTIONS: ClassVar[frozenset[str]] = frozenset(
        {
            "toggle_chart",
            "cycle_breakdown",
            "rescan",
            "focus_warnings",
            "show_tips",
            "vendors",
            "team",
            "show_sessions",
        }
    )
    """Actions that act on the dashboard, so only offered while it is on screen."""

    def __init__(self, config: DashboardConfig) -> None:
        super().__init__()
        self.config = config
        self.snapshot: DashboardSnapshot | None = None
        self.tips: list[Tip] | None = None
        """The last computed conservation tips; None until the first computation."""
        self._credentials: dict[str, Credential | None] | None = None
        """Vendor credentials found at start (kept in memory only, never shown)."""
        self._keyring_problem = ""
        self.team_report: SyncReport | None = None
        """The last team sync's outcome; None before the first attempt."""
        self._team_alerted: set[str] = set()
        self._ingest_lock = threading.Lock()
        self._backlog_process: subprocess.Popen[bytes] | None = None
        self._backlog_stopped = False
        """Set when the dashboard closes: a backlog process is stopped, or never started."""
        self._backlog_guard = threading.Lock()
        self._backlog_running = False
        """True while the backlog process fills the ledger (it is empty until it is done)."""
        self._watcher: LogWatcher | None = None
        self._built_at = float("-inf")
        """Monotonic time of the last snapshot shown."""
        self._monitor = Monitor(config.zone, config.budget, config.thresholds)
        self._monitor_lock = threading.Lock()
        """Snapshots are built by several worker groups; the detectors are fed by one at a time."""

    def compose(self) -> ComposeResult:
        # Determinate from the start: a hidden indeterminate bar would animate for nothing.
        yield ProgressBar(total=1, show_eta=False, id="ingest-progress")
        yield HeaderStrip(id="header")
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
        self.set_interval(TIPS_SECONDS, self.compute_tips)

    def on_unmount(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
        with self._backlog_guard:
            self._backlog_stopped = True  # a backlog process not started yet never starts
            process = self._backlog_process
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                if hasattr(os, "killpg"):
                    os.killpg(process.pid, signal.SIGTERM)  # it and its parsing processes
                else:
                    process.terminate()

    # -- workers ---------------------------------------------------------------------------

    @work(thread=True, group="ingest", name="backlog", exit_on_error=False)
    def ingest_backlog(self) -> None:
        """First ingest of everything, with progress; then start following the logs."""
        problems: list[str] = []
        if self._backlog_apart_pays():
            self._backlog_running = True
            try:
                with self._ingest_lock:  # re-scans wait, rather than read it all again
                    problems = self._read_backlog_apart(self._post_progress)
            finally:
                self._backlog_running = False
        if self._backlog_stopped:
            return  # the dashboard is closing: nothing more to do
        summary = self._sync(self._post_progress)
        summary.errors[:0] = [p for p in problems if p not in summary.errors]
        self.post_message(SnapshotBuilt(self._build_snapshot(), summary))
        if self.config.watch:
            self.post_message(WatchStarted(self._start_watcher()))

    @work(thread=True, group="ingest", name="changes", exit_on_error=False)
    def ingest_changes(self, paths: frozenset[str]) -> None:
        """Read the new bytes of the files the watcher reported."""
        known = [(p, s) for p in paths if (s := source_of(p, self.config.roots)) is not None]
        with self._ingest_lock, Ledger(self.config.ledger_path) as ledger:
            sync_paths(ledger, known)
        self.post_message(SnapshotBuilt(self._build_snapshot(), None))

    @work(thread=True, group="ingest", name="rescan", exit_on_error=False)
    def rescan(self) -> None:
        """The safety re-scan: every root, for events the watcher coalesced or missed."""
        self._sync(None)
        self.post_message(SnapshotBuilt(self._build_snapshot(), None))

    @work(thread=True, group="query", name="snapshot", exit_on_error=False)
    def refresh_snapshot(self) -> None:
        """Rebuild the snapshot without ingesting (time moves burn rates and 'last' columns)."""
        self.post_message(SnapshotBuilt(self._build_snapshot(), None))

    @work(thread=True, group="query", name="session", exit_on_error=False)
    def load_session(self, session_id: str, source: str | None) -> None:
        """Read one session's detail for the session screen (any source when None)."""
        with Ledger(self.config.ledger_path) as ledger:
            detail = session_detail(ledger.db, session_id, source, self._now_ms())
        self.post_message(SessionLoaded(detail))

    @work(thread=True, group="tips", name="tips", exclusive=True, exit_on_error=False)
    def compute_tips(self) -> None:
        """Re-price the last two weeks' requests for the conservation tips."""
        now_ms = self._now_ms()
        since_ms = now_ms - TIPS_WINDOW_DAYS * 86_400_000
        with Ledger(self.config.ledger_path) as ledger:
            tips = priced_tips(ledger, since_ms, now_ms)
        self.post_message(TipsComputed(tips))

    @work(thread=True, group="vendors", name="vendor credentials", exit_on_error=False)
    def find_vendor_credentials(self) -> None:
        """Look up each vendor source's credential (the keyring can block, hence a thread)."""
        from tokenbuddy.services.vendor_poll import credentials
        from tokenbuddy.store.vendors import VENDOR_SOURCES

        assert self.config.vendors is not None
        enabled = [p for p in VENDOR_SOURCES if p not in self.config.vendors.disabled]
        found, problems, no_keyring = credentials(enabled)
        # Without a keyring nothing can have been stored: not configured, and said on the
        # vendors screen only, not as a warning at every start.
        keyring_problem = problems[min(no_keyring)] if no_keyring else ""
        for provider in no_keyring:
            del problems[provider]
        self.post_message(CredentialsFound(found, problems, keyring_problem))

    @work(thread=True, group="vendors", name="vendor poll", exclusive=True, exit_on_error=False)
    def poll_vendors(self) -> None:
        """Poll the vendor sources whose next poll is due (HTTP in this thread's own loop)."""
        import asyncio

        from tokenbuddy.services.vendor_poll import poll_provider, schedule_for
        from tokenbuddy.sources.vendors.http import ClientOptions
        from tokenbuddy.store.vendors import source_state

        assert self.config.vendors is not None and self._credentials is not None
        now_ms = self._now_ms()
        schedule = schedule_for(self.config.vendors)
        active = bool(self.snapshot and any(s.active for s in self.snapshot.sessions))
        with Ledger(self.config.ledger_path) as ledger:
            due = [
                credential
                for credential in self._credentials.values()
                if credential is not None
                and (source_state(ledger.db, credential.provider).next_poll_ms or 0) <= now_ms
            ]
            if not due:
                return

            async def poll() -> list[str]:
                outcomes = await asyncio.gather(
                    *(
                        poll_provider(
                            ledger, c, now_ms, ClientOptions(), schedule, agent_active=active
                        )
                        for c in due
                    )
                )
                return [f"{o.provider}: {o.status}" for o in outcomes]

            summary = asyncio.run(poll())
        self.post_message(VendorsPolled(summary))

    @work(thread=True, group="query", name="vendors view", exit_on_error=False)
    def load_vendors(self) -> None:
        """Read the sources' states and the reconciliation for the vendors screen."""
        from tokenbuddy.store.vendors import reconciliation, source_states

        now_ms = self._now_ms()
        origins = {p: c.origin for p, c in (self._credentials or {}).items() if c is not None}
        with Ledger(self.config.ledger_path) as ledger:
            view = VendorsView(
                now_ms,
                source_states(ledger.db),
                origins,
                reconciliation(ledger.db, now_ms - RECONCILE_DAYS * 86_400_000, now_ms),
                self._keyring_problem,
            )
        self.post_message(VendorsLoaded(view))

    @work(thread=True, group="team", name="team sync", exclusive=True, exit_on_error=False)
    def sync_team(self) -> None:
        """Push this machine's changed days to the team server (quietly off until joined)."""
        from tokenbuddy.team import sync_once

        assert self.config.team is not None
        self.post_message(TeamSynced(sync_once(self.config.team, now_ms=self._now_ms())))

    @work(thread=True, group="team", name="team view", exit_on_error=False)
    def load_team(self) -> None:
        """Read the team overview for the team screen."""
        from tokenbuddy.errors import CredentialError, TeamError
        from tokenbuddy.team import load_team_overview
        from tokenbuddy.team.sync import dsn_if_joined

        assert self.config.team is not None
        options = self.config.team
        try:
            dsn = options.dsn or dsn_if_joined(options.state_path)
            if dsn is None:
                self.post_message(TeamLoaded(None))
                return
            overview = load_team_overview(
                dsn,
                now_ms=self._now_ms(),
                zone=self.config.zone,
                allow_insecure=options.allow_insecure,
            )
        except (TeamError, CredentialError) as error:
            self.post_message(TeamLoaded(None, str(error)))
            return
        self.post_message(TeamLoaded(overview))

    @work(thread=True, group="notify", name="notify", exit_on_error=False)
    def notify_desktop(self, title: str, body: str) -> None:
        """A desktop notification; quietly nothing where none is available."""
        desktop_notification(title, body)

    @work(thread=True, group="watch", name="watch", exit_on_error=False)
    def restart_watcher(self, old: LogWatcher) -> None:
        """Watch again, now including log dirs that appeared since the watcher started."""
        old.stop()
        self.post_message(WatchStarted(self._start_watcher()))

    def _start_watcher(self) -> LogWatcher:
        """Set up the recursive watches (slow on big trees, hence in a worker)."""
        watcher = LogWatcher(
            self.config.roots, self._on_watch, debounce=self.config.refresh_seconds
        )
        watcher.start()
        return watcher

    def _post_progress(self, done: int, total: int) -> None:
        self.post_message(IngestProgressed(done, total))

    def _backlog_apart_pays(self) -> bool:
        """Whether this is a first load (an empty ledger) of a backlog large enough for
        parallel parsing, on a system that can fork the parsing processes."""
        if not hasattr(os, "fork") or self._backlog_stopped:
            return False
        path = self.config.ledger_path
        if path.exists():
            with Ledger(path) as ledger:  # left empty by a first load that was stopped?
                if ledger.files():
                    return False
        return backlog_is_large(self.config.roots)

    def _read_backlog_apart(self, progress: Callable[[int, int], None]) -> list[str]:
        """A first, large backlog, read by ``tokenbuddy.services.backlog`` in a process of its own
        (several parsing processes, as on the command line); this thread then catches up.

        Returns the errors that process met. If it fails, this thread reads everything
        itself, as it would have; why it failed is returned too, for the user to see.
        """
        from tokenbuddy.services import backlog

        # -P: the working directory is not put on the module path (a folder holding some
        # other "tokenbuddy" must not be imported instead).
        command = [sys.executable, "-P", "-m", "tokenbuddy.services.backlog"]
        command.append(backlog.spec(self.config.ledger_path, list(self.config.roots)))
        with tempfile.TemporaryFile() as errors:
            with self._backlog_guard:
                if self._backlog_stopped:
                    return []
                try:
                    process = subprocess.Popen(
                        command,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE,
                        stderr=errors,
                        start_new_session=True,  # its parsing processes are stopped with it
                    )
                except OSError as error:
                    return [f"cannot start a process to read the logs: {error}"]
                self._backlog_process = process
            assert process.stdout is not None
            met: list[str] = []
            for line in process.stdout:
                numbers = line.split()
                if len(numbers) == 2 and all(n.isdigit() for n in numbers):
                    progress(int(numbers[0]), int(numbers[1]))
                elif line.startswith(b"{"):
                    with contextlib.suppress(orjson.JSONDecodeError, TypeError, AttributeError):
                        met = [str(e) for e in orjson.loads(line).get("errors", [])]
            if process.wait() == 0 or self._backlog_stopped:
                return met
            errors.seek(0)
            last = errors.read().decode(errors="replace").strip().splitlines()[-1:]
            return [
                "reading the logs in a separate process failed"
                + (f": {last[0]}" if last else f" (exit status {process.returncode})")
            ]

    def _sync(self, progress: Callable[[int, int], None] | None) -> IngestSummary:
        with self._ingest_lock, Ledger(self.config.ledger_path) as ledger:
            return sync(ledger, self.config.roots, jobs=1, progress=progress)

    def _build_snapshot(self) -> DashboardSnapshot:
        with self._monitor_lock, Ledger(self.config.ledger_path) as ledger:
            snapshot = build_snapshot(
                ledger.db, self._now_ms(), self.config.zone, self.config.budget, self._monitor
            )
            if self.config.status_file is not None and self.config.statusline is not None:
                publish_status(ledger, snapshot, self.config.statusline, self.config.status_file)
        return snapshot

    def _now_ms(self) -> int:
        return int(self.config.clock() * 1000)

    # -- handlers --------------------------------------------------------------------------

    def _shutting_down(self) -> bool:
        """True once the dashboard's widgets are gone (the app is closing): a thread
        worker that finishes late has its result dropped instead of failing the exit."""
        return self._exit or not self.query(HeaderStrip)

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
                self.config.roots, str(self.config.config_file)
            )
        self.query_one(SessionsTable).show(message.snapshot)
        self._hint_if_no_recent_sessions(message.snapshot)
        self.query_one(SpendChart).show(message.snapshot)
        self.query_one(BreakdownTables).show(message.snapshot)
        if isinstance(self.screen, SessionScreen):  # keep the open session live too
            summary = self.screen.detail.summary
            self.load_session(summary.session_id, summary.source)
        self.query_one(WarningsPanel).show(message.snapshot.alerts)
        self._announce(message.snapshot)
        if message.summary is not None:
            self.compute_tips()
            if self.config.vendors is not None:
                self.find_vendor_credentials()
            if self.config.team is not None:
                self.sync_team()
                self.set_interval(self.config.team_sync_minutes * 60, self.sync_team)
            self.query_one(SessionsTable).focus()
            for error in message.summary.errors[:3]:
                self.notify(error, severity="warning", timeout=8)
        elif self._watcher is not None and self._has_new_roots(self._watcher):
            self.restart_watcher(self._watcher)
            self._watcher = None
        if first:
            # The backlog's garbage is gone; what is left lives as long as the app.
            gc.collect()
            gc.freeze()

    def _hint_if_no_recent_sessions(self, snapshot: DashboardSnapshot) -> None:
        """Say why the table is empty when the ledger is not (nothing in the last 24 h)."""
        hint = self.query_one("#sessions-hint", Static)
        hint.display = not snapshot.sessions and not snapshot.is_empty
        if hint.display:
            hint.update(
                Text(
                    f"No session in the last 24 hours. The ledger holds "
                    f"{snapshot.total_requests:,} requests: b shows all-time breakdowns, "
                    "c the last 30 days, and tokenbuddy report daily every day.",
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

    def on_credentials_found(self, message: CredentialsFound) -> None:
        self._credentials = message.credentials
        self._keyring_problem = message.keyring_problem
        for provider, problem in message.problems.items():
            self.notify(f"{provider}: {problem}", severity="warning", timeout=10, markup=False)
        if any(c is not None for c in message.credentials.values()):
            self.poll_vendors()
            self.set_interval(VENDOR_CHECK_SECONDS, self.poll_vendors)

    def on_vendors_polled(self, message: VendorsPolled) -> None:
        self.refresh_snapshot()
        if isinstance(self.screen, VendorsScreen):
            self.load_vendors()

    def on_vendors_loaded(self, message: VendorsLoaded) -> None:
        if self._shutting_down():
            return
        if isinstance(self.screen, VendorsScreen):
            self.pop_screen()
        self.push_screen(VendorsScreen(message.view, self.config.zone))

    def on_team_synced(self, message: TeamSynced) -> None:
        previous = self.team_report
        self.team_report = message.report
        failed_now = message.report.status == "failed"
        if failed_now and (previous is None or previous.status != "failed"):
            self.notify(
                f"Team sync failed (will retry): {message.report.error}",
                severity="warning",
                timeout=10,
                markup=False,
            )

    def on_team_loaded(self, message: TeamLoaded) -> None:
        if self._shutting_down():
            return
        if message.overview is None:
            text = message.error or "Not in a team: tokenbuddy team join <dsn> (see the README)."
            self.notify(text, severity="warning" if message.error else "information", markup=False)
            return
        fresh = [a for a in message.overview.over_soft_limit if a not in self._team_alerted]
        if fresh:
            self._team_alerted.update(fresh)
            self.notify(
                f"Over their soft limit this month: {', '.join(fresh)}",
                severity="warning",
                timeout=10,
                markup=False,
            )
        if isinstance(self.screen, TeamScreen):
            self.pop_screen()
        self.push_screen(TeamScreen(message.overview, self._last_sync_text()))

    def _last_sync_text(self) -> str:
        report = self.team_report
        if report is None:
            return "not yet"
        if report.status == "failed":
            return f"failed: {report.error}"
        return {"synced": f"sent {report.days_sent} day(s)", "up_to_date": "up to date"}.get(
            report.status, report.status
        )

    def on_tips_computed(self, message: TipsComputed) -> None:
        if self._shutting_down():
            return
        self.tips = message.tips
        self.query_one(TipsPanel).show(message.tips)
        teaser = self.query_one("#top-tip", Label)
        teaser.display = bool(message.tips)
        if message.tips:
            teaser.update(top_tip_text(message.tips[0]))

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

    def _has_new_roots(self, watcher: LogWatcher) -> bool:
        """Whether a log dir appeared since the watcher started (an agent's first run, say)."""
        watched = {root.path for root in watcher.roots}
        return any(root.exists and root.path not in watched for root in self.config.roots)

    def _refresh_if_stale(self) -> None:
        if self._backlog_running:
            return  # the ledger is empty until the backlog process is done: keep the progress
        if time.monotonic() - self._built_at >= REFRESH_SECONDS * 0.9:
            self.refresh_snapshot()

    def _on_watch(self, paths: frozenset[str]) -> None:
        """Called from the watcher's thread: hand over to the app's message loop."""
        self.post_message(LogsChanged(paths))

    def on_logs_changed(self, message: LogsChanged) -> None:
        self.ingest_changes(message.paths)

    @on(DataTable.RowSelected, "#sessions")
    def open_session(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if isinstance(key, str):
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
        """Dashboard keys do nothing (and leave the footer) while another screen is shown."""
        return not (action in self.DASHBOARD_ACTIONS and len(self.screen_stack) > 1)

    def action_help(self) -> None:
        """Show the help screen."""
        self.push_screen(HelpScreen())

    def action_toggle_chart(self) -> None:
        """Switch the chart between hours and days."""
        chart = self.query_one(SpendChart)
        chart.daily = not chart.daily

    def action_cycle_breakdown(self) -> None:
        """Show the breakdown tab, cycling its period."""
        tabs = self.query_one("#main", TabbedContent)
        breakdown = self.query_one(BreakdownTables)
        if tabs.active == "breakdown-tab":
            breakdown.period = (breakdown.period + 1) % len(breakdown.PERIODS)
        tabs.active = "breakdown-tab"

    def action_team(self) -> None:
        """Show the team screen (after ``tokenbuddy team join``)."""
        if self.config.team is None:
            self.notify("Team sync is not available here.", severity="information")
            return
        self.load_team()

    def action_vendors(self) -> None:
        """Show the vendor sources and the local-vs-billed reconciliation."""
        self.load_vendors()

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
