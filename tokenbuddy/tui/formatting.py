"""Turning figures into short, safe, styled text. Pure: no widgets here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo


def safe(text: str) -> Text:
    """Text from logs as plain text: no markup, control characters shown as ``?``."""
    return Text("".join(ch if ch.isprintable() else "?" for ch in text))


def dollars(value: float) -> str:
    """``$1,234`` above $1,000, else ``$12.34``."""
    if value >= 1000:
        return f"${value:,.0f}"
    return f"${value:,.2f}"


def tokens(value: float) -> str:
    """A compact token count: 950, 12.3k, 4.5M, 1.2B."""
    for divisor, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= divisor:
            return f"{value / divisor:.1f}{suffix}"
    return f"{value:.0f}"


def percent(ratio: float | None) -> str:
    """A ratio as a whole percentage, or an en dash when unknown."""
    return "–" if ratio is None else f"{ratio:.0%}"


def ago(now_ms: int, then_ms: int) -> str:
    """How long ago, coarsely: ``now``, ``4m``, ``3h``, ``2d``."""
    seconds = max((now_ms - then_ms) / 1000, 0)
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86_400:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86_400:.0f}d"


def clock_time(ts_ms: int, zone: ZoneInfo) -> str:
    """``HH:MM:SS`` in the user's zone."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(zone).strftime("%H:%M:%S")


def bar(ratio: float, width: int) -> str:
    """A text gauge: ``█████░░░░░``, saturating at full."""
    filled = round(min(max(ratio, 0.0), 1.0) * width)
    return "█" * filled + "░" * (width - filled)
