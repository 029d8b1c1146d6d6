"""``tokenbuddy status``: the current snapshot as a few lines, or one JSON object.

Imports neither Textual nor Rich: it runs from prompts and status bars.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.cli.progress import terminal_progress
from tokenbuddy.cli.table import clean
from tokenbuddy.core.money import dollars
from tokenbuddy.core.projects import project_name
from tokenbuddy.errors import ConfigError
from tokenbuddy.services.current_status import current_status

if TYPE_CHECKING:
    import argparse
    from zoneinfo import ZoneInfo

    from tokenbuddy.core.alerts import Alert
    from tokenbuddy.core.dashboard import DashboardSnapshot, WindowStatus
    from tokenbuddy.core.metrics import BurnRate
    from tokenbuddy.core.projection import CycleProjection
    from tokenbuddy.core.totals import Totals


def run_status(args: argparse.Namespace) -> int:
    """Sync the ledger, then print the snapshot."""
    with terminal_progress() as progress:
        status = current_status(progress=progress)
    snapshot, payload, zone = status.snapshot, status.payload, status.zone
    for problem in status.problems:
        print(f"tokenbuddy: {problem}", file=sys.stderr)
    if args.json and args.format not in ("text", "json"):
        raise ConfigError(f"--json and --format {args.format} ask for two different outputs")
    form = "json" if args.json else args.format
    if form == "json":
        document = status_json(snapshot, zone)
        document["guard"] = _guard(payload, snapshot.now_ms, zone)
        sys.stdout.write(orjson.dumps(document).decode() + "\n")
    elif form == "text":
        print(format_status(snapshot, zone))
    else:
        print(one_line(form, payload, snapshot, zone))
    return 0


def _guard(payload: dict[str, Any], now_ms: int, zone: ZoneInfo) -> dict[str, Any]:
    """The guard's mode, what it stops now, its allows and latest decisions."""
    from tokenbuddy.cli.guard_command import guard_json
    from tokenbuddy.services.guard import guard_state
    from tokenbuddy.store.paths import app_paths

    return guard_json(guard_state(payload, app_paths().state_dir, now_ms), zone)


def one_line(
    form: str, payload: dict[str, Any], snapshot: DashboardSnapshot, zone: ZoneInfo
) -> str:
    """The status line's facts for a bar: ``plain``, ``tmux`` or ``waybar`` (JSON), as the
    fast path prints them from the status file (:mod:`tokenbuddy.cli.status_bar`)."""
    from tokenbuddy.cli.status_bar import bar_line

    return bar_line(form, payload, snapshot.now_ms)


def _iso(ts_ms: int | None, zone: ZoneInfo) -> str | None:
    if ts_ms is None:
        return None
    return datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(zone).isoformat()


def _totals(totals: Totals) -> dict[str, Any]:
    return {
        "cost_usd": round(totals.cost_usd, 6),
        "requests": totals.requests,
        "input_tokens": totals.input_tokens,
        "output_tokens": totals.output_tokens,
        "cache_creation_tokens": totals.cache_write_tokens,
        "cache_read_tokens": totals.cache_read_tokens,
        "cache_hit_ratio": totals.cache_hit_ratio,
    }


def _burn(burn: BurnRate) -> dict[str, float]:
    return {
        "usd_per_hour": round(burn.usd_per_hour, 4),
        "tokens_per_minute": round(burn.tokens_per_minute, 1),
    }


def _cap(projection: CycleProjection) -> dict[str, Any] | None:
    if projection.cap_usd is None:
        return None
    return {
        "monthly_cap_usd": projection.cap_usd,
        "soft_limit_usd": projection.soft_limit_usd,
        "used_ratio": projection.used_ratio,
        "soft_limit_reached": projection.soft_limit_reached,
        "cap_reached": projection.cap_reached,
        "days_to_cap": projection.days_to_cap,
        "cap_date": projection.cap_date.isoformat() if projection.cap_date else None,
        "soft_limit_date": (
            projection.soft_limit_date.isoformat() if projection.soft_limit_date else None
        ),
    }


def _projection(projection: CycleProjection) -> dict[str, Any]:
    basis = projection.basis
    return {
        "projected_cycle_usd": round(projection.projected_usd, 4),
        "remaining_days": round(projection.remaining_days, 3),
        "basis": {
            "window_days": basis.window_days,
            "usd_per_weekday": round(basis.usd_per_weekday, 4),
            "usd_per_weekend_day": round(basis.usd_per_weekend_day, 4),
            "active_days": basis.active_days,
            "weekday_weekend_split": basis.split,
            "description": basis.describe(),
        },
    }


