"""Looking back: the period of the chart and the tips, and the history view.

The chart steps through 24 hours, 7, 30 and 90 days, the cycle and all time; the
tips follow its period. The history view pages through every session of any range.
The handlers here keep what the workers read and show it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Label

from tokenbuddy.core.spans import SPANS
from tokenbuddy.tui.history_screen import HistoryScreen
from tokenbuddy.tui.remote import RemoteViews
from tokenbuddy.tui.widgets import SpendChart, TipsPanel, top_tip_text

if TYPE_CHECKING:
    from tokenbuddy.core.tips import Tip
    from tokenbuddy.tui.messages import (
        HistoryLoaded,
        HistoryRequested,
        SpendLoaded,
        TipsComputed,
    )


class Browsing(RemoteViews):
    """Handlers and actions of the chart's period, the tips and the history view."""

    tips: list[Tip] | None

    def on_tips_computed(self, message: TipsComputed) -> None:
        if self._shutting_down():
            return
        tips = message.view.tips
        self.tips = tips
        self.query_one(TipsPanel).show(message.view, self.config.zone)
        teaser = self.query_one("#top-tip", Label)
        teaser.display = bool(tips)
        if tips:
            teaser.update(top_tip_text(tips[0]))

    def on_spend_loaded(self, message: SpendLoaded) -> None:
        if not self._shutting_down():
            self.query_one(SpendChart).show_days(message.daily)

    def recompute_tips(self) -> None:
        """The tips over the chart's span, recomputed."""
        self.compute_tips(self.query_one(SpendChart).chosen)

    def load_chart_days(self) -> None:
        """Read the chart's days when its span is not in the snapshot."""
        span = self.query_one(SpendChart).to_load
        if span is not None:
            self.load_spend(span)

    def on_history_requested(self, message: HistoryRequested) -> None:
        self.load_history(message.query)

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        if self._shutting_down():
            return
        for screen in self.screen_stack:
            if isinstance(screen, HistoryScreen):
                screen.show(message.page)

    # -- actions ---------------------------------------------------------------------------

    def action_cycle_chart(self) -> None:
        """Step the period of the chart and the tips: 24 h, 7, 30, 90 days, cycle, all."""
        chart = self.query_one(SpendChart)
        chart.span = (chart.span + 1) % len(SPANS)
        self.load_chart_days()
        self.recompute_tips()

    def action_history(self) -> None:
        """Browse every session of any date range."""
        self.push_screen(HistoryScreen(self.config.zone))
