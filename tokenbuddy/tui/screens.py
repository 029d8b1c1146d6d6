"""The session detail screen and the help screen."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Label, Sparkline, Static

from tokenbuddy.tui.formatting import clock_time, dollars, percent, safe, tokens
from tokenbuddy.tui.widgets import short_model

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from textual.app import ComposeResult

    from tokenbuddy.core.dashboard import SessionDetail


class SessionScreen(Screen[None]):
    """One session: its per-request timeline, cache ratio over time and subagents."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "app.pop_screen", "Back"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, detail: SessionDetail, zone: ZoneInfo) -> None:
        super().__init__()
        self.detail = detail
        self.zone = zone

    def compose(self) -> ComposeResult:
        with Vertical(id="session-head"):
            yield Label(self._title(), id="session-title")
            yield Label(self._figures(), id="session-figures")
            yield Label(self._cache_scale())
            yield Sparkline(list(self.detail.cache_ratio_series), id="session-cache")
        yield DataTable(id="timeline", cursor_type="row", zebra_stripes=True)
        yield Static(self._subagents(), id="subagents")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#timeline", DataTable)
        for column in ("Time", "Model", "Agent", "Input", "Cache wr", "Cache rd", "Output", "Cost"):
            table.add_column(column)
        for line in self.detail.requests:
            table.add_row(
                Text(clock_time(line.ts_ms, self.zone)),
                safe(short_model(line.model)),
                safe(line.agent or "main"),
                Text(tokens(line.input_tokens)),
                Text(tokens(line.cache_write_tokens)),
                Text(tokens(line.cache_read_tokens)),
                Text(tokens(line.output_tokens)),
                Text("unpriced" if line.cost_usd is None else dollars(line.cost_usd)),
            )
        table.move_cursor(row=max(table.row_count - 1, 0))

    def _title(self) -> Text:
        summary = self.detail.summary
        text = Text()
        text.append_text(safe(summary.project))
        text.append("  ")
        text.append_text(safe(summary.session_id))
        text.append(f"  ({summary.source})", style="dim")
        text.stylize("bold")
        return text

    def _cache_scale(self) -> Text:
        """The sparkline scales to its data, so say what its bottom and top are."""
        series = self.detail.cache_ratio_series
        text = Text("Cache hit ratio, request by request", style="dim")
        if series:
            text.append(f"  (low {percent(min(series))}, high {percent(max(series))})", style="dim")
        return text

    def _figures(self) -> Text:
        summary = self.detail.summary
        return Text(
            f"{dollars(summary.cost_usd)} over {summary.requests:,} requests · "
            f"{dollars(summary.usd_per_hour)}/h · cache {percent(summary.cache_hit_ratio)} · "
            f"subagents {percent(summary.subagent_share)} of cost"
        )

    def _subagents(self) -> Text:
        if not self.detail.subagents:
            return Text("No subagents in this session.", style="dim")
        text = Text("Subagents: ", style="bold")
        parts = [
            f"{kind} {count} req {dollars(cost)}" for kind, count, cost in self.detail.subagents
        ]
        text.append_text(safe("  ·  ".join(parts)))
        return text


HELP = """\
tokenbuddy follows your agents' logs and shows what they spend, live.

Keys
  enter       open the highlighted session (or a warning's session)
  w           jump to the warnings (shown only while there are some)
  c           switch the chart: per hour (24 h) / per day (30 days)
  b           breakdown period: today / cycle / all time
  t           conservation tips, with what each would save per month
  tab         move between panels
  r           re-scan every log now
  ctrl+p      command palette (themes and more)
  ?           this help
  escape      back
  q           quit

Figures
  Today / Cycle   list-price cost of today's and this budget cycle's requests
  Burn            spend rate over the last 5 minutes and the last hour
  Cache hit       cache reads / all input tokens (higher is cheaper)
  Sub             share of a session's cost spent by subagents
  Pace            spend expected by the cycle end, from recent weekday and
                  weekend rates (shown after it)
  Warnings        cache collapse, spend spike, unattended loop and cap trajectory;
                  a critical one also rings the bell and notifies the desktop

Settings live in config.toml (tokenbuddy config path).
"""


class HelpScreen(ModalScreen[None]):
    """The key bindings and what the figures mean."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "app.pop_screen", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Text(HELP))
        yield Footer()
