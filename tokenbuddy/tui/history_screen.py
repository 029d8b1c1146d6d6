"""The history view: every session of any date range, searched by project, a page at
a time; enter opens a session's timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from tokenbuddy.core.history import HistoryQuery, parse_day
from tokenbuddy.errors import ConfigError
from tokenbuddy.tui.formatting import day_time, dollars, percent, safe
from tokenbuddy.tui.loop_screen import span
from tokenbuddy.tui.messages import HistoryRequested
from tokenbuddy.tui.widgets.sessions import SCRIPTED, models_cell, session_key

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from textual.app import ComposeResult

    from tokenbuddy.core.dashboard import SessionSummary
    from tokenbuddy.core.history import HistoryPage


class HistoryScreen(Screen[None]):
    """Sessions between two days (any, by default), the latest started first, 100 a page."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("n,right_square_bracket", "page(1)", "Next page"),
        Binding("p,left_square_bracket", "page(-1)", "Previous"),
        Binding("slash", "search", "Search"),
        Binding("q", "app.quit", "Quit"),
    ]
    COLUMNS = ("Started", "Project", "Cost", "Reqs", "Cache", "Length", "Model")

    def __init__(self, zone: ZoneInfo) -> None:
        super().__init__()
        self.zone = zone
        self.page: HistoryPage | None = None
        """The page on show; None until the first one is read."""
        self.query_asked = HistoryQuery()

    def compose(self) -> ComposeResult:
        with Vertical(id="history-head"):
            yield Label(Text("History: reading…", style="bold"), id="history-title")
            with Horizontal(id="history-form"):
                yield Input(placeholder="from YYYY-MM-DD", id="history-since")
                yield Input(placeholder="to YYYY-MM-DD", id="history-until")
                yield Input(placeholder="project contains…", id="history-project")
        yield Static(id="history-empty")
        yield DataTable(id="history-sessions", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#history-sessions", DataTable)
        for column in self.COLUMNS:
            table.add_column(column)
        self.query_one("#history-empty").display = False
        self.ask(self.query_asked)
        table.focus()

    def ask(self, query: HistoryQuery) -> None:
        """Have the app read the page ``query`` names."""
        self.query_asked = query
        self.post_message(HistoryRequested(query))

    def show(self, page: HistoryPage) -> None:
        """Show a page read for this screen."""
        self.page = page
        self.query_asked = page.query
        self.query_one("#history-title", Label).update(self._title(page))
        empty = self.query_one("#history-empty", Static)
        empty.display = bool(page.explanation)
        empty.update(safe(page.explanation))
        table = self.query_one("#history-sessions", DataTable)
        table.clear()
        for session in page.sessions:
            table.add_row(*self._cells(session), key=session_key(session))
        table.move_cursor(row=0)

    @on(Input.Submitted)
    def search(self) -> None:
        """Read the first page of the range and project typed in."""
        try:
            since = parse_day(self.query_one("#history-since", Input).value, "from")
            until = parse_day(self.query_one("#history-until", Input).value, "to")
        except ConfigError as error:
            self.notify(str(error), severity="error")
            return
        project = self.query_one("#history-project", Input).value.strip()
        self.ask(HistoryQuery(since, until, project))
        self.query_one("#history-sessions", DataTable).focus()

    def action_page(self, step: int) -> None:
        """The next or previous page."""
        page = self.page
        if page is not None and 0 <= page.query.page + step < page.pages:
            current = page.query
            self.ask(
                HistoryQuery(current.since, current.until, current.project, current.page + step)
            )

    def action_search(self) -> None:
        """Move to the project search."""
        self.query_one("#history-project", Input).focus()

    def _title(self, page: HistoryPage) -> Text:
        text = Text("History ", style="bold")
        text.append_text(safe(page.query.describe()))
        if page.total_sessions:
            first = page.first_index + 1
            last = page.first_index + len(page.sessions)
            text.append(
                f"\nsessions {first:,}-{last:,} of {page.total_sessions:,}"
                f" · {dollars(page.total_usd)} · {page.total_requests:,} requests"
                f" · page {page.query.page + 1} of {page.pages} (n/p)",
                style="dim",
            )
        return text

    def _cells(self, session: SessionSummary) -> list[Text]:
        marker = SCRIPTED if session.scripted else ""
        return [
            Text(day_time(session.first_ms, self.zone)),
            safe(marker + session.project),
            Text(dollars(session.cost_usd)),
            Text(f"{session.requests:,}"),
            Text(percent(session.cache_hit_ratio)),
            Text(span(session.last_ms - session.first_ms)),
            safe(models_cell(session)),
        ]
