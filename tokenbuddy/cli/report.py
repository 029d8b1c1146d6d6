"""``tokenbuddy report``: usage and cost tables, or one JSON object.

The table itself is :mod:`tokenbuddy.cli.report_table`'s (``format_report`` is
re-exported here).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

import orjson

from tokenbuddy.cli.progress import terminal_progress
from tokenbuddy.cli.report_table import format_report
from tokenbuddy.cli.table import table_width
from tokenbuddy.core.wording import counted
from tokenbuddy.errors import ConfigError
from tokenbuddy.services.report import ORDERED_KINDS, PERIOD_KINDS, usage_report
from tokenbuddy.store.timezone import configured_zone, resolve_zone, zone_notice

__all__ = ["format_report", "parse_day", "run_report"]


def parse_day(value: str | None, option: str) -> date | None:
    """A ``YYYY-MM-DD`` (or ``YYYYMMDD``) command-line date."""
    if value is None:
        return None
    try:
        if len(value) == 8 and value.isdigit():
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option} expects a date like 2026-11-22, not {value!r}") from None


def _configured_zone() -> str | None:
    """The ``timezone`` setting, read without validating the whole config (start-up time)."""
    import os

    from tokenbuddy.store.config_file import configured_timezone
    from tokenbuddy.store.paths import app_paths

    return configured_timezone(app_paths().config_file, os.environ)


def run_report(args: argparse.Namespace) -> int:
    """Sync the ledger, then print the requested report."""
    zone_name = args.tz or _configured_zone()
    zone_problems: list[str] = []
    if args.tz:
        zone = resolve_zone(args.tz)
    else:
        zone, zone_problems = configured_zone(zone_name)
    since, until = parse_day(args.since, "--since"), parse_day(args.until, "--until")
    if since and until and since > until:
        raise ConfigError("--since is after --until")
    _check_options(args)
    if args.kind == "blocks":
        from tokenbuddy.cli.blocks import print_blocks, run_blocks

        text, problems = run_blocks(args, zone, since, until)
        return print_blocks(text, [*zone_problems, *zone_notice(zone_name), *problems])
    with terminal_progress() as progress:
        report, problems = usage_report(
            args.kind,
            zone=zone,
            since=since,
            until=until,
            source=None if args.source == "all" else args.source,
            project=args.project,
            jobs=args.jobs,
            progress=progress,
            breakdown=args.breakdown,
            order=args.order,
        )
    for error in [*zone_problems, *zone_notice(zone_name), *problems, *_skipped_notice(report)]:
        print(f"tokenbuddy: {error}", file=sys.stderr)
    if args.json:
        sys.stdout.write(orjson.dumps(report).decode() + "\n")
    else:
        print(format_report(args.kind, report, zone, width=table_width(args.wide)))
    return 0


def _check_options(args: argparse.Namespace) -> None:
    """``--breakdown`` splits periods; ``--order`` orders time: refuse them elsewhere."""
    if args.breakdown and args.kind not in PERIOD_KINDS:
        raise ConfigError("--breakdown applies to the daily, weekly and monthly reports")
    if args.order != "asc" and args.kind not in {*ORDERED_KINDS, "blocks"}:
        raise ConfigError(f"--order applies to reports in time order, not {args.kind} (by cost)")


def _skipped_notice(report: dict[str, Any]) -> list[str]:
    """The lines skipped in the logs the report read (its source, its period), if any, and
    the requests among them whose dates are implausible."""
    skipped = report["skipped_lines"]
    if not skipped:
        return []
    notice = [f"{counted(skipped, 'log line')} skipped (see `tokenbuddy doctor` for why)"]
    if report.get("implausible_dates"):
        notice.append(
            f"{counted(report['implausible_dates'], 'request')} dated before 2020 or over a"
            " day ahead of the clock: not counted"
        )
    return notice
