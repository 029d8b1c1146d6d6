"""The sessions table: recent sessions, the active ones standing out, and each loop of
short scripted runs as one row."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import DataTable

from tokenbuddy.core.agents import short_agent_name
from tokenbuddy.core.entrypoints import entrypoint_label
from tokenbuddy.core.model_ids import model_label
from tokenbuddy.core.records import CLAUDE_CODE, CODEX, CURSOR_LOCAL
from tokenbuddy.tui.formatting import ago, dollars, percent, safe, short_model

if TYPE_CHECKING:
    from tokenbuddy.core.dashboard import DashboardSnapshot, ScriptLoop, SessionSummary

SCRIPTED = "⚙ "
"""Marks a scripted run (``claude -p``, an SDK, ``codex exec``) or a loop of them."""
ACTIVE = "● "
LOOP_KEY_PREFIX = "loop\x1f"
MODEL_NAMES_THE_AGENT = frozenset({CLAUDE_CODE, CODEX})
"""Sources whose model ids say which agent ran them; any other agent is named beside its
model (``Copilot · claude-sonnet-4.5``), since they run every vendor's models."""
MAX_LABEL = 12
"""Longest entrypoint label a loop's row shows (longer ones show the entrypoint itself)."""


class SessionsTable(DataTable[Text]):
    """Recent sessions and loops, latest first; active ones (a request in the last 15
    minutes) stand out."""

    COLUMNS = ("Project", "Model", "Cost", "$/h", "Cache", "Reqs", "Sub", "Last")

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for column in self.COLUMNS:
            self.add_column(column, key=column)

    def show(self, snapshot: DashboardSnapshot) -> None:
        """Replace the rows, keeping the cursor on the same row when it is still listed."""
        selected = self.selected_key()
        self.clear()
        now_ms = snapshot.now_ms
        rows = [(s.last_ms, session_key(s), session_cells(s, now_ms)) for s in snapshot.sessions]
        rows += [
            (loop.last_ms, loop_key(loop), loop_cells(loop, now_ms)) for loop in snapshot.loops
        ]
        for _, key, cells in sorted(rows, key=lambda row: -row[0]):
            self.add_row(*cells, key=key)
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected))

    def selected_key(self) -> str | None:
        """The key of the highlighted row, if any."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return key if isinstance(key, str) else None


def session_key(session: SessionSummary) -> str:
    """The row key of a session: source and id."""
    return f"{session.source}\x1f{session.session_id}"


def loop_key(loop: ScriptLoop) -> str:
    """The row key of a loop: agent, entrypoint and project."""
    return f"{LOOP_KEY_PREFIX}{loop.source}\x1f{loop.entrypoint}\x1f{loop.project_path}"


def loop_at(snapshot: DashboardSnapshot | None, key: str) -> ScriptLoop | None:
    """The loop a row key names in ``snapshot``; None for a session's key or a loop gone."""
    if snapshot is None or not key.startswith(LOOP_KEY_PREFIX):
        return None
    return next((loop for loop in snapshot.loops if loop_key(loop) == key), None)


def models_cell(session: SessionSummary) -> str:
    """A session's models, short; the agent named first when its model ids do not say it."""
    models = ", ".join(short_model(model_label(m)) for m in session.models)
    if session.source in MODEL_NAMES_THE_AGENT:
        return models
    return f"{short_agent_name(session.source)} · {models}"


def session_cells(session: SessionSummary, now_ms: int) -> list[Text]:
    """One table row; every string from the logs goes through :func:`safe`."""
    model = models_cell(session)
    marker = ACTIVE if session.active and not session.scripted else "  "
    return _styled(
        session.active,
        [
            safe((SCRIPTED if session.scripted else marker) + session.project),
            safe(model),
            Text(estimated(session, dollars(session.cost_usd))),
            Text(estimated(session, dollars(session.usd_per_hour))),
            Text(percent(session.cache_hit_ratio)),
            Text(f"{session.requests:,}"),
            Text(percent(session.subagent_share) if session.subagent_share else "–"),
            Text(ago(now_ms, session.last_ms)),
        ],
    )


def loop_cells(loop: ScriptLoop, now_ms: int) -> list[Text]:
    """A loop's row: its entrypoint and how many runs in place of the model, its spend
    per hour over the loop's whole span."""
    return _styled(
        loop.active,
        [
            safe(SCRIPTED + loop.project),
            safe(f"{loop_label(loop)}: {len(loop.runs):,} runs"),
            Text(dollars(loop.cost_usd)),
            Text(dollars(loop.usd_per_hour)),
            Text(percent(loop.cache_hit_ratio)),
            Text(f"{loop.requests:,}"),
            Text(percent(loop.subagent_share) if loop.subagent_share else "–"),
            Text(ago(now_ms, loop.last_ms)),
        ],
    )


def loop_label(loop: ScriptLoop) -> str:
    """``claude -p``, ``codex exec``, or the entrypoint as written when its name is long."""
    label = entrypoint_label(loop.source, loop.entrypoint)
    return label if len(label) <= MAX_LABEL else loop.entrypoint[:MAX_LABEL]


def _styled(active: bool, cells: list[Text]) -> list[Text]:
    if active:
        for cell in cells:
            cell.stylize("bold")
    return cells


def estimated(session: SessionSummary, figure: str) -> str:
    """``~$1.20`` for a Cursor local estimate (billed rows replace it once they arrive)."""
    return f"~{figure}" if session.source == CURSOR_LOCAL else figure
