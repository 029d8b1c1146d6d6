"""``tokenbuddy vendors pull``, ``tokenbuddy sources`` and ``tokenbuddy reconcile``.

``vendors pull`` polls every configured vendor source now and stores the results;
``sources`` shows each source's state from the ledger; ``reconcile`` sets the local
estimate against what the vendors billed, per UTC day, provider and model.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy import clock
from tokenbuddy.cli.auth import columns
from tokenbuddy.cli.report import parse_day
from tokenbuddy.cli.table import clean, render_table
from tokenbuddy.core.money import dollars
from tokenbuddy.core.report import local_day_bounds
from tokenbuddy.core.units import HOUR_S, MINUTE_S
from tokenbuddy.errors import CredentialError, KeyringUnavailableError
from tokenbuddy.store.vendors import VENDOR_SOURCES, reconciliation, source_states

if TYPE_CHECKING:
    import argparse

    from tokenbuddy.sources.vendors.poll import Credential, PollOutcome, Schedule
    from tokenbuddy.store.settings import Settings, VendorSettings
    from tokenbuddy.store.vendors import Reconciliation, SourceState


def _settings() -> tuple[Settings, Path]:
    from tokenbuddy.store.paths import app_paths
    from tokenbuddy.store.settings import load_settings

    paths = app_paths()
    paths.ensure()
    settings, problems = load_settings(paths.config_file)
    for problem in problems:
        print(f"tokenbuddy: {problem}", file=sys.stderr)
    return settings, paths.ledger


def schedule_for(vendors: VendorSettings) -> Schedule:
    """The ``[vendors]`` settings as the poller takes them."""
    from tokenbuddy.sources.vendors.poll import Schedule

    return Schedule(
        interval_ms=int(vendors.poll_seconds * 1000),
        subscription_interval_ms=int(vendors.subscription_poll_seconds * 1000),
        history_days=vendors.history_days,
        cursor_team_id=vendors.cursor_team_id,
    )


def credentials(
    providers: list[str],
) -> tuple[dict[str, Credential | None], dict[str, str], set[str]]:
    """Each provider's credential (None when not set), the ones that cannot be read, and
    of those, the ones that cannot be read only because there is no keyring backend."""
    from tokenbuddy.sources.vendors.poll import find_credential

    found: dict[str, Credential | None] = {}
    problems: dict[str, str] = {}
    no_keyring: set[str] = set()
    for provider in providers:
        try:
            found[provider] = find_credential(provider, os.environ, Path.home())
        except CredentialError as error:
            found[provider], problems[provider] = None, str(error)
            if isinstance(error, KeyringUnavailableError):
                no_keyring.add(provider)
    return found, problems, no_keyring


def run_vendors(args: argparse.Namespace) -> int:
    """``vendors pull``: poll every enabled, configured source now."""
    import asyncio

    from tokenbuddy.sources.vendors.http import ClientOptions
    from tokenbuddy.sources.vendors.poll import poll_all
    from tokenbuddy.store.ledger import Ledger

    del args
    settings, ledger_path = _settings()
    enabled = [p for p in VENDOR_SOURCES if p not in settings.vendors.disabled]
    found, problems, _ = credentials(enabled)
    schedule = schedule_for(settings.vendors)
    with Ledger(ledger_path) as ledger:
        outcomes = asyncio.run(
            poll_all(ledger, found, clock.now_ms(), ClientOptions(), schedule, providers=enabled)
        )
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
    from tokenbuddy.store.ledger import Ledger

    settings, ledger_path = _settings()
    found, problems, _ = credentials(list(VENDOR_SOURCES))
    with Ledger(ledger_path) as ledger:
        states = source_states(ledger.db)
    now_ms = clock.now_ms()
    entries = [
        _source_entry(s, found[s.provider], problems.get(s.provider, ""), settings, now_ms)
        for s in states
    ]
    if args.json:
        sys.stdout.write(orjson.dumps({"sources": entries}).decode() + "\n")
    else:
        print(_sources_table(entries))
    return 0


def _source_entry(
    state: SourceState, credential: Credential | None, problem: str, settings: Settings, now_ms: int
) -> dict[str, Any]:
    """One source as shown: the stored state plus whether a credential is configured now."""
    entry = state.as_dict()
    entry["configured"] = credential is not None
    entry["credential_from"] = credential.origin if credential else None
    entry["credential_error"] = problem
    entry["enabled"] = state.provider not in settings.vendors.disabled
    entry["age_s"] = (now_ms - state.last_success_ms) // 1000 if state.last_success_ms else None
    if not entry["enabled"]:
        entry["status"] = "disabled"
    elif credential is None and state.status == "never polled":
        entry["status"] = "credential unreadable" if problem else "not configured"
    return entry


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

    from tokenbuddy.cli.session import open_session

    since, until = parse_day(args.since, "--since"), parse_day(args.until, "--until")
    since_ms, until_ms = local_day_bounds(since, until, ZoneInfo("UTC"))
    session = open_session()
    with session.ledger:
        result = reconciliation(session.ledger.db, since_ms, until_ms)
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
    return render_table(headers, rows, numeric_from=3)
