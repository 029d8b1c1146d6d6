"""``tokenbuddy tips``: what to change to spend less, ranked by the dollars it saves.

Imports neither Textual nor Rich: a plain command, quick to start.
"""

from __future__ import annotations

import sys
import textwrap
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson

from tokenbuddy import clock
from tokenbuddy.cli.report import parse_day, resolve_zone, zone_notice
from tokenbuddy.cli.session import open_session
from tokenbuddy.cli.table import clean
from tokenbuddy.core.money import dollars
from tokenbuddy.core.report import local_day_bounds
from tokenbuddy.core.units import DAY_MS
from tokenbuddy.core.wording import counted
from tokenbuddy.errors import ConfigError
from tokenbuddy.store.tips import priced_tips

if TYPE_CHECKING:
    import argparse
    from zoneinfo import ZoneInfo

    from tokenbuddy.core.tips import Tip

DEFAULT_WINDOW_DAYS = 14
MIN_WINDOW_DAYS = 7
WIDTH = 100


def run_tips(args: argparse.Namespace) -> int:
    """Sync the ledger, then print the tips for the window."""
    session = open_session(settings=True)
    with session.ledger:
        settings = session.settings
        assert settings is not None
        zone = resolve_zone(settings.timezone)
        now_ms = clock.now_ms()
        since_ms = window_start(args.since, now_ms, zone)
        tips = priced_tips(session.ledger, since_ms, now_ms)
    for problem in [*zone_notice(settings.timezone), *session.problems, *session.summary.errors]:
        print(f"tokenbuddy: {problem}", file=sys.stderr)
    if args.json:
        sys.stdout.write(orjson.dumps({"tips": [t.as_dict() for t in tips]}).decode() + "\n")
    else:
        print(format_tips(tips, since_ms, now_ms, zone))
    return 0


def window_start(since: str | None, now_ms: int, zone: ZoneInfo) -> int:
    """The window's first moment: local midnight of ``--since``, else 14 days ago."""
    day = parse_day(since, "--since")
    if day is None:
        return now_ms - DEFAULT_WINDOW_DAYS * DAY_MS
    start, _ = local_day_bounds(day, None, zone)
    assert start is not None
    if now_ms - start < MIN_WINDOW_DAYS * DAY_MS:
        raise ConfigError(
            f"--since must be at least {MIN_WINDOW_DAYS} days ago: a shorter window "
            "would turn a few requests into a monthly saving"
        )
    return start


def _local_day(ts_ms: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(zone).date().isoformat()


def _paragraph(label: str, text: str) -> str:
    return textwrap.fill(
        clean(text), WIDTH, initial_indent=f"   {label:<9}", subsequent_indent=" " * 12
    )


def format_tip(rank: int, tip: Tip) -> str:
    """One tip as an indented block: title and saving, why, evidence, action, method."""
    lines = [f"{rank}. {clean(tip.title)}: ~{dollars(tip.saving_usd_per_month)}/month"]
    lines.append(_paragraph("Why", tip.why))
    lines.append(_paragraph("Evidence", tip.evidence[0]))
    lines.extend(_paragraph("", f"- {line}") for line in tip.evidence[1:])
    lines.append(_paragraph("Action", tip.action))
    lines.append(_paragraph("How", tip.method))
    return "\n".join(lines)


def format_tips(tips: list[Tip], since_ms: int, now_ms: int, zone: ZoneInfo) -> str:
    """The tips as plain text, the largest saving first."""
    window = f"{_local_day(since_ms, zone)} to {_local_day(now_ms, zone)}"
    if not tips:
        return f"No tips for {window}: no change would have saved more than a cent a month."
    head = f"{counted(len(tips), 'tip')} from {window}, the largest saving first (list prices):"
    blocks = [format_tip(rank, tip) for rank, tip in enumerate(tips, 1)]
    foot = "Tips that count the same requests overlap: their savings do not add up."
    return "\n\n".join([head, *blocks, foot])
