"""``tokenbuddy report``: usage and cost tables, or one JSON object."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.cli.progress import terminal_progress
from tokenbuddy.cli.table import clean, render_table, tokens
from tokenbuddy.core.money import dollars
from tokenbuddy.core.wording import counted
from tokenbuddy.errors import ConfigError
from tokenbuddy.services.report import usage_report
from tokenbuddy.store.timezone import resolve_zone, zone_notice

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo


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
    zone = resolve_zone(zone_name)
    since, until = parse_day(args.since, "--since"), parse_day(args.until, "--until")
    if since and until and since > until:
        raise ConfigError("--since is after --until")
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
        )
    for error in [*zone_notice(zone_name), *problems]:
        print(f"tokenbuddy: {error}", file=sys.stderr)
    if args.json:
        sys.stdout.write(orjson.dumps(report).decode() + "\n")
    else:
        print(format_report(args.kind, report, zone))
    return 0


_KEY_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "daily": [("Date", "date")],
    "weekly": [("Week", "week")],
    "monthly": [("Month", "month")],
    "session": [
        ("Last request", "last_request_ms"),
        ("Project", "project"),
        ("Session", "session_id"),
    ],
    "model": [("Model", "model"), ("Source", "source")],
    "agent": [("Agent", "agent")],
}


def format_report(kind: str, report: dict[str, Any], zone: ZoneInfo) -> str:
    """The report as an aligned table with a totals row and a footer."""
    key_columns = _KEY_COLUMNS[kind]
    headers = [h for h, _ in key_columns] + [
        "Input",
        "Output",
        "Cache write",
        "Cache read",
        "Cache hit",
        "Requests",
        "Cost",
    ]
    own_costs = report["totals"]["reported_requests"] > 0
    if own_costs:
        headers.append("Agent's cost")
    rows = [
        [_key_cell(field, row[field], zone) for _, field in key_columns]
        + _number_cells(row, own_costs)
        for row in report["rows"]
    ]
    total_label = ["Total"] + [""] * (len(key_columns) - 1)
    rows.append(total_label + _number_cells(report["totals"], own_costs))
    text = render_table(headers, rows, numeric_from=len(key_columns))
    return text + _footer(report)


def _key_cell(field: str, value: Any, zone: ZoneInfo) -> str:
    if field == "last_request_ms":
        moment = datetime.fromtimestamp(value / 1000, UTC).astimezone(zone)
        return moment.strftime("%Y-%m-%d %H:%M")
    if field == "project":
        return clean(str(value).rstrip("/").rsplit("/", 1)[-1] or str(value))
    if field == "session_id":
        return clean(str(value)[:8])
    return clean(str(value))


def _number_cells(row: dict[str, Any], own_costs: bool) -> list[str]:
    """The numbers of a row; with ``own_costs``, what the agents themselves say it cost
    (``-`` where they record nothing)."""
    ratio = row["cache_hit_ratio"]
    own = row["reported_cost_usd"]
    return [
        tokens(row["input_tokens"]),
        tokens(row["output_tokens"]),
        tokens(row["cache_creation_tokens"]),
        tokens(row["cache_read_tokens"]),
        "-" if ratio is None else f"{ratio:.1%}",
        tokens(row["requests"]),
        dollars(row["cost_usd"]),
    ] + ([("-" if own is None else dollars(own))] if own_costs else [])


def _footer(report: dict[str, Any]) -> str:
    lines = []
    totals = report["totals"]
    if totals["reported_requests"]:
        lines.append(
            f"Agent's cost: what the agents recorded themselves, for"
            f" {counted(totals['reported_requests'], 'request')} (Cost is the list price,"
            " except where an agent's figure is what was billed: Copilot's AI credits)"
        )
    unpriced = report["unpriced_models"]
    if unpriced:
        listed = ", ".join(
            f"{clean(m)} ({counted(n, 'request')})" for m, n in sorted(unpriced.items())
        )
        lines.append(f"Not in any cost, no known price: {listed}")
    if report.get("unknown_token_requests"):
        lines.append(
            f"{report['unknown_token_requests']:,} Cursor requests with unknown tokens"
            " (Cursor did not record them; not in any cost)"
        )
    if report["skipped_lines"]:
        lines.append(
            f"{report['skipped_lines']:,} log lines skipped (see `tokenbuddy doctor` for why)"
        )
    if report.get("implausible_dates"):
        lines.append(
            f"{counted(report['implausible_dates'], 'request')} dated before 2020 or over a"
            " day ahead of the clock: not counted"
        )
    return ("\n\n" + "\n".join(lines)) if lines else ""
