"""The breakdown tables: spend by agent, by model and by project for one period."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Label

from tokenbuddy.tui.formatting import dollars, percent, safe, short_model

if TYPE_CHECKING:
    from tokenbuddy.core.dashboard import Breakdown, DashboardSnapshot


class BreakdownTables(Vertical):
    """Spend by agent, by model and by project for today, the cycle or all time (key: b)."""

    PERIODS = ("today", "cycle", "all time")
    period: reactive[int] = reactive(0)
    """Index into :attr:`PERIODS`."""

    NARROW = 100
    """Below this many columns Share and Reqs are left out, so Cost and Cache stay in view."""
    WIDE_ONLY = ("Share", "Reqs")
    TABLES = (("#by-agent", "Agent"), ("#by-model", "Model"), ("#by-project", "Project"))
    """Each table's id and first column; the breakdown it shows is ``By <first>, <period>``."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._snapshot: DashboardSnapshot | None = None
        self.shown_period: str | None = None
        """The period the tables were last filled for; None before the first snapshot."""
        self._narrow: bool | None = None

    def compose(self) -> ComposeResult:
        yield Label(id="breakdown-title")
        yield DataTable(id="by-agent", cursor_type="none")
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
        for table_id, first in self.TABLES:
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
        for table_id, name in self.TABLES:
            breakdown = by_label.get(f"By {name.lower()}, {period}")
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
                Text(dollars(totals.cost_usd)),
                *([] if narrow else wide),
                Text(percent(totals.cache_hit_ratio)),
            )


def period_title(period: str, periods: tuple[str, ...]) -> Text:
    """``By agent, model and project: [today] cycle  all time  (b: next)``."""
    text = Text("By agent, model and project: ", style="bold")
    for name in periods:
        text.append(f" {name} ", style="reverse bold" if name == period else "dim")
        text.append(" ")
    text.append(" (b: next)", style="dim")
    return text
