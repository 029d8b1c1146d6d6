"""The dashboard's widgets: thin shells that render a snapshot with the formatters."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import DataTable, Label, OptionList, ProgressBar, Sparkline, Static
from textual.widgets.option_list import Option

from tokenbuddy.core.money import dollars
from tokenbuddy.core.projects import project_name
from tokenbuddy.core.records import CURSOR_LOCAL
from tokenbuddy.tui.formatting import (
    ago,
    axis_line,
    day_ticks,
    hour_ticks,
    percent,
    safe,
    tokens,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tokenbuddy.core.alerts import Alert
    from tokenbuddy.core.dashboard import (
        Breakdown,
        DashboardSnapshot,
        SessionSummary,
        WindowStatus,
    )
    from tokenbuddy.core.tips import Tip
    from tokenbuddy.sources.discovery import LogRoot


class HeaderStrip(Vertical):
    """Today, the cycle against the cap, burn rates, cache and windows, and the pace."""

    snapshot: reactive[DashboardSnapshot | None] = reactive(None, always_update=True)
    """The figures to show; None until the first snapshot is built."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="spend-line"):
            yield Label(id="today")
            yield ProgressBar(total=100, show_eta=False, id="cap-bar")
            yield Label(id="cap")
        yield Label(id="burn")
        yield Label(id="cache")
        yield Label(id="pace")
        yield Label(id="top-tip")

    def watch_snapshot(self, snapshot: DashboardSnapshot | None) -> None:
        if snapshot is None:
            self.query_one("#today", Label).update("Reading your agent logs…")
            self.query_one("#cap-bar", ProgressBar).display = False
            return
        self.query_one("#today", Label).update(today_text(snapshot))
        bar = self.query_one("#cap-bar", ProgressBar)
        cap_usd = snapshot.projection.cap_usd
        bar.display = cap_usd is not None
        if cap_usd is not None:
            bar.update(total=cap_usd, progress=min(snapshot.projection.spent_usd, cap_usd))
        self.query_one("#cap", Label).update(cap_text(snapshot))
        self.query_one("#burn", Label).update(burn_text(snapshot))
        self.query_one("#cache", Label).update(cache_text(snapshot))
        self.query_one("#pace", Label).update(pace_text(snapshot))


def today_text(snapshot: DashboardSnapshot) -> Text:
    """``Today $12.34  Cycle $123.45``."""
    text = Text()
    text.append("Today ", style="dim")
    text.append(dollars(snapshot.today.cost_usd, whole_from=1000), style="bold")
    text.append("  Cycle ", style="dim")
    text.append(dollars(snapshot.cycle_totals.cost_usd, whole_from=1000), style="bold")
    if snapshot.projection.cap_usd is not None:
        text.append(f" / {dollars(snapshot.projection.cap_usd, whole_from=1000)}", style="dim")
    return text


def cap_text(snapshot: DashboardSnapshot) -> Text:
    """When the cap is reached at the recent pace, or how to set one."""
    cap = snapshot.cap
    if cap is None:
        return Text("no cap set: monthly_cap_usd in config.toml", style="dim")
    text = Text()
    if cap.days_to_cap is None:
        text.append("under cap", style="green")
    elif cap.days_to_cap <= 0:
        text.append("cap reached", style="bold red")
    else:
        days = cap.days_to_cap
        style = "bold red" if days < 3 else "yellow" if days < 7 else "green"
        text.append(f"cap in {days:.1f} days", style=style)
    return text


def pace_text(snapshot: DashboardSnapshot) -> Text:
    """Projected spend at the cycle end, and the recent rates it extrapolates."""
    projection = snapshot.projection
    end = projection.cycle_end - timedelta(days=1)
    text = Text()
    text.append("Pace ", style="dim")
    text.append(
        f"{dollars(projection.projected_usd, whole_from=1000)} by {end:%b} {end.day}", style="bold"
    )
    if projection.cap_usd is not None and projection.projected_usd > projection.cap_usd:
        text.stylize("bold red", 5)
    text.append(f"  {projection.basis.describe()}", style="dim")
    return text


def burn_text(snapshot: DashboardSnapshot) -> Text:
    """Burn over the last 5 minutes and hour, in $/h and tokens/min."""
    text = Text()
    text.append("Burn ", style="dim")
    for label, burn in (("5m", snapshot.burn_5m), ("1h", snapshot.burn_1h)):
        text.append(f"{label} ", style="dim")
        text.append(f"{dollars(burn.usd_per_hour, whole_from=1000)}/h", style="bold")
        text.append(f" {tokens(burn.tokens_per_minute)} tok/min  ")
    return text


