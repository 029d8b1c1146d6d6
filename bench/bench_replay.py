#!/usr/bin/env python3
"""How soon each kind of runaway is seen and stopped, and what the guard would have saved.

A benchmark, not a test: it prints figures. Each incident is generated in Claude Code's
transcript format with the generators the tests use (``tests/incidents.py``, imported
from the repository root, beside ``bench/``), then replayed as ``tokenbuddy replay
--guard`` replays it: the detectors with the default thresholds, and the guard in block
mode with the default ``[guard]`` limits (none: only critical warnings stop anything), its
figures refreshed as the hook refreshes them (two minutes). Two rows try a cap: a $30
daily cap on the spike's day, and a $50 hard cap on the busy day of Opus work before the
``claude -p`` loop (reached around noon; the rest of the day and the night are its total).

Per incident: when it starts (the generator says; for the cap, the request that reached
it), the first warning and the first critical one after it, and the guard's first block,
each with its latency after the start; the spend from the start to the block, the
incident's total (from its start to the end of its logs), what the guard would have saved
had its first block held (the total less the spend up to the block), and what it saved in
the replay, where what it stops never happens and a rule that acts on a warning lets the
next calls through once that warning lapses (a stopped loop spends nothing, so its
unattended-spend warning lapses after ``unattended_max_gap_minutes``).

The hook knows a session's entrypoint (``claude -p`` or a person) from
``CLAUDE_CODE_ENTRYPOINT``. The ledger does not keep it yet, so each session's
entrypoint is taken from its transcript and handed to the replay with its requests.

The real anonymised logs in ``../shared/fixtures`` are replayed the same way: with the
default limits nothing there should be critical or stopped.

usage: python bench/bench_replay.py [--shared DIR] [--seed N] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from tests.guard_trials import GuardTried, try_guard  # noqa: E402 - the repository root first
from tests.incidents import (  # noqa: E402
    broken_cache_incident,
    overnight_loop_incident,
    scripted_loop_incident,
    spend_spike_incident,
)
from tokenbuddy.core.money import dollars  # noqa: E402
from tokenbuddy.services.replay import guard_trial  # noqa: E402
from tokenbuddy.store.settings import Settings  # noqa: E402

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HARD_CAP_USD = 50.0
DAILY_CAP_USD = 30.0


@dataclass(frozen=True)
class Scenario:
    """One incident: how to write it, and the limits the guard tries on it."""

    name: str
    build: Callable[[Path, datetime, int], datetime]
    limits: dict[str, float] = field(default_factory=dict)
    starts_at_cap: float | None = None
    """The incident starts with the request that takes the spend to this (a cap)."""


SCENARIOS = (
    Scenario("broken cache (Opus 4.1)", lambda r, s, n: broken_cache_incident(r, s, seed=n)),
    Scenario("spend spike (Opus 4.1)", lambda r, s, n: spend_spike_incident(r, s, seed=n + 1)),
    Scenario(
        f"spend spike, daily cap {dollars(DAILY_CAP_USD)}",
        lambda r, s, n: spend_spike_incident(r, s, seed=n + 1),
        {"daily_cap_usd": DAILY_CAP_USD},
    ),
    Scenario("overnight agent loop", lambda r, s, n: overnight_loop_incident(r, s, seed=n + 2)),
    Scenario("claude -p loop at night", lambda r, s, n: scripted_loop_incident(r, s, seed=n + 3)),
    Scenario(
        f"hard cap {dollars(HARD_CAP_USD)}, the loop's day+night",
        lambda r, s, n: scripted_loop_incident(r, s, seed=n + 3),
        {"hard_cap_usd": HARD_CAP_USD},
        starts_at_cap=HARD_CAP_USD,
    ),
)


def replay(root: Path, limits: dict[str, float]) -> tuple[GuardTried, float]:
    """``replay --guard`` over ``root`` with ``limits``: what it found, and its seconds."""
    trial = guard_trial(Settings(), zone=UTC, **limits)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as scratch:
        tried = try_guard(root, trial, Path(scratch))
    return tried, time.perf_counter() - started


def cap_reached(timeline: list[tuple[int, float]], cap: float) -> int:
    """When the spend reached ``cap``."""
    spent = 0.0
    for ts, cost in timeline:
        spent += cost
        if spent >= cap:
            return ts
    raise SystemExit(f"the incident never reaches {dollars(cap)}")


def figures(scenario: Scenario, found: GuardTried, start_ms: int, seconds: float) -> dict[str, Any]:
    """The row of one incident (times in ms, dollars)."""
    after = [a for a in found.alerts if a.at_ms >= start_ms]
    warning = min((a.at_ms for a in after), default=None)
    critical = min((a.at_ms for a in after if a.severity == "critical"), default=None)
    block = found.blocks[0] if found.blocks else None
    total = found.spend(start_ms)
    before_block = found.spend(start_ms, block.at_ms) if block else total
    return {
        "incident": scenario.name,
        "start_ms": start_ms,
        "early_warnings": len(found.alerts) - len(after),
        "warning_ms": warning,
        "critical_ms": critical,
        "block_ms": block.at_ms if block else None,
        "block_rule": block.rule if block else None,
        "spend_to_block_usd": round(before_block, 2),
        "total_usd": round(total, 2),
        "saved_if_held_usd": round(total - before_block, 2),
        "saved_replayed_usd": round(sum(found.tally.stopped_usd.values()), 2),
        "replay_s": round(seconds, 2),
    }


def run_incidents(seed: int) -> list[dict[str, Any]]:
    rows = []
    for scenario in SCENARIOS:
        with tempfile.TemporaryDirectory(prefix="bench-incident-") as directory:
            root = Path(directory) / "claude"
            start = scenario.build(root, START, seed)
            found, seconds = replay(root, scenario.limits)
        start_ms = int(start.timestamp() * 1000)
        if scenario.starts_at_cap is not None:
            start_ms = cap_reached(found.timeline, scenario.starts_at_cap)
        rows.append(figures(scenario, found, start_ms, seconds))
    return rows


def run_fixtures(shared: Path) -> list[dict[str, Any]]:
    rows = []
    for source in ("claude", "codex"):
        root = shared / "fixtures" / source
        if not root.is_dir():
            print(f"no fixtures at {root}: skipped", file=sys.stderr)
            continue
        found, seconds = replay(root, {})
        rows.append(
            {
                "fixtures": source,
                "requests": len(found.timeline),
                "spend_usd": round(found.spend(0), 2),
                "warnings": len(found.alerts),
                "critical": sum(a.severity == "critical" for a in found.alerts),
                "blocks": len(found.blocks),
                "replay_s": round(seconds, 2),
            }
        )
    return rows


def clock(ms: int | None, start_ms: int) -> str:
    """``23:31:40 (+31.7 min)``, or ``-``."""
    if ms is None:
        return "-"
    moment = datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S")
    return f"{moment} (+{(ms - start_ms) / 60_000:.1f} min)"


def print_table(rows: list[dict[str, Any]], fixtures: list[dict[str, Any]]) -> None:
    headers = (
        "incident",
        "start (UTC)",
        "1st warning",
        "1st critical",
        "guard blocks",
        "start->block",
        "total",
        "saved if held",
        "saved, replayed",
        "replay",
    )
    cells = [
        (
            row["incident"],
            datetime.fromtimestamp(row["start_ms"] / 1000, UTC).strftime("%H:%M:%S"),
            clock(row["warning_ms"], row["start_ms"]),
            clock(row["critical_ms"], row["start_ms"]),
            clock(row["block_ms"], row["start_ms"])
            + (f" {row['block_rule']}" if row["block_rule"] else ""),
            dollars(row["spend_to_block_usd"]) if row["block_ms"] else "-",
            dollars(row["total_usd"]),
            dollars(row["saved_if_held_usd"]),
            dollars(row["saved_replayed_usd"]),
            f"{row['replay_s']:.2f} s",
        )
        for row in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    for cell in cells:
        print("  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)))
    early = sum(row["early_warnings"] for row in rows)
    print(f"warnings before an incident started: {early}")
    for row in fixtures:
        print(
            f"real {row['fixtures']} logs: {row['requests']:,} requests, "
            f"{dollars(row['spend_usd'])}; {row['warnings']} warnings, "
            f"{row['critical']} critical; {row['blocks']} blocks ({row['replay_s']} s)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1, help="the generators' seed (default 1)")
    parser.add_argument(
        "--shared", type=Path, default=REPOSITORY.parent / "shared", help="../shared"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    rows = run_incidents(args.seed)
    fixtures = run_fixtures(args.shared)
    if args.json:
        print(json.dumps({"incidents": rows, "fixtures": fixtures}, indent=2))
    else:
        print_table(rows, fixtures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
