"""The spend chart: per hour over the last day, or per day over 7, 30 or 90 days, the
budget cycle or all time."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.widgets import Label, Sparkline

from tokenbuddy.core.metrics import local_now
from tokenbuddy.core.spans import SPANS, Span
from tokenbuddy.tui.formatting import axis_line, day_ticks, dollars, hour_ticks

if TYPE_CHECKING:
    from tokenbuddy.core.dashboard import DashboardSnapshot
    from tokenbuddy.core.spans import DailySpend

SNAPSHOT_DAYS = 30
"""Day spans up to this long come with every snapshot; longer ones are read on demand."""


class SpendChart(Vertical):
    """Spend per hour (last 24 h) or per day over a longer span, stepped with a key."""

    span: reactive[int] = reactive(0)
    """Index into :data:`SPANS`."""

    def __init__(self, zone: ZoneInfo | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._snapshot: DashboardSnapshot | None = None
        self._loaded: DailySpend | None = None
        self._zone = zone or ZoneInfo("UTC")

    @property
    def chosen(self) -> Span:
        """The span on show."""
        return SPANS[self.span]

    @property
    def daily(self) -> bool:
        """True while the chart shows days rather than hours."""
        return not self.chosen.hourly

    @property
    def to_load(self) -> Span | None:
        """The span on show when its days are read on demand, else None."""
        span = self.chosen
        on_demand = span.days is None or span.days > SNAPSHOT_DAYS
        return span if on_demand else None

    def compose(self) -> ComposeResult:
        yield Label(id="chart-title")
        yield Sparkline([], id="chart")
        yield Label(id="chart-axis")

    def on_resize(self) -> None:
        self._redraw()

    def show(self, snapshot: DashboardSnapshot) -> None:
        """Plot the snapshot's series for the current span."""
        self._snapshot = snapshot
        self._redraw()

    def show_days(self, daily: DailySpend) -> None:
        """Plot a span's days read on demand (dropped if another span is on show)."""
        self._loaded = daily
        self._redraw()

    def watch_span(self, _span: int) -> None:
        self._redraw()

    def _series(self) -> tuple[float, ...] | None:
        """The bars of the span on show; None while its days are being read."""
        snapshot, span = self._snapshot, self.chosen
        assert snapshot is not None
        if span.hourly:
            return snapshot.hourly_usd
        if self.to_load is None:
            return snapshot.daily_usd[-(span.days or SNAPSHOT_DAYS) :]
        loaded = self._loaded
        return loaded.usd if loaded is not None and loaded.span == span else None

    def _redraw(self) -> None:
        if self._snapshot is None or not self.is_mounted:
            return
        try:
            title = self.query_one("#chart-title", Label)
        except NoMatches:  # days read on demand arrived while the app tears the chart down
            return
        series = self._series()
        title.update(self._title(series))
        self.query_one("#chart", Sparkline).data = list(series or ())
        now_ms = self._snapshot.now_ms
        count = len(series or ())
        ticks = (
            day_ticks(now_ms, self._zone, count)
            if self.daily
            else hour_ticks(now_ms, self._zone, count)
        )
        axis = axis_line(self.query_one("#chart").size.width, count, ticks)
        self.query_one("#chart-axis", Label).update(Text(axis, style="dim"))

    def _title(self, series: tuple[float, ...] | None) -> Text:
        """``Per day over the last 90 days  total $X  peak $Y  (c)``; since when for the cycle
        and all time."""
        span = self.chosen
        title = Text(f"Per {'day' if self.daily else 'hour'} over {span.label}", style="bold")
        if series is None:
            title.append("  reading…", style="dim")
            return title
        if self.daily and span.days is None and self._snapshot is not None:
            today = local_now(self._snapshot.now_ms, self._zone).date()
            first = today - timedelta(days=len(series) - 1)
            title.append(f" (since {first:%b} {first.day}, {first.year})", style="dim")
        peak = max(series, default=0.0)
        title.append(f"  total {dollars(sum(series))}  peak {dollars(peak)}", style="dim")
        title.append("  (c)", style="dim")
        return title
