"""The screen of a loop of scripted runs: what it spends, how often it runs, every run."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label

from tokenbuddy.core.units import MINUTE_MS
from tokenbuddy.tui.formatting import clock_time, dollars, percent, safe, short_model
from tokenbuddy.tui.widgets.sessions import SCRIPTED, loop_at, loop_key, loop_label, session_key

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from textual.app import ComposeResult

    from tokenbuddy.core.dashboard import DashboardSnapshot, ScriptLoop, SessionSummary


class LoopScreen(Screen[None]):
    """A loop: its spend, its pace, and its runs newest first (enter opens a run)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "app.pop_screen", "Back"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, loop: ScriptLoop, zone: ZoneInfo) -> None:
        super().__init__()
        self.loop = loop
        self.zone = zone

    def compose(self) -> ComposeResult:
        with Vertical(id="loop-head"):
            yield Label(self._title(), id="loop-title")
            yield Label(self._figures(), id="loop-figures")
        yield DataTable(id="loop-runs", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#loop-runs", DataTable)
        for column in ("Started", "Length", "Cost", "Reqs", "Cache", "Model", "Session"):
            table.add_column(column)
        self._fill()

    def follow(self, snapshot: DashboardSnapshot) -> None:
        """Show the loop as ``snapshot`` has it (new runs arrived); a loop no longer in
        it (its runs are over a day old) stays as it was."""
        fresh = loop_at(snapshot, loop_key(self.loop))
        if fresh is None or fresh == self.loop:
            return
        self.loop = fresh
        self.query_one("#loop-figures", Label).update(self._figures())
        self._fill()

    def _fill(self) -> None:
        """The runs' rows, the cursor kept on the run it was on."""
        table = self.query_one("#loop-runs", DataTable)
        selected, key = table.cursor_row, None
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        table.clear()
        for run in self.loop.runs:
            table.add_row(*self._cells(run), key=session_key(run))
        if isinstance(key, str) and key in table.rows:
            table.move_cursor(row=table.get_row_index(key))
        elif selected:
            table.move_cursor(row=min(selected, table.row_count - 1))

    def _cells(self, run: SessionSummary) -> list[Text]:
        return [
            Text(clock_time(run.first_ms, self.zone)),
            Text(span(run.last_ms - run.first_ms)),
            Text(dollars(run.cost_usd)),
            Text(f"{run.requests:,}"),
            Text(percent(run.cache_hit_ratio)),
            safe(", ".join(short_model(m) for m in run.models)),
            safe(run.session_id[:8]),
        ]

    def _title(self) -> Text:
        loop = self.loop
        text = safe(SCRIPTED + loop.project)
        text.append("  ")
        text.append_text(safe(loop_label(loop)))
        origin = safe(f"  ({loop.source}, {loop.entrypoint})")
        origin.stylize("dim")
        text.append_text(origin)
        text.stylize("bold")
        return text

    def _figures(self) -> Text:
        loop = self.loop
        text = Text(
            f"{dollars(loop.cost_usd)} over {len(loop.runs):,} runs and {loop.requests:,}"
            f" requests · {dollars(loop.usd_per_hour)}/h over {span(loop.last_ms - loop.first_ms)}"
            f" · cache {percent(loop.cache_hit_ratio)}\n"
            f"a run every {span(loop_interval(loop))} on average, the latest started at "
            f"{clock_time(loop.runs[0].first_ms, self.zone)[:5]}"
        )
        text.append(" · enter opens a run", style="dim")
        return text


def loop_interval(loop: ScriptLoop) -> int:
    """Milliseconds between the starts of consecutive runs, on average."""
    starts = [run.first_ms for run in loop.runs]
    return (max(starts) - min(starts)) // max(len(starts) - 1, 1)


def span(ms: int) -> str:
    """``45s``, ``3m 05s``, ``2h 10m``: a run's length or the time between runs."""
    seconds = max(ms, 0) // 1000
    if ms < MINUTE_MS:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
