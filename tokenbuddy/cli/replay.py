"""``tokenbuddy replay``: the runaway detectors run over past logs, as if live.

:mod:`tokenbuddy.services.replay` does the reading and the replaying; this prints each
warning at the moment the live dashboard would first have announced it, then a summary.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson

from tokenbuddy.cli.config import user_settings
from tokenbuddy.cli.table import clean
from tokenbuddy.core.wording import counted
from tokenbuddy.errors import ConfigError
from tokenbuddy.services.replay import guard_trial, replay_targets, resolve_targets
from tokenbuddy.store.timezone import configured_zone

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from zoneinfo import ZoneInfo

    from tokenbuddy.core.alerts import Alert
    from tokenbuddy.core.guard_replay import GuardTrial
    from tokenbuddy.services.replay import ReplayCounts
    from tokenbuddy.store.settings import Settings


def run_replay(args: argparse.Namespace) -> int:
    """Replay the logs under ``args.paths`` and print every warning as it would have fired
    (with ``--guard``, every block the guard would have made too)."""
    settings = user_settings()
    zone, zone_problems = configured_zone(settings.timezone)
    for problem in zone_problems:
        print(f"tokenbuddy: {problem}", file=sys.stderr)
    trial = _guard_trial(args, settings, zone)
    targets = resolve_targets(args.paths)
    announce = print_json if args.json else text_printer(zone)
    report = None
    if trial is not None:
        from tokenbuddy.cli.replay_guard import describe_trial, guard_printer

        print(describe_trial(trial), file=sys.stderr if args.json else sys.stdout, flush=True)
        report = guard_printer(zone, as_json=args.json)
    counts, errors = replay_targets(
        targets, settings.thresholds, announce, zone=zone, guard=trial, report=report
    )
    for error in errors:
        print(f"tokenbuddy: {clean(error)}", file=sys.stderr)
    print(format_summary(counts), file=sys.stderr)
    if counts.guard is not None:
        from tokenbuddy.cli.replay_guard import format_tally

        print(format_tally(counts.guard), file=sys.stderr)
    return 1 if counts.unreadable_files and not counts.files else 0


def _guard_trial(args: argparse.Namespace, settings: Settings, zone: ZoneInfo) -> GuardTrial | None:
    """The guard to try, for ``--guard``; its options without it are an error."""
    from tokenbuddy.cli.replay_guard import guard_options_given

    if not args.guard:
        given = guard_options_given(args)
        if given:
            raise ConfigError(f"replay: {', '.join(given)} goes with --guard")
        return None
    return guard_trial(
        settings,
        zone=zone,
        hard_cap_usd=args.hard_cap,
        daily_cap_usd=args.daily_cap,
        scripted_session_limit_usd=args.scripted_limit,
        refresh_lag_s=args.refresh_lag,
    )


def alert_record(alert: Alert) -> dict[str, object]:
    """One warning as ``--json`` prints it."""
    return {
        "at": datetime.fromtimestamp(alert.at_ms / 1000, UTC).isoformat(timespec="milliseconds"),
        "kind": alert.kind,
        "severity": alert.severity,
        "session_id": alert.session_id,
        "project": alert.project,
        "message": alert.message,
        "cost_per_hour_usd": round(alert.cost_per_hour_usd, 2),
    }


def print_json(alert: Alert) -> None:
    """Write one warning as a JSON line."""
    sys.stdout.write(orjson.dumps(alert_record(alert)).decode() + "\n")


PROJECT_WIDTH = 24


def text_printer(zone: ZoneInfo) -> Callable[[Alert], None]:
    """A printer of one aligned line per warning, with times in ``zone``."""

    def print_line(alert: Alert) -> None:
        print(format_line(alert, zone), flush=True)

    return print_line


def format_line(alert: Alert, zone: ZoneInfo) -> str:
    """Time, severity, kind, where, and the message; text from logs made safe to print."""
    moment = datetime.fromtimestamp(alert.at_ms / 1000, UTC).astimezone(zone)
    where = _short_project(alert.project or "")
    if alert.session_id:
        where = f"{where}/{clean(alert.session_id[:8])}" if where else clean(alert.session_id[:8])
    return "  ".join(
        [
            moment.strftime("%Y-%m-%d %H:%M:%S %Z"),
            alert.severity.ljust(8),
            alert.kind.ljust(15),
            where.ljust(PROJECT_WIDTH + 9),
            clean(alert.message),
        ]
    )


def _short_project(project: str) -> str:
    """The project's last path component, printable and at most ``PROJECT_WIDTH`` wide."""
    name = clean(project.rstrip("/").rsplit("/", 1)[-1] or project)
    return name if len(name) <= PROJECT_WIDTH else name[: PROJECT_WIDTH - 1] + "…"


def format_summary(counts: ReplayCounts) -> str:
    """One line: what was read, what was skipped and why, and the warnings by severity."""
    files = counted(counts.files, "file")
    if counts.unreadable_files:
        files += f", {counts.unreadable_files:,} unreadable"
    if counts.incomplete_files:
        files += f", {counts.incomplete_files:,} ending in an incomplete line"
    skipped = sum(counts.skipped.values())
    lines = f"{counted(skipped, 'line')} skipped"
    if skipped:
        reasons = sorted(counts.skipped.items(), key=lambda item: -item[1])
        lines += " (" + ", ".join(f"{clean(reason)}: {n:,}" for reason, n in reasons) + ")"
    warnings = ", ".join(f"{n} {severity}" for severity, n in counts.warnings.items())
    return (
        f"Replayed {files}; {counts.requests:,} requests, {counts.prompts:,} prompts; "
        f"{lines}; warnings: {warnings}"
    )
