"""The warnings panel: the active runaway warnings, worst first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tokenbuddy.core.projects import project_name
from tokenbuddy.tui.formatting import dollars, safe

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tokenbuddy.core.alerts import Alert


SEVERITY_STYLE = {
    "critical": "bold white on red",
    "warning": "bold black on yellow",
    "info": "cyan",
}
KIND_LABEL = {
    "cache_collapse": "cache collapse",
    "spend_spike": "spend spike",
    "unattended_loop": "unattended loop",
    "unattended_spend": "unattended spend",
    "cap_trajectory": "cap",
    "subscription_window": "subscription window",
}


class WarningsPanel(OptionList):
    """Active runaway warnings, worst first, shown only while there are some.

    Enter (or a click) on a warning opens its session.
    """

    def on_focus(self) -> None:
        """Arriving with nothing highlighted would leave enter doing nothing: take the first."""
        if self.highlighted is None and self.option_count:
            self.highlighted = 0

    def show(self, alerts: Sequence[Alert]) -> None:
        """Replace the listed warnings, keeping the highlight where it was if still listed."""
        highlighted = self.highlighted_option.id if self.highlighted_option else None
        self.clear_options()
        self.display = bool(alerts)
        self.set_class(any(a.severity == "critical" for a in alerts), "-critical")
        ids = [alert_id(alert, index) for index, alert in enumerate(alerts)]
        for alert, option_id in zip(alerts, ids, strict=True):
            self.add_option(Option(alert_text(alert), id=option_id))
        if highlighted in ids:
            self.highlighted = ids.index(highlighted)


def alert_id(alert: Alert, index: int) -> str:
    """An option id that names the session (``kind/session``) when there is one."""
    return f"{alert.kind}/{alert.session_id}" if alert.session_id else f"{alert.kind}/-{index}"


def alert_text(alert: Alert) -> Text:
    """``CRITICAL cache collapse · infra · $86/h`` then the message, all plain text."""
    text = Text()
    text.append(f" {alert.severity.upper()} ", style=SEVERITY_STYLE.get(alert.severity, ""))
    text.append(f" {KIND_LABEL.get(alert.kind, alert.kind)}", style="bold")
    if alert.project:
        text.append(" · ")
        text.append_text(safe(project_name(alert.project)))
    text.append(f" · {dollars(alert.cost_per_hour_usd)}/h\n", style="bold")
    text.append_text(safe(alert.message))
    return text
