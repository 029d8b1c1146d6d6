"""The tips panel and the header's teaser for the best tip."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tokenbuddy.tui.formatting import dollars, local_date, safe

if TYPE_CHECKING:
    from collections.abc import Sequence
    from zoneinfo import ZoneInfo

    from tokenbuddy.core.tips import Tip
    from tokenbuddy.services.dashboard import TipsView


class TipsPanel(VerticalScroll):
    """Conservation tips ranked by the dollars they would save (key: t)."""

    def compose(self) -> ComposeResult:
        yield Static(Text("Looking for savings…", style="dim"), id="tips-body")

    def show(self, view: TipsView, zone: ZoneInfo) -> None:
        """Replace the listed tips, under the window they looked at."""
        text = window_text(view, zone)
        text.append_text(tips_text(view.tips))
        self.query_one("#tips-body", Static).update(text)


def window_text(view: TipsView, zone: ZoneInfo) -> Text:
    """``Tips over the last 30 days (Oct 22 - Nov 20; c: another period)``: the chart's
    period, which the key ``c`` steps."""
    window = view.window
    first, last = (local_date(ms, zone) for ms in (window.since_ms, window.until_ms))
    text = Text(f"Tips over {view.span.label}", style="bold")
    text.append(f" ({first:%b} {first.day} – {last:%b} {last.day}; c: another period)", style="dim")
    if window.note:
        text.append(f"\n{window.note}", style="dim")
    text.append("\n\n")
    return text


def tips_text(tips: Sequence[Tip]) -> Text:
    """Every tip: saving, title, why, evidence, action and how the saving was computed."""
    if not tips:
        return Text(
            "No tips: nothing in this period would clearly be cheaper done another way.",
            style="dim",
        )
    text = Text()
    for tip in tips:
        text.append(f"~{dollars(tip.saving_usd_per_month)}/month  ", style="bold green")
        text.append(f"{tip.title}\n", style="bold")
        text.append_text(safe(tip.why))
        text.append("\n")
        for line in tip.evidence:
            text.append("  • ", style="dim")
            text.append_text(safe(line))
            text.append("\n")
        text.append("  Do: ", style="bold")
        text.append_text(safe(tip.action))
        text.append("\n  How: ", style="dim")
        text.append(tip.method, style="dim")
        text.append("\n\n")
    text.append("Savings can overlap: a request may count in more than one tip.", style="dim")
    return text


def top_tip_text(tip: Tip) -> Text:
    """The header's one-line teaser for the best tip."""
    text = Text("Tip ", style="dim")
    text.append(f"~{dollars(tip.saving_usd_per_month)}/mo ", style="bold green")
    text.append_text(safe(tip.title))
    text.append("  (t)", style="dim")
    return text