def _window(window: WindowStatus, zone: ZoneInfo) -> dict[str, Any]:
    projection = window.projection
    return {
        "source": window.source,
        "window": window.label,
        "window_minutes": window.window_minutes,
        "plan": window.plan or None,
        "used_percent": projection.used_percent,
        "resets_at": _iso(projection.resets_at_ms, zone),
        "read_at": _iso(window.read_at_ms, zone),
        "percent_per_hour": round(projection.percent_per_hour, 3),
        "percent_at_reset": round(projection.percent_at_reset, 2),
        "full_at": _iso(projection.full_at_ms, zone),
    }


def _warning(alert: Alert, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "kind": alert.kind,
        "severity": alert.severity,
        "session_id": alert.session_id,
        "project": alert.project,
        "message": alert.message,
        "cost_per_hour_usd": round(alert.cost_per_hour_usd, 4),
        "at": _iso(alert.at_ms, zone),
    }


def status_json(snapshot: DashboardSnapshot, zone: ZoneInfo) -> dict[str, Any]:
    """The snapshot as the documented ``status --json`` object."""
    active = [s for s in snapshot.tracked_sessions if s.active]
    return {
        "now": _iso(snapshot.now_ms, zone),
        "timezone": str(zone),
        "today": _totals(snapshot.today),
        "cycle": {
            "start": snapshot.cycle.start.date().isoformat(),
            "end": snapshot.cycle.end.date().isoformat(),
            **_totals(snapshot.cycle_totals),
        },
        "cap": _cap(snapshot.projection),
        "projection": _projection(snapshot.projection),
        "burn": {"last_5m": _burn(snapshot.burn_5m), "last_1h": _burn(snapshot.burn_1h)},
        "cache_hit_ratio": {
            "today": snapshot.today.cache_hit_ratio,
            "active_session": snapshot.active_session_cache_ratio,
        },
        "active_sessions": [
            {
                "session_id": s.session_id,
                "source": s.source,
                "project": s.project,
                "cost_usd": round(s.cost_usd, 4),
                "cache_hit_ratio": s.cache_hit_ratio,
                "last_request": _iso(s.last_ms, zone),
            }
            for s in active
        ],
        "windows": [_window(w, zone) for w in snapshot.windows],
        "warnings": [_warning(a, zone) for a in snapshot.alerts],
        "unpriced_models": snapshot.unpriced_models,
    }


def _percent(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.0%}"


def format_status(snapshot: DashboardSnapshot, zone: ZoneInfo) -> str:
    """A few plain lines for a terminal."""
    projection = snapshot.projection
    lines = [f"Today     {dollars(snapshot.today.cost_usd)}"]
    cycle = f"Cycle     {dollars(snapshot.cycle_totals.cost_usd)}"
    if projection.cap_usd is not None:
        cycle += f" of {dollars(projection.cap_usd)} ({_percent(projection.used_ratio)})"
        if projection.cap_reached:
            cycle += ", cap reached"
        elif projection.days_to_cap is not None:
            cycle += f", cap in {projection.days_to_cap:.1f} days"
        else:
            cycle += ", cap not reached this cycle at this pace"
    else:
        cycle += "  (no cap: set monthly_cap_usd in config.toml)"
    lines.append(cycle)
    end = (snapshot.cycle.end - timedelta(days=1)).date().isoformat()
    lines.append(
        f"Pace      {dollars(projection.projected_usd)} by {end}: {projection.basis.describe()}"
    )
    lines.append(
        f"Burn      {dollars(snapshot.burn_5m.usd_per_hour)}/h last 5 min, "
        f"{dollars(snapshot.burn_1h.usd_per_hour)}/h last hour "
        f"({snapshot.burn_1h.tokens_per_minute:,.0f} tokens/min)"
    )
    lines.append(
        f"Cache     {_percent(snapshot.today.cache_hit_ratio)} today, "
        f"{_percent(snapshot.active_session_cache_ratio)} active session"
    )
    for window in snapshot.windows:
        lines.append(_window_line(window, zone))
    if not snapshot.alerts:
        lines.append("Warnings  none")
    for alert in snapshot.alerts:
        where = f" [{clean(project_name(alert.project))}]" if alert.project else ""
        lines.append(f"{alert.severity.upper():<9} {clean(alert.message)}{where}")
    return "\n".join(lines)


def _window_line(window: WindowStatus, zone: ZoneInfo) -> str:
    projection = window.projection
    line = f"{window.label:<9} {projection.used_percent:.0f}% used"
    resets = _iso(projection.resets_at_ms, zone)
    if resets:
        line += f", resets {resets[:16].replace('T', ' ')}"
    full = _iso(projection.full_at_ms, zone)
    if full:
        line += f", full at {full[11:16]} at this pace"
    return line
