"""The dashboard's widgets: thin shells that render a snapshot with the formatters."""

from tokenbuddy.tui.widgets.breakdown import BreakdownTables
from tokenbuddy.tui.widgets.chart import SpendChart
from tokenbuddy.tui.widgets.empty_state import EmptyState
from tokenbuddy.tui.widgets.guard_line import ALLOW_MINUTES, GuardLine, clock_time
from tokenbuddy.tui.widgets.header import HeaderStrip
from tokenbuddy.tui.widgets.sessions import SessionsTable
from tokenbuddy.tui.widgets.tips import TipsPanel, top_tip_text
from tokenbuddy.tui.widgets.warnings_panel import WarningsPanel

__all__ = [
    "ALLOW_MINUTES",
    "BreakdownTables",
    "EmptyState",
    "GuardLine",
    "HeaderStrip",
    "SessionsTable",
    "SpendChart",
    "TipsPanel",
    "WarningsPanel",
    "clock_time",
    "top_tip_text",
]