def cache_text(snapshot: DashboardSnapshot) -> Text:
    """Cache hit ratio today and in the active session, then the subscription windows."""
    text = Text()
    text.append("Cache hit ", style="dim")
    text.append(f"today {percent(snapshot.today.cache_hit_ratio)}")
    text.append(f"  session {percent(snapshot.active_session_cache_ratio)}")
    for window in snapshot.windows:
        text.append("  ")
        text.append_text(window_text(window, snapshot.now_ms))
    if snapshot.unpriced_models:
        text.append("  unpriced: ", style="dim")
        text.append_text(safe(", ".join(sorted(snapshot.unpriced_models))))
    return text


def window_text(window: WindowStatus, now_ms: int) -> Text:
    """``Codex 5h 41%`` (red with the time it fills up, when it fills before resetting)."""
    projection = window.projection
    used = projection.used_percent
    style = "bold red" if used >= 90 else "yellow" if used >= 70 else ""
    text = Text(f"{window.label} ", style="dim")
    text.append(f"{used:.0f}%", style=style)
    if projection.full_at_ms is not None:
        text.append(f" full in {ago(projection.full_at_ms, now_ms)}", style="bold red")
    return text


class SessionsTable(DataTable[Text]):
    """Recent sessions; active ones (a request in the last 15 minutes) stand out."""

    COLUMNS = ("Project", "Model", "Cost", "$/h", "Cache", "Reqs", "Sub", "Last")

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for column in self.COLUMNS:
            self.add_column(column, key=column)

    def show(self, snapshot: DashboardSnapshot) -> None:
        """Replace the rows, keeping the cursor on the same session when it is still listed."""
        selected = self.selected_key()
        self.clear()
        for session in snapshot.sessions:
            self.add_row(*session_cells(session, snapshot.now_ms), key=session_key(session))
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected))

    def selected_key(self) -> str | None:
        """The key of the highlighted session, if any."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return key if isinstance(key, str) else None


def session_key(session: SessionSummary) -> str:
    """The row key of a session: source and id."""
    return f"{session.source}\x1f{session.session_id}"


def session_cells(session: SessionSummary, now_ms: int) -> list[Text]:
    """One table row; every string from the logs goes through :func:`safe`."""
    style = "bold" if session.active else ""
    model = ", ".join(short_model(m) for m in session.models)
    project = safe(("● " if session.active else "  ") + session.project)
    cells = [
        project,
        safe(model),
        Text(estimated(session, dollars(session.cost_usd, whole_from=1000))),
        Text(estimated(session, dollars(session.usd_per_hour, whole_from=1000))),
        Text(percent(session.cache_hit_ratio)),
        Text(f"{session.requests:,}"),
        Text(percent(session.subagent_share) if session.subagent_share else "–"),
        Text(ago(now_ms, session.last_ms)),
    ]
    for cell in cells:
        cell.stylize(style)
    return cells


def estimated(session: SessionSummary, figure: str) -> str:
    """``~$1.20`` for a Cursor local estimate (billed rows replace it once they arrive)."""
    return f"~{figure}" if session.source == CURSOR_LOCAL else figure


def short_model(model: str) -> str:
    """``claude-sonnet-4-5-20250929`` → ``sonnet-4-5``: enough to tell models apart."""
    name = model.removeprefix("claude-")
    parts = name.split("-")
    if parts and len(parts[-1]) == 8 and parts[-1].isdigit():
        parts = parts[:-1]
    return "-".join(parts)


class SpendChart(Vertical):
    """Spend per hour (last 24 h) or per day (last 30 days), switched with a key."""

    daily: reactive[bool] = reactive(False)
    """Show days instead of hours."""

    def __init__(self, zone: ZoneInfo | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._snapshot: DashboardSnapshot | None = None
        self._zone = zone or ZoneInfo("UTC")

    def compose(self) -> ComposeResult:
        yield Label(id="chart-title")
        yield Sparkline([], id="chart")
        yield Label(id="chart-axis")

    def on_resize(self) -> None:
        self._redraw()

    def show(self, snapshot: DashboardSnapshot) -> None:
        """Plot the snapshot's series for the current mode."""
        self._snapshot = snapshot
        self._redraw()

    def watch_daily(self, _daily: bool) -> None:
        self._redraw()

    def _redraw(self) -> None:
        if self._snapshot is None or not self.is_mounted:
            return
        series = self._snapshot.daily_usd if self.daily else self._snapshot.hourly_usd
        span = "Per day (30 d)" if self.daily else "Per hour (24 h)"
        peak = max(series, default=0.0)
        title = Text(span, style="bold")
        total = dollars(sum(series), whole_from=1000)
        title.append(f"  total {total}  peak {dollars(peak, whole_from=1000)}", style="dim")
        title.append("  (c)", style="dim")
        self.query_one("#chart-title", Label).update(title)
        self.query_one("#chart", Sparkline).data = list(series)
        now_ms = self._snapshot.now_ms
        ticks = (
            day_ticks(now_ms, self._zone, len(series))
            if self.daily
            else hour_ticks(now_ms, self._zone, len(series))
        )
        axis = axis_line(self.query_one("#chart").size.width, len(series), ticks)
        self.query_one("#chart-axis", Label).update(Text(axis, style="dim"))


