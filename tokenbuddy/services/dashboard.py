"""The dashboard's blocking work: ingest, snapshots, session details, tips and the watcher.

:class:`DashboardService` is what the TUI's thread workers call. Every method
blocks and may run in any thread, several at once: each opens its own ledger
connection, ingests are serialised by one lock (the backlog process holds it
too, so a re-scan waits rather than reading everything again), and the runaway
detectors are fed by one snapshot at a time. Vendor polls and team sync are
here too; their modules are imported on first use (keyring, HTTP, PostgreSQL).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from tokenbuddy.core.metrics import budget_cycle, local_now
from tokenbuddy.core.spans import span_start_ms, tips_window
from tokenbuddy.core.units import DAY_MS
from tokenbuddy.services.backlog_process import BacklogProcess
from tokenbuddy.services.empty_result import explain_empty
from tokenbuddy.services.guard import allow, guard_state
from tokenbuddy.services.history import history_page
from tokenbuddy.services.ingest import IngestSummary, sync, sync_paths
from tokenbuddy.services.monitor import Monitor
from tokenbuddy.services.recovery import guarded
from tokenbuddy.services.session import local_today
from tokenbuddy.services.snapshot import (
    SESSION_WINDOW_MS,
    build_snapshot,
    daily_spend,
    first_day_of,
    session_detail,
)
from tokenbuddy.services.status_file import publish_status
from tokenbuddy.services.tips import priced_tips
from tokenbuddy.sources.watch import LogWatcher, source_of
from tokenbuddy.store.ledger import Ledger

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from tokenbuddy.core.alerts import Thresholds
    from tokenbuddy.core.dashboard import DashboardSnapshot, SessionDetail
    from tokenbuddy.core.history import HistoryPage, HistoryQuery
    from tokenbuddy.core.spans import DailySpend, Span, TipsWindow
    from tokenbuddy.core.tips import Tip
    from tokenbuddy.services.budget import BudgetSettings
    from tokenbuddy.services.guard import Allow, GuardSetup, GuardState
    from tokenbuddy.services.team_sync import SyncOptions, SyncReport
    from tokenbuddy.services.vendor_poll import Credential
    from tokenbuddy.sources.discovery import LogRoot
    from tokenbuddy.store.settings import StatuslineSettings, VendorSettings
    from tokenbuddy.store.vendors import Reconciliation, SourceState
    from tokenbuddy.team import TeamOverview

RECONCILE_DAYS = 30
"""The vendors screen compares local and billed spend over the last 30 days."""


class DashboardSettings(Protocol):
    """What the service reads from the dashboard's configuration."""

    ledger_path: Path
    roots: list[LogRoot]
    zone: ZoneInfo
    budget: BudgetSettings
    thresholds: Thresholds
    refresh_seconds: float
    """How long the watcher gathers changed paths before handing them over."""
    status_file: Path | None
    statusline: StatuslineSettings | None
    guard: GuardSetup | None
    """The guard's settings and files, published with the status line's file (None: the
    file says nothing of the guard, and its hook lets everything through)."""
    vendors: VendorSettings | None
    team: SyncOptions | None

    def clock(self) -> float:
        """Seconds since the epoch."""


@dataclass(frozen=True, slots=True)
class VendorCredentials:
    """Each vendor source's credential (None: not configured) and what went wrong."""

    credentials: dict[str, Credential | None]
    problems: dict[str, str]
    """Provider -> why its credential cannot be read (shown as a warning)."""
    keyring_problem: str = ""
    """Why no credential can be stored here (no keyring backend), or empty."""


@dataclass(frozen=True, slots=True)
class TipsView:
    """The tips over a span, and the window they actually looked at."""

    span: Span
    window: TipsWindow
    tips: list[Tip]


@dataclass(frozen=True, slots=True)
class VendorsView:
    """What the vendors screen shows: each source's state and the reconciliation."""

    now_ms: int
    states: list[SourceState]
    credentials: dict[str, str]
    """Provider -> where its credential comes from (never the secret itself)."""
    reconciliation: Reconciliation
    notice: str = ""
    """Something the user must fix before any source can be configured (no keyring)."""


@dataclass(frozen=True, slots=True)
class TeamView:
    """The team screen's overview; None when not joined, with why when it failed."""

    overview: TeamOverview | None
    error: str = ""


