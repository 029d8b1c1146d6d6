"""``tokenbuddy status --format plain|tmux|waybar`` from the status line's snapshot.

Bars and prompts poll every few seconds, so these formats take the status line's
fast path: they read the snapshot in ``status.json`` (never the logs or the
ledger), print, and start a detached refresh of every log root when the snapshot
is over a minute old, for the next poll. Only when there is no snapshot yet does
the command bring the ledger up to date first (see :mod:`tokenbuddy.cli.status`).
"""

from __future__ import annotations

import os
import sys

from tokenbuddy import clock
from tokenbuddy.cli.statusline import STALE_MS, fast_dirs, read_status, start_refresh
from tokenbuddy.cli.statusline_render import _number, render
from tokenbuddy.core.money import brief_dollars
from tokenbuddy.fast_json import dump_json

TYPE_CHECKING = False  # not typing's: importing typing costs the fast path 2-5 ms
if TYPE_CHECKING:
    from typing import Any

BAR_FORMATS = ("plain", "tmux", "waybar")


def bar_format(arguments: list[str]) -> str | None:
    """The bar format ``status`` was asked for with nothing else, or None."""
    if len(arguments) == 2 and arguments[0] == "--format" and arguments[1] in BAR_FORMATS:
        return arguments[1]
    if len(arguments) == 1 and arguments[0].startswith("--format="):
        form = arguments[0].split("=", 1)[1]
        return form if form in BAR_FORMATS else None
    return None


def run_fast_status(form: str) -> int | None:
    """Print the bar line from the snapshot; None when there is none to read yet."""
    cache_dir, state_dir = fast_dirs()
    now_ms = clock.now_ms()
    status = read_status(os.path.join(cache_dir, "status.json"))
    if not status:
        return None
    if now_ms - (_number(status.get("synced_ms")) or 0.0) > STALE_MS:
        start_refresh("{}", state_dir, every_root=True)
    sys.stdout.write(bar_line(form, status, now_ms) + "\n")
    sys.stdout.flush()
    return 0


def bar_line(form: str, status: dict[str, Any], now_ms: int) -> str:
    """The status line's facts for a bar: ``plain``, ``tmux`` or ``waybar`` (JSON)."""
    if form == "tmux":
        return render({}, status, color=True, now_ms=now_ms, dialect="tmux")
    line = render({}, status, color=False, now_ms=now_ms)
    if form == "plain":
        return line
    alerts = [alert for alert in status.get("alerts") or () if isinstance(alert, dict)]
    worst = max(alerts, key=lambda a: _number(a.get("rank")) or 0.0, default=None)
    severity = str(worst.get("severity")) if worst else "ok"
    waybar: dict[str, Any] = {
        "text": line,
        "tooltip": tooltip(status, alerts),
        "class": severity,
        "alt": severity,
    }
    used = _number(status.get("used_ratio"))
    if used is not None:
        waybar["percentage"] = min(round(used * 100), 100)
    return dump_json(waybar)


def tooltip(status: dict[str, Any], alerts: list[dict[str, Any]]) -> str:
    """A few lines for a bar's tooltip: today, the cycle against the cap, burn, cache,
    and each warning."""
    lines = [f"Today  {brief_dollars(_number(status.get('today_usd')) or 0.0)}"]
    cycle = f"Cycle  {brief_dollars(_number(status.get('cycle_usd')) or 0.0)}"
    cap, used = _number(status.get("cap_usd")), _number(status.get("used_ratio"))
    if cap is not None and used is not None:
        cycle += f" of {brief_dollars(cap)} ({used:.0%})"
    lines.append(cycle)
    lines.append(f"Burn   {brief_dollars(_number(status.get('burn_usd_per_hour')) or 0.0)}/h")
    ratio = _number(status.get("cache_hit_ratio_today"))
    if ratio is not None:
        lines.append(f"Cache  {ratio:.0%} today")
    lines.extend(f"⚠ {alert.get('message')}" for alert in alerts)
    return "\n".join(lines)