class BreakdownTables(Vertical):
    """Spend by model and by project for today, the cycle or all time (key: b)."""

    PERIODS = ("today", "cycle", "all time")
    period: reactive[int] = reactive(0)
    """Index into :attr:`PERIODS`."""

    NARROW = 100
    """Below this many columns Share and Reqs are left out, so Cost and Cache stay in view."""
    WIDE_ONLY = ("Share", "Reqs")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._snapshot: DashboardSnapshot | None = None
        self.shown_period: str | None = None
        """The period the tables were last filled for; None before the first snapshot."""
        self._narrow: bool | None = None

    def compose(self) -> ComposeResult:
        yield Label(id="breakdown-title")
        with Horizontal(id="breakdown-tables"):
            yield DataTable(id="by-model", cursor_type="none")
            yield DataTable(id="by-project", cursor_type="none")

    def on_mount(self) -> None:
        self._set_columns(narrow=False)

    def on_resize(self) -> None:
        # After the layout pass: rows added during it keep their columns at the width of
        # their labels in a real terminal. Until then the tables keep their columns, and
        # ``_narrow`` says which ones they have (a snapshot may fill them meanwhile).
        self.call_after_refresh(self._switch_columns)

    def _switch_columns(self) -> None:
        narrow = self.size.width < self.NARROW
        if narrow != self._narrow:
            self._set_columns(narrow)
            self._fill()

    def _set_columns(self, narrow: bool) -> None:
        self._narrow = narrow
        for table_id, first in (("#by-model", "Model"), ("#by-project", "Project")):
            table = self.query_one(table_id, DataTable)
            table.clear(columns=True)
            for column in (first, "Cost", "Share", "Reqs", "Cache"):
                if not (narrow and column in self.WIDE_ONLY):
                    table.add_column(column)

    def show(self, snapshot: DashboardSnapshot) -> None:
        """Fill both tables for the current period."""
        self._snapshot = snapshot
        self._fill()

    def watch_period(self, _period: int) -> None:
        self._fill()

    def _fill(self) -> None:
        if self._snapshot is None or not self.is_mounted:
            return
        period = self.PERIODS[self.period]
        by_label = {b.label: b for b in self._snapshot.breakdowns}
        self.query_one("#breakdown-title", Label).update(period_title(period, self.PERIODS))
        self.shown_period = period
        for table_id, name in (("#by-model", "model"), ("#by-project", "project")):
            breakdown = by_label.get(f"By {name}, {period}")
            self._fill_table(self.query_one(table_id, DataTable), breakdown, bool(self._narrow))

    @staticmethod
    def _fill_table(table: DataTable[Text], breakdown: Breakdown | None, narrow: bool) -> None:
        table.clear()
        if breakdown is None:
            return
        total = sum(t.cost_usd for _, t in breakdown.rows) or 1.0
        for label, totals in breakdown.rows:
            wide = [Text(percent(totals.cost_usd / total)), Text(f"{totals.requests:,}")]
            table.add_row(
                safe(short_model(label)),
                Text(dollars(totals.cost_usd, whole_from=1000)),
                *([] if narrow else wide),
                Text(percent(totals.cache_hit_ratio)),
            )


def period_title(period: str, periods: tuple[str, ...]) -> Text:
    """``Spend by model and project: [today] cycle  all time  (b: next)``."""
    text = Text("By model and project: ", style="bold")
    for name in periods:
        text.append(f" {name} ", style="reverse bold" if name == period else "dim")
        text.append(" ")
    text.append(" (b: next)", style="dim")
    return text


SEVERITY_STYLE = {
    "critical": "bold white on red",
    "warning": "bold black on yellow",
    "info": "cyan",
}
KIND_LABEL = {
    "cache_collapse": "cache collapse",
    "spend_spike": "spend spike",
    "unattended_loop": "unattended loop",
    "cap_trajectory": "cap",
    "subscription_window": "subscription window",
}


