"""The vendors and team screens: what the dashboard learns from outside this machine's logs.

Vendor sources (billing APIs, subscription windows) are polled in the background
once their credentials are found; the team server is synced on a timer once the
machine joined a team. The handlers here keep what came back and show the screens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenbuddy.tui.screens import TeamScreen, VendorsScreen
from tokenbuddy.tui.workers import DashboardWorkers

if TYPE_CHECKING:
    from tokenbuddy.services.team_sync import SyncReport
    from tokenbuddy.tui.messages import (
        CredentialsFound,
        TeamLoaded,
        TeamSynced,
        VendorsLoaded,
        VendorsPolled,
    )

VENDOR_CHECK_SECONDS = 30.0
"""How often the dashboard looks for vendor sources whose next poll is due."""


class RemoteViews(DashboardWorkers):
    """Handlers and actions of the vendors and team screens (a base of the app)."""

    team_report: SyncReport | None
    _team_alerted: set[str]

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

    # -- actions ---------------------------------------------------------------------------

    def action_team(self) -> None:
        """Show the team screen (after ``tokenbuddy team join``)."""
        if self.config.team is None:
            self.notify("Team sync is not available here.", severity="information")
            return
        self.load_team()

    def action_vendors(self) -> None:
        """Show the vendor sources and the local-vs-billed reconciliation."""
        self.load_vendors()
