"""``tokenbuddy vendors pull``, ``tokenbuddy sources`` and ``tokenbuddy reconcile``.

``vendors pull`` polls every configured vendor source now and stores the results;
``sources`` shows each source's state from the ledger; ``reconcile`` sets the local
estimate against what the vendors billed, per UTC day, provider and model.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy import clock
from tokenbuddy.cli.auth import columns
from tokenbuddy.cli.report import parse_day
from tokenbuddy.cli.table import clean, render_table
from tokenbuddy.core.money import dollars
from tokenbuddy.core.report import local_day_bounds
from tokenbuddy.core.units import HOUR_S, MINUTE_S

if TYPE_CHECKING:
    import argparse

    from tokenbuddy.services.vendor_poll import PollOutcome
    from tokenbuddy.store.vendors import Reconciliation

CURSOR_LIST_PRICE = "cursor (list price)"
"""The reconcile provider of Cursor rows priced at list price, as ``store.vendors`` names
it (this module does not load the store at start-up)."""


def run_vendors(args: argparse.Namespace) -> int:
    """``vendors pull``: poll every enabled, configured source now."""
    from tokenbuddy.cli.config import user_settings
    from tokenbuddy.services.vendor_poll import pull_enabled

    del args
    outcomes, problems = pull_enabled(user_settings().vendors, clock.now_ms())
    return _report_outcomes(outcomes, problems)


def _report_outcomes(outcomes: list[PollOutcome], problems: dict[str, str]) -> int:
    """One line per source; a problem shared by several sources (no keyring) is said once."""
    failed = False
    said: set[str] = set()
    for outcome in outcomes:
        problem = problems.get(outcome.provider)
        if problem is not None:
            shared = sum(1 for p in problems.values() if p == problem) > 1
            if not shared:
                print(f"{outcome.provider}: {problem}", file=sys.stderr)
            elif problem not in said:
                names = ", ".join(p for p, text in problems.items() if text == problem)
                print(f"{names}: {problem}", file=sys.stderr)
            said.add(problem)
            failed = True
        elif outcome.status == "error":
            print(
                f"{outcome.provider}: error [{outcome.error_kind}] {outcome.message}",
                file=sys.stderr,
            )
            failed = True
        else:
            print(f"{outcome.provider}: {outcome.status}: {outcome.message}")
    return 1 if failed else 0


def run_sources(args: argparse.Namespace) -> int:
    """``sources [--json]``: each vendor source's credential and polling state."""
    from tokenbuddy.cli.config import user_settings
    from tokenbuddy.services.vendor_sources import source_entries

    entries = source_entries(user_settings().vendors, clock.now_ms())
    if args.json:
        sys.stdout.write(orjson.dumps({"sources": entries}).decode() + "\n")
    else:
        print(_sources_table(entries))
    return 0


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 2 * MINUTE_S:
        return f"{seconds}s ago"
    if seconds < 2 * HOUR_S:
        return f"{seconds // MINUTE_S}m ago"
    return f"{seconds // HOUR_S}h ago"


def _sources_table(entries: list[dict[str, Any]]) -> str:
    rows = [
        [
            e["provider"],
            e["status"],
            _age(e["age_s"]),
            clean((e["last_error"] or e["credential_error"])[:100]),
        ]
        for e in entries
    ]
    return columns(["source", "status", "last success", "last error"], rows)


def run_reconcile(args: argparse.Namespace) -> int:
    """``reconcile``: local estimate vs vendor-billed per UTC day, provider and model."""
    from zoneinfo import ZoneInfo

    from tokenbuddy.cli.progress import terminal_progress
    from tokenbuddy.services.vendor_sources import reconcile

    since, until = parse_day(args.since, "--since"), parse_day(args.until, "--until")
    since_ms, until_ms = local_day_bounds(since, until, ZoneInfo("UTC"))
    with terminal_progress() as progress:
        result = reconcile(since_ms, until_ms, progress=progress)
    if not result.rows:
        print(
            "tokenbuddy: no billed costs to compare: add an Admin key"
            " (`tokenbuddy auth add anthropic|openai`) and run `tokenbuddy vendors pull`",
            file=sys.stderr,
        )
    if args.json:
        sys.stdout.write(orjson.dumps(result.as_dict()).decode() + "\n")
    else:
        print(_reconcile_table(result))
    return 0


def _reconcile_table(result: Reconciliation) -> str:
    rows = [
        [
            r.date,
            r.provider,
            clean(r.model or "(unattributed)"),
            dollars(r.local_usd),
            dollars(r.billed_usd),
            dollars(r.diff_usd),
        ]
        for r in result.rows
    ]
    totals = result.totals
    rows.append(
        [
            "Total",
            "",
            "",
            dollars(totals["local_usd"]),
            dollars(totals["billed_usd"]),
            dollars(totals["diff_usd"]),
        ]
    )
    headers = ["date (UTC)", "provider", "model", "local", "billed", "billed - local"]
    table = render_table(headers, rows, numeric_from=3)
    if any(r.provider == CURSOR_LIST_PRICE for r in result.rows):
        table += (
            f"\n{CURSOR_LIST_PRICE}: Cursor's own token counts from an export without a Cost"
            " column, priced at list price (an estimate, not what Cursor billed)"
        )
    return table
