"""What the dashboard shows when no agent logs were found."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from tokenbuddy.tui.formatting import safe

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tokenbuddy.sources.discovery import LogRoot


class EmptyState(Static):
    """What to do when no agent logs were found."""

    def show(self, roots: list[LogRoot], config_file: str, reasons: Sequence[str] = ()) -> None:
        """Say where tokenbuddy looked, why nothing matched, and how to point it elsewhere."""
        text = Text("No agent usage found yet.\n\n", style="bold")
        for reason in reasons:
            text.append("• ", style="dim")
            text.append_text(safe(reason))
            text.append("\n")
        text.append("\ntokenbuddy looked in:\n" if reasons else "tokenbuddy looked in:\n")
        for root in roots:
            state = "found" if root.exists else "not found"
            text.append(f"  {root.source:<12} ")
            text.append_text(safe(str(root.path)))
            text.append(f"  ({state})\n", style="green" if root.exists else "dim")
        text.append("\nPoint it at your logs with ")
        text.append("CLAUDE_CONFIG_DIR", style="bold")
        text.append(" (a Claude config dir; comma-separated for several) or ")
        text.append("CODEX_HOME", style="bold")
        text.append(", or set claude_config_dirs / codex_homes in ")
        text.append_text(safe(config_file))
        text.append(".\nRun ")
        text.append("tokenbuddy --demo", style="bold")
        text.append(" to see the dashboard on generated data.")
        self.update(text)