class WarningsPanel(OptionList):
    """Active runaway warnings, worst first, shown only while there are some.

    Enter (or a click) on a warning opens its session.
    """

    def on_focus(self) -> None:
        """Arriving with nothing highlighted would leave enter doing nothing: take the first."""
        if self.highlighted is None and self.option_count:
            self.highlighted = 0

    def show(self, alerts: Sequence[Alert]) -> None:
        """Replace the listed warnings, keeping the highlight where it was if still listed."""
        highlighted = self.highlighted_option.id if self.highlighted_option else None
        self.clear_options()
        self.display = bool(alerts)
        self.set_class(any(a.severity == "critical" for a in alerts), "-critical")
        ids = [alert_id(alert, index) for index, alert in enumerate(alerts)]
        for alert, option_id in zip(alerts, ids, strict=True):
            self.add_option(Option(alert_text(alert), id=option_id))
        if highlighted in ids:
            self.highlighted = ids.index(highlighted)


def alert_id(alert: Alert, index: int) -> str:
    """An option id that names the session (``kind/session``) when there is one."""
    return f"{alert.kind}/{alert.session_id}" if alert.session_id else f"{alert.kind}/-{index}"


def alert_text(alert: Alert) -> Text:
    """``CRITICAL cache collapse · infra · $86/h`` then the message, all plain text."""
    text = Text()
    text.append(f" {alert.severity.upper()} ", style=SEVERITY_STYLE.get(alert.severity, ""))
    text.append(f" {KIND_LABEL.get(alert.kind, alert.kind)}", style="bold")
    if alert.project:
        text.append(" · ")
        text.append_text(safe(project_name(alert.project)))
    text.append(f" · {dollars(alert.cost_per_hour_usd, whole_from=1000)}/h\n", style="bold")
    text.append_text(safe(alert.message))
    return text


class TipsPanel(VerticalScroll):
    """Conservation tips ranked by the dollars they would save (key: t)."""

    def compose(self) -> ComposeResult:
        yield Static(Text("Looking for savings in the last 14 days…", style="dim"), id="tips-body")

    def show(self, tips: Sequence[Tip]) -> None:
        """Replace the listed tips."""
        self.query_one("#tips-body", Static).update(tips_text(tips))


def tips_text(tips: Sequence[Tip]) -> Text:
    """Every tip: saving, title, why, evidence, action and how the saving was computed."""
    if not tips:
        return Text(
            "No tips: nothing in the last 14 days would clearly be cheaper done another way.",
            style="dim",
        )
    text = Text()
    for tip in tips:
        text.append(
            f"~{dollars(tip.saving_usd_per_month, whole_from=1000)}/month  ", style="bold green"
        )
        text.append(f"{tip.title}\n", style="bold")
        text.append_text(safe(tip.why))
        text.append("\n")
        for line in tip.evidence:
            text.append("  • ", style="dim")
            text.append_text(safe(line))
            text.append("\n")
        text.append("  Do: ", style="bold")
        text.append_text(safe(tip.action))
        text.append("\n  How: ", style="dim")
        text.append(tip.method, style="dim")
        text.append("\n\n")
    text.append("Savings can overlap: a request may count in more than one tip.", style="dim")
    return text


def top_tip_text(tip: Tip) -> Text:
    """The header's one-line teaser for the best tip."""
    text = Text("Tip ", style="dim")
    text.append(f"~{dollars(tip.saving_usd_per_month, whole_from=1000)}/mo ", style="bold green")
    text.append_text(safe(tip.title))
    text.append("  (t)", style="dim")
    return text


class EmptyState(Static):
    """What to do when no agent logs were found."""

    def show(self, roots: list[LogRoot], config_file: str) -> None:
        """Say where tokenbuddy looked and how to point it elsewhere."""
        text = Text("No agent usage found yet.\n\n", style="bold")
        text.append("tokenbuddy looked in:\n")
        for root in roots:
            state = "found" if root.exists else "not found"
            text.append(f"  {root.source:<12} ")
            text.append_text(safe(str(root.path)))
            text.append(f"  ({state})\n", style="green" if root.exists else "dim")
        text.append("\nPoint it at your logs with ")
        text.append("CLAUDE_CONFIG_DIR", style="bold")
        text.append(" (a Claude config dir; comma-separated for several) or ")
        text.append("CODEX_HOME", style="bold")
        text.append(", or set claude_config_dirs / codex_homes in ")
        text.append_text(safe(config_file))
        text.append(".\nRun ")
        text.append("tokenbuddy --demo", style="bold")
        text.append(" to see the dashboard on generated data.")
        self.update(text)
