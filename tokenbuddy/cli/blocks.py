"""``tokenbuddy report blocks``: Claude's 5-hour usage blocks, as a table or JSON."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.cli.progress import terminal_progress
from tokenbuddy.cli.table import clean, compact, render_table, tokens
from tokenbuddy.core.money import dollars
from tokenbuddy.core.records import CLAUDE_CODE
from tokenbuddy.core.report import local_day_bounds
from tokenbuddy.core.units import MINUTE_MS
from tokenbuddy.core.wording import counted
from tokenbuddy.errors import ConfigError
from tokenbuddy.services.blocks import blocks_report

if TYPE_CHECKING:
    import argparse
    from datetime import date
    from zoneinfo import ZoneInfo

    from tokenbuddy.core.blocks import ActiveBlock, Block


def run_blocks(
    args: argparse.Namespace, zone: ZoneInfo, since: date | None, until: date | None
) -> tuple[str, list[str]]:
    """The blocks report (text or JSON) and the problems to print on stderr."""
    if args.project:
        raise ConfigError("report blocks covers every project: --project does not apply")
    since_ms, until_ms = local_day_bounds(since, until, zone)
    with terminal_progress() as progress:
        blocks, active, problems = blocks_report(
            zone=zone,
            source=CLAUDE_CODE if args.source == "all" else args.source,
            since_ms=since_ms,
            until_ms=until_ms,
            jobs=args.jobs,
            progress=progress,
        )
    if args.order == "desc":
        blocks.reverse()
    if args.json:
        document = {"blocks": [block_json(b, active, zone) for b in blocks]}
        return orjson.dumps(document).decode(), problems
    return format_blocks(blocks, active, zone, compact_numbers=not args.wide), problems


def _iso(ts_ms: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(zone).isoformat()


def block_json(block: Block, active: ActiveBlock | None, zone: ZoneInfo) -> dict[str, Any]:
    """One block as ``--json`` prints it; the active one adds its burn and projection."""
    shown: dict[str, Any] = {
        "start": _iso(block.start_ms, zone),
        "end": _iso(block.end_ms, zone),
        "first_request": _iso(block.first_ms, zone),
        "last_request": _iso(block.last_ms, zone),
        "active": active is not None and active.block is block,
        "requests": block.requests,
        "input_tokens": block.input_tokens,
        "output_tokens": block.output_tokens,
        "cache_creation_tokens": block.cache_write_tokens,
        "cache_read_tokens": block.cache_read_tokens,
        "total_tokens": block.tokens,
        "cost_usd": round(block.cost_usd, 6),
        "models": list(block.models),
    }
    if shown["active"] and active is not None:
        shown["burn"] = {
            "usd_per_hour": _rounded(active.usd_per_hour, 4),
            "tokens_per_minute": _rounded(active.tokens_per_minute, 1),
        }
        shown["projected_cost_usd"] = round(active.projected_cost_usd, 6)
        shown["remaining_minutes"] = active.remaining_ms // MINUTE_MS
    return shown


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def format_blocks(
    blocks: list[Block], active: ActiveBlock | None, zone: ZoneInfo, *, compact_numbers: bool
) -> str:
    """One row per block (the active one marked ●), a totals row, and the active block's
    pace under the table."""
    count = compact if compact_numbers else tokens
    rows = [
        [
            ("● " if active is not None and active.block is block else "  ")
            + _local(block.start_ms, zone, "%Y-%m-%d %H:%M"),
            _local(block.end_ms, zone, "%H:%M"),
            clean(", ".join(_short(model) for model in block.models)),
            count(block.requests),
            count(block.tokens),
            dollars(block.cost_usd),
        ]
        for block in blocks
    ]
    total_tokens = sum(block.tokens for block in blocks)
    total_cost = sum(block.cost_usd for block in blocks)
    requests = sum(block.requests for block in blocks)
    rows.append(["Total", "", "", count(requests), count(total_tokens), dollars(total_cost)])
    headers = ["Block start", "End", "Models", "Requests", "Tokens", "Cost"]
    table = render_table(headers, rows, numeric_from=3)
    return table + _active_line(active, zone)


def _active_line(active: ActiveBlock | None, zone: ZoneInfo) -> str:
    if active is None:
        return "\n\nNo active block: the last request is 5 hours old or more."
    left = counted(active.remaining_ms // MINUTE_MS, "minute")
    pace = (
        "one request so far, no pace yet"
        if active.usd_per_hour is None
        else f"{dollars(active.usd_per_hour)}/h, {active.tokens_per_minute or 0:,.0f} tokens/min"
    )
    return (
        f"\n\nActive block: {dollars(active.cost_usd)} so far ({pace}); "
        f"{dollars(active.projected_cost_usd)} projected by "
        f"{_local(active.end_ms, zone, '%H:%M')} ({left} left)"
    )


def _local(ts_ms: int, zone: ZoneInfo, form: str) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(zone).strftime(form)


def _short(model: str) -> str:
    """``opus-4-6`` for ``claude-opus-4-6``: the block's models in a narrow column."""
    return model.removeprefix("claude-")


def print_blocks(text: str, problems: list[str]) -> int:
    """Print the problems on stderr and the report on stdout."""
    for problem in problems:
        print(f"tokenbuddy: {problem}", file=sys.stderr)
    print(text)
    return 0
