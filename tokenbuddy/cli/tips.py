"""``tokenbuddy tips``: what to change to spend less, ranked by the dollars it saves.

Imports neither Textual nor Rich: a plain command, quick to start.
"""

from __future__ import annotations

import sys
import textwrap
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson

from tokenbuddy.cli.progress import terminal_progress
from tokenbuddy.cli.report import parse_day
from tokenbuddy.cli.table import clean
from tokenbuddy.core.money import dollars
from tokenbuddy.core.wording import counted
from tokenbuddy.errors import ConfigError
from tokenbuddy.services.tips import tips_since

if TYPE_CHECKING:
    import argparse
    from zoneinfo import ZoneInfo

    from tokenbuddy.core.tips import Tip

WIDTH = 100


def run_tips(args: argparse.Namespace) -> int:
    """Sync the ledger, then print the tips for the window."""
    since, until = parse_day(args.since, "--since"), parse_day(args.until, "--until")
    if since and until and since > until:
        raise ConfigError("--since is after --until")
    with terminal_progress() as progress:
        run = tips_since(since, until=until, progress=progress)
    for problem in run.problems:
        print(f"tokenbuddy: {problem}", file=sys.stderr)
    if args.json:
        sys.stdout.write(orjson.dumps({"tips": [t.as_dict() for t in run.tips]}).decode() + "\n")
    else:
        print(format_tips(run.tips, run.since_ms, run.now_ms, run.zone))
    return 0


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
