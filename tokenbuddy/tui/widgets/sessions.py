"""The sessions table: recent sessions, the active ones standing out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import DataTable

from tokenbuddy.core.records import CURSOR_LOCAL
from tokenbuddy.tui.formatting import ago, dollars, percent, safe, short_model

if TYPE_CHECKING:
    from tokenbuddy.core.dashboard import DashboardSnapshot, SessionSummary


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
        Text(estimated(session, dollars(session.cost_usd))),
        Text(estimated(session, dollars(session.usd_per_hour))),
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
