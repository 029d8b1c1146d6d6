"""The guard's line under the header: what it stops now, or until when it is lifted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from tokenbuddy.tui.formatting import safe

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from tokenbuddy.services.guard import GuardState

ALLOW_MINUTES = 30
"""What the dashboard's key lifts (``tokenbuddy guard allow`` takes other spans)."""


class GuardLine(Static):
    """One line, shown only while a guard rule is tripped or an allow is running."""

    def show(self, state: GuardState | None, zone: ZoneInfo) -> None:
        """Show ``state`` (hidden when there is nothing to say)."""
        text = guard_text(state, zone) if state is not None else None
        self.display = text is not None
        self.set_class(state is not None and state.blocking, "-blocking")
        if text is not None:
            self.update(text)


def guard_text(state: GuardState, zone: ZoneInfo) -> Text | None:
    """``GUARD stops every session: cycle spend … · g allows 30 min``, or None."""
    everyone = [a for a in state.allows if a.session_id is None]
    if state.mode == "off" or not (state.standing or everyone):
        return None
    text = Text()
    if state.blocking:
        text.append(" GUARD ", style="bold white on red")
        text.append(" stops ")
    elif everyone:
        until = max(a.until_ms for a in everyone)
        text.append(" GUARD ", style="bold black on yellow")
        text.append(f" lifted for every session until {clock_time(until, zone)}")
        if not state.standing:
            return text
        text.append(": it would stop ")
    else:
        text.append(" GUARD ", style="bold black on yellow")
        text.append(" warn mode, would stop ")
    first = state.standing[0]
    text.append_text(safe(f"{first.scope}: {first.message}"))
    if len(state.standing) > 1:
        text.append(f" (+{len(state.standing) - 1} more: tokenbuddy guard)", style="dim")
    if state.blocking:
        text.append(f" · g allows {ALLOW_MINUTES} min", style="bold")
    return text


def clock_time(ts_ms: int, zone: ZoneInfo) -> str:
    """``HH:MM`` in the dashboard's zone."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(zone).strftime("%H:%M")
