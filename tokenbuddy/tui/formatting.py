"""Turning figures into short, safe, styled text. Pure: no widgets here."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from rich.text import Text

from tokenbuddy.core import money
from tokenbuddy.core.units import DAY_S, HOUR_MS, HOUR_S, MINUTE_S

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo


def safe(text: str) -> Text:
    """Text from logs as plain text: no markup, control characters shown as ``?``."""
    return Text("".join(ch if ch.isprintable() else "?" for ch in text))


def dollars(usd: float) -> str:
    """Money as the dashboard shows it: to the cent, and whole dollars from $1,000."""
    return money.dollars(usd, whole_from=1000)


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
    if seconds < MINUTE_S:
        return "now"
    if seconds < HOUR_S:
        return f"{seconds / MINUTE_S:.0f}m"
    if seconds < DAY_S:
        return f"{seconds / HOUR_S:.0f}h"
    return f"{seconds / DAY_S:.0f}d"


def clock_time(ts_ms: int, zone: ZoneInfo) -> str:
    """``HH:MM:SS`` in the user's zone."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(zone).strftime("%H:%M:%S")


def day_clock_time(ts_ms: int, zone: ZoneInfo) -> str:
    """``Nov 14 09:12:03`` in the user's zone: a timeline's time when it spans days."""
    moment = datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(zone)
    return f"{moment:%b} {moment.day:2d} {moment:%H:%M:%S}"


def local_date(ts_ms: int, zone: ZoneInfo) -> date:
    """The local day of an epoch-ms moment."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(zone).date()


def day_time(ts_ms: int, zone: ZoneInfo) -> str:
    """``2026-11-14 09:12`` in the user's zone."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def bar(ratio: float, width: int) -> str:
    """A text gauge: ``█████░░░░░``, saturating at full."""
    filled = round(min(max(ratio, 0.0), 1.0) * width)
    return "█" * filled + "░" * (width - filled)


def axis_line(width: int, count: int, ticks: list[tuple[int, str]]) -> str:
    """Labels under a chart of ``count`` bars spread over ``width`` columns.

    Each tick (bar index, label) is centred under its bar and kept inside the line.
    The last tick ("now") is placed first; another that would touch a placed label
    is left out.
    """
    if width <= 0 or count <= 0:
        return ""
    line = [" "] * width
    taken = [False] * (width + 1)
    for index, label in ticks[-1:] + ticks[:-1]:
        if len(label) > width:
            continue
        centre = int((index + 0.5) * width / count)
        start = min(max(centre - len(label) // 2, 0), width - len(label))
        end = start + len(label)
        if any(taken[max(start - 1, 0) : end + 1]):
            continue
        line[start:end] = label
        taken[start:end] = [True] * len(label)
    return "".join(line).rstrip()


def hour_ticks(now_ms: int, zone: ZoneInfo, hours: int = 24) -> list[tuple[int, str]]:
    """Ticks for the last ``hours`` hours, oldest first (the bars of the hourly chart:
    whole hours ending with the current one): every sixth local hour (00:00, 06:00...)
    and the current one ("now"). Across a clock change the labels follow the clock."""
    into_hour_ms = (
        now_ms
        - datetime.fromtimestamp(now_ms / 1000, zone)
        .replace(minute=0, second=0, microsecond=0)
        .timestamp()
        * 1000
    )
    first_ms = now_ms - into_hour_ms - (hours - 1) * HOUR_MS
    ticks = []
    for index in range(hours - 1):
        hour = datetime.fromtimestamp((first_ms + index * HOUR_MS) / 1000, zone).hour
        if hour % 6 == 0:
            ticks.append((index, f"{hour:02d}:00"))
    ticks.append((hours - 1, "now"))
    return ticks


MAX_DAY_TICKS = 8
"""A long span's ticks step by whole weeks, so that about this many fit."""


def day_ticks(now_ms: int, zone: ZoneInfo, days: int = 30) -> list[tuple[int, str]]:
    """Ticks for the last ``days`` local days, oldest first: every seventh day counting
    back from today ("today", then dates like "Nov 14"), every day over a week, every
    few weeks over a long span; dates of an earlier year say the year ("Mar 2 2025")."""
    from datetime import timedelta

    today = datetime.fromtimestamp(now_ms / 1000, zone).date()
    step = 1 if days <= MAX_DAY_TICKS else 7 * max(1, -(-days // (7 * MAX_DAY_TICKS)))
    ticks = []
    for index in range((days - 1) % step, days, step):
        day = today - timedelta(days=days - 1 - index)
        year = "" if day.year == today.year else f" {day.year}"
        ticks.append((index, "today" if day == today else f"{day:%b} {day.day}{year}"))
    return ticks


def short_model(model: str) -> str:
    """``claude-sonnet-4-5-20250929`` → ``sonnet-4-5``: enough to tell models apart."""
    name = model.removeprefix("claude-")
    parts = name.split("-")
    if parts and len(parts[-1]) == 8 and parts[-1].isdigit():
        parts = parts[:-1]
    return "-".join(parts)
