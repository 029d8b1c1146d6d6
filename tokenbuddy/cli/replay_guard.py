"""``tokenbuddy replay --guard``: what the guard would have stopped, printed.

:mod:`tokenbuddy.core.guard_replay` does the judging; this says what was tried, prints
each block (text: the first of each stretch in full, then when the rule stopped
tripping; ``--json``: one object per block) and closes with what was stopped.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.cli.table import clean
from tokenbuddy.core import guard as policy
from tokenbuddy.core.entrypoints import entrypoint_label
from tokenbuddy.core.guard_replay import SHARED_RULES, GuardBlock, GuardLift
from tokenbuddy.core.money import dollars
from tokenbuddy.core.records import CLAUDE_CODE
from tokenbuddy.core.wording import counted, duration

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from zoneinfo import ZoneInfo

    from tokenbuddy.core.guard_replay import GuardTally, GuardTrial

GUARD_OPTIONS = ("hard_cap", "daily_cap", "scripted_limit", "refresh_lag")
"""The options that go with ``--guard``."""
INCIDENT_STARTS = {
    "hard_cap": "the cycle's spend reached the cap",
    "daily_cap": "the day's spend reached the cap",
    "scripted_session_limit": "the session reached the limit",
    "unattended_spend": "the warning",
    "critical_alert": "the warning",
}


def guard_options_given(args: argparse.Namespace) -> list[str]:
    """The ``--guard`` options given on the command line, as typed."""
    given = [name for name in GUARD_OPTIONS if getattr(args, name, None) is not None]
    return ["--" + name.replace("_", "-") for name in given]


def describe_trial(trial: GuardTrial) -> str:
    """What the replay tries, said once before the decisions: it is a what-if."""
    settings = trial.settings

    def limit(setting: str, what: str) -> str:
        value = settings.get(setting)
        return f"{what} {dollars(value)}" if value else f"no {what}"

    lag_s = trial.refresh_lag_ms / 1000
    freshness = (
        "the hook's figures always current"
        if lag_s == 0
        else f"the hook's figures refreshed once over {lag_s:g} s old"
    )
    warnings = (
        "critical warnings block" if settings.get("block_on_critical") else "warnings never block"
    )
    caps = [limit("hard_cap_usd", "hard cap"), limit("daily_cap_usd", "daily cap")]
    if settings.get("hard_cap_usd") or settings.get("daily_cap_usd"):
        caps[-1] += " (the caps count the replayed logs' spend only)"
    parts = [*caps, limit("scripted_session_limit_usd", "scripted-session limit")]
    return (
        "Guard what-if (a replay enforces nothing): [guard] from config.toml in block mode, "
        + ", ".join([*parts, warnings, freshness])
    )


def guard_printer(zone: ZoneInfo, *, as_json: bool) -> Callable[[GuardBlock | GuardLift], None]:
    """A printer of the guard's blocks and lifts, as JSON lines or as text in ``zone``."""

    def print_outcome(outcome: GuardBlock | GuardLift) -> None:
        if as_json:
            if isinstance(outcome, GuardBlock):
                sys.stdout.write(orjson.dumps(block_record(outcome)).decode() + "\n")
            return
        text = format_block(outcome, zone) if isinstance(outcome, GuardBlock) else ""
        if isinstance(outcome, GuardLift):
            text = format_lift(outcome, zone)
        if text:
            print(text, flush=True)

    return print_outcome


def block_record(block: GuardBlock) -> dict[str, Any]:
    """One block as ``--json`` prints it."""
    return {
        "at": _iso(block.at_ms),
        "decision": "block",
        "rule": block.rule,
        "rules": list(block.rules),
        "event": block.event,
        "session_id": block.session_id,
        "project": block.project,
        "entrypoint": block.entrypoint,
        "message": block.message,
        "reason": block.reason,
        "figures_at": _iso(block.figures_ms),
        "incident_start": None if block.incident_ms is None else _iso(block.incident_ms),
        "spend_since_start_usd": round(block.spend_since_usd, 2),
    }


def format_block(block: GuardBlock, zone: ZoneInfo) -> str:
    """The first block of a stretch: when, the rule, which call, the spend since the
    incident began, and what the agent is told (later blocks of it: nothing)."""
    if not block.opens:
        return ""
    label = entrypoint_label(CLAUDE_CODE, block.entrypoint)
    call = "a tool call" if block.event == policy.PRE_TOOL_USE else "a prompt"
    where = clean(block.project.rstrip("/").rsplit("/", 1)[-1])
    where = f"{where}/{clean(block.session_id[:8])}" if where else clean(block.session_id[:8])
    whose = "every session" if block.rule in SHARED_RULES else "this session"
    if block.incident_ms is None:
        since = "the incident's start is not in the logs"
    else:
        start = _local(block.incident_ms, zone).strftime("%H:%M:%S")
        spent = dollars(block.spend_since_usd)
        since = f"{spent} spent by {whose} since {INCIDENT_STARTS[block.rule]} at {start}"
    figures = _local(block.figures_ms, zone).strftime("%H:%M:%S")
    return (
        "  ".join(
            [
                _local(block.at_ms, zone).strftime("%Y-%m-%d %H:%M:%S %Z"),
                "BLOCKED ",
                block.rule.ljust(15),
                where.ljust(33),
                f"{call} ({clean(label)}); {since}; judged on the figures of {figures}",
            ]
        )
        + f"\n    the agent is told: {clean(block.reason)}"
    )


def format_lift(lift: GuardLift, zone: ZoneInfo) -> str:
    """A rule that stopped calls no longer trips: how many it stopped, and for how long."""
    return "  ".join(
        [
            _local(lift.at_ms, zone).strftime("%Y-%m-%d %H:%M:%S %Z"),
            "released",
            lift.rule.ljust(15),
            f"no longer trips in the figures of this moment: stopped "
            f"{counted(lift.blocks, 'call')} of {counted(lift.sessions, 'session')} "
            f"over {duration(lift.at_ms - lift.since_ms)}",
        ]
    )


def format_tally(tally: GuardTally) -> str:
    """One line: the calls judged, the blocks by rule, and the spend that would not have
    happened, by rule."""
    blocks = sum(tally.blocks.values())
    by_rule = ", ".join(f"{rule} {n:,}" for rule, n in sorted(tally.blocks.items()))
    line = f"Guard: {counted(blocks, 'block')}"
    if blocks:
        line += f" ({by_rule}) in {counted(len(tally.blocked_sessions), 'session')}"
    line += f" over {counted(tally.calls, 'hook call')}"
    if tally.blind_calls:
        line += f" ({tally.blind_calls:,} before the first figures, let through)"
    stopped = sum(tally.stopped_usd.values())
    line += f"; of {dollars(tally.logged_usd)} spent in the logs, {dollars(stopped)} "
    line += f"({counted(tally.stopped_requests, 'request')}) would not have been"
    if stopped:
        parts = sorted(tally.stopped_usd.items(), key=lambda item: -item[1])
        line += " (" + ", ".join(f"{rule} {dollars(usd)}" for rule, usd in parts) + ")"
    if tally.unguarded_usd:
        line += f"; Codex and Cursor spend no hook can stop: {dollars(tally.unguarded_usd)}"
    return line


def _local(ms: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