class DashboardService:
    """The dashboard's ledger, logs and detectors, behind blocking thread-safe calls."""

    def __init__(self, settings: DashboardSettings) -> None:
        self.settings = settings
        self.backlog = BacklogProcess(settings.ledger_path, settings.roots)
        self.reading_backlog = False
        """True while the backlog process fills the ledger (it is empty until it is done)."""
        self._ingest_lock = threading.Lock()
        self._monitor = Monitor(settings.zone, settings.budget, settings.thresholds)
        self._monitor_lock = threading.Lock()
        self._published: dict[str, Any] | None = None
        """The status file as the last snapshot wrote it (the guard's figures)."""

    def now_ms(self) -> int:
        """The dashboard's clock, in milliseconds since the epoch."""
        return int(self.settings.clock() * 1000)

    def catch_up(self, progress: Callable[[int, int], None]) -> IngestSummary | None:
        """The first ingest of everything, a large first backlog in a process of its own.

        None when the service was closed meanwhile (nothing more is read).
        """
        problems: list[str] = []
        if self.backlog.pays():
            self.reading_backlog = True
            try:
                with self._ingest_lock:  # re-scans wait, rather than read it all again
                    problems = self.backlog.read(progress)
            finally:
                self.reading_backlog = False
        if self.backlog.stopped:
            return None
        summary = self.sync(progress)
        summary.errors[:0] = [p for p in problems if p not in summary.errors]
        return summary

    def sync(self, progress: Callable[[int, int], None] | None = None) -> IngestSummary:
        """Bring the ledger up to date with every root (the safety re-scan), and take the
        day's backup; a damaged ledger is recovered from the newest sound one, and the
        summary's errors say what the recovery did."""
        notices: list[str] = []

        def once() -> IngestSummary:
            with Ledger(self.settings.ledger_path) as ledger:
                summary = sync(ledger, self.settings.roots, jobs=1, progress=progress)
                ledger.back_up(local_today())
            return summary

        with self._ingest_lock:
            path, roots = self.settings.ledger_path, self.settings.roots
            summary = guarded(once, path, lambda: roots, notices.append)
        summary.errors[:0] = notices
        return summary

    def read_changes(self, paths: Iterable[str]) -> None:
        """Read the new bytes of the files the watcher reported (others are ignored)."""
        roots = self.settings.roots
        known = [(p, s) for p in paths if (s := source_of(p, roots)) is not None]
        with self._ingest_lock, Ledger(self.settings.ledger_path) as ledger:
            sync_paths(ledger, known)

    def snapshot(self) -> DashboardSnapshot:
        """Every dashboard figure as of now; the status line's file is rewritten from it."""
        settings = self.settings
        with self._monitor_lock, Ledger(settings.ledger_path) as ledger:
            snapshot = build_snapshot(
                ledger, self.now_ms(), settings.zone, settings.budget, self._monitor
            )
            reasons = self._empty_reasons(ledger, snapshot)
            if reasons:
                snapshot = replace(snapshot, empty_reasons=tuple(reasons))
            if settings.status_file is not None and settings.statusline is not None:
                self._published = publish_status(
                    ledger,
                    snapshot,
                    settings.statusline,
                    settings.status_file,
                    guard=settings.guard,
                )
        return snapshot

    def _empty_reasons(self, ledger: Ledger, snapshot: DashboardSnapshot) -> list[str]:
        """Why the ledger holds nothing, or nothing of the last day: what was looked at."""
        roots, zone = self.settings.roots, self.settings.zone
        if snapshot.is_empty:
            return explain_empty(ledger, roots, zone=zone)
        if not snapshot.sessions and not snapshot.loops:
            since_ms = snapshot.now_ms - SESSION_WINDOW_MS
            return explain_empty(ledger, roots, zone=zone, since_ms=since_ms)
        return []

    def guard_state(self) -> GuardState | None:
        """What the guard stops now, its allows and latest decisions, as of the last
        snapshot (None: no guard here, or no snapshot published yet)."""
        guard, published = self.settings.guard, self._published
        if guard is None or published is None:
            return None
        return guard_state(published, guard.state_dir, self.now_ms())

    def allow_guard(self, minutes: int) -> Allow:
        """Lift the guard's blocks for every session for ``minutes`` (and record it)."""
        assert self.settings.guard is not None
        return allow(
            self.settings.guard.state_dir, minutes=minutes, session_id=None, now_ms=self.now_ms()
        )

    def session_detail(self, session_id: str, source: str | None) -> SessionDetail | None:
        """One session's timeline and subagents (``source`` None: its latest request's)."""
        with Ledger(self.settings.ledger_path) as ledger:
            return session_detail(ledger, session_id, source, self.now_ms())

    def tips(self, span: Span) -> TipsView:
        """The conservation tips over ``span`` (kept between a week and 90 days), re-priced."""
        now_ms, zone = self.now_ms(), self.settings.zone
        now = local_now(now_ms, zone)
        cycle = budget_cycle(now, self.settings.budget.cycle_start_day)
        with Ledger(self.settings.ledger_path) as ledger:
            start_ms = span_start_ms(span, now, cycle, first_day_of(ledger, zone))
            window = tips_window(span, start_ms, now_ms)
            return TipsView(span, window, priced_tips(ledger, window.since_ms, now_ms))

    def history(self, query: HistoryQuery) -> HistoryPage:
        """One page of the sessions of a date range and project (the history view)."""
        with Ledger(self.settings.ledger_path) as ledger:
            settings = self.settings
            return history_page(ledger, query, self.now_ms(), settings.zone, settings.roots)

    def daily_spend(self, span: Span) -> DailySpend:
        """Spend per local day over ``span`` (the chart's longer spans)."""
        settings = self.settings
        with Ledger(settings.ledger_path) as ledger:
            return daily_spend(
                ledger, span, self.now_ms(), settings.zone, settings.budget.cycle_start_day
            )

    def start_watcher(self, on_change: Callable[[frozenset[str]], None]) -> LogWatcher:
        """Follow the roots that exist now (slow on big trees: recursive watches)."""
        settings = self.settings
        watcher = LogWatcher(settings.roots, on_change, debounce=settings.refresh_seconds)
        watcher.start()
        return watcher

    def has_new_roots(self, watcher: LogWatcher) -> bool:
        """Whether a log dir appeared since ``watcher`` started (an agent's first run, say)."""
        watched = {root.path for root in watcher.roots}
        return any(root.exists and root.path not in watched for root in self.settings.roots)

    def close(self) -> None:
        """Stop the backlog process, if any, and never start one after."""
        self.backlog.stop()

    # -- vendor sources --------------------------------------------------------------------

    def find_credentials(self) -> VendorCredentials:
        """Look up each enabled vendor source's credential (the keyring can block)."""
        from tokenbuddy.services.vendor_poll import credentials
        from tokenbuddy.store.vendors import VENDOR_SOURCES

        assert self.settings.vendors is not None
        enabled = [p for p in VENDOR_SOURCES if p not in self.settings.vendors.disabled]
        found, problems, no_keyring = credentials(enabled)
        # Without a keyring nothing can have been stored: not configured, and said on the
        # vendors screen only, not as a warning at every start.
        keyring_problem = problems[min(no_keyring)] if no_keyring else ""
        for provider in no_keyring:
            del problems[provider]
        return VendorCredentials(found, problems, keyring_problem)

    def poll_vendors(
        self, credentials: dict[str, Credential | None], *, agent_active: bool
    ) -> list[str] | None:
        """Poll the sources whose next poll is due, concurrently in an event loop of this
        thread's own; ``provider: status`` per source polled, None when none was due."""
        import asyncio

        from tokenbuddy.services.vendor_poll import poll_provider, schedule_for
        from tokenbuddy.sources.vendors.http import ClientOptions
        from tokenbuddy.store.vendors import source_state

        assert self.settings.vendors is not None
        now_ms = self.now_ms()
        schedule = schedule_for(self.settings.vendors)
        with Ledger(self.settings.ledger_path) as ledger:
            due = [
                credential
                for credential in credentials.values()
                if credential is not None
                and (source_state(ledger, credential.provider).next_poll_ms or 0) <= now_ms
            ]
            if not due:
                return None

            async def poll() -> list[str]:
                outcomes = await asyncio.gather(
                    *(
                        poll_provider(
                            ledger, c, now_ms, ClientOptions(), schedule, agent_active=agent_active
                        )
                        for c in due
                    )
                )
                return [f"{o.provider}: {o.status}" for o in outcomes]

            return asyncio.run(poll())

    def vendor_view(
        self, credentials: dict[str, Credential | None], keyring_problem: str = ""
    ) -> VendorsView:
        """The sources' states and the last 30 days' reconciliation, for the vendors screen."""
        from tokenbuddy.store.vendors import reconciliation, source_states

        now_ms = self.now_ms()
        origins = {p: c.origin for p, c in credentials.items() if c is not None}
        with Ledger(self.settings.ledger_path) as ledger:
            return VendorsView(
                now_ms,
                source_states(ledger),
                origins,
                reconciliation(ledger, now_ms - RECONCILE_DAYS * DAY_MS, now_ms),
                keyring_problem,
            )

    # -- team ------------------------------------------------------------------------------

    def sync_team(self) -> SyncReport:
        """Push this machine's changed days to the team server (quietly off until joined)."""
        from tokenbuddy.services.team_sync import sync_once

        assert self.settings.team is not None
        return sync_once(self.settings.team, now_ms=self.now_ms())

    def team_view(self) -> TeamView:
        """The team overview for the team screen (needs ``tokenbuddy team join``)."""
        from tokenbuddy.errors import CredentialError, TeamError
        from tokenbuddy.services.team_sync import dsn_if_joined
        from tokenbuddy.team import load_team_overview

        options = self.settings.team
        assert options is not None
        try:
            dsn = options.dsn or dsn_if_joined(options.state_path)
            if dsn is None:
                return TeamView(None)
            overview = load_team_overview(
                dsn,
                now_ms=self.now_ms(),
                zone=self.settings.zone,
                allow_insecure=options.allow_insecure,
            )
        except (TeamError, CredentialError) as error:
            return TeamView(None, str(error))
        return TeamView(overview)
