"""The spend chart: per hour over the last day, or per day over the last 30."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Label, Sparkline

from tokenbuddy.tui.formatting import axis_line, day_ticks, dollars, hour_ticks

if TYPE_CHECKING:
    from tokenbuddy.core.dashboard import DashboardSnapshot


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
        title.append(f"  total {dollars(sum(series))}  peak {dollars(peak)}", style="dim")
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
