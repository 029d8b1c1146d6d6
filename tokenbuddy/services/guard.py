"""The guard, for the ledger writers, the command line and the dashboard.

The hook (:mod:`tokenbuddy.cli.guard_hook`) decides from ``status.json``; this module
puts there what it needs (:func:`guard_section`, written by
:func:`~tokenbuddy.services.status_file.publish_status` on every ledger update, after
importing the hook's journal into the ledger), lifts blocks (:func:`allow`) and says
what the guard is doing (:func:`guard_state`).

The ``guard`` object of ``status.json``::

    {"settings": {"mode": "block", "hard_cap_usd": 400.0, "daily_cap_usd": null,
                  "scripted_session_limit_usd": 10.0, "block_on_critical": true},
     "cycle_ends_ms": …, "day_ends_ms": …,        # when the cycle and local day end
     "config_file": "…/config.toml", "config_mtime_ns": …,
     "decisions": [{"ts_ms": …, "decision": "block", "rule": "hard_cap", …}],
     "journal_skipped": 0}

Beside it, ``synced_ms`` says when every log root was last brought up to date, and
each alert carries ``sessions`` (the sessions a person-wide warning involves).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from tokenbuddy.core import guard as policy
from tokenbuddy.store import guard_files
from tokenbuddy.store.guard_decisions import (
    GuardDecision,
    import_journal,
    recent_decisions,
    skipped_lines,
)

if TYPE_CHECKING:
    from pathlib import Path

    from tokenbuddy.core.dashboard import DashboardSnapshot
    from tokenbuddy.store.ledger import Ledger
    from tokenbuddy.store.paths import AppPaths
    from tokenbuddy.store.settings import GuardSettings, Settings

PUBLISHED_DECISIONS = 20
"""Decisions listed in ``status.json`` (the hook reads them to space out warnings)."""
MAX_ALLOW_MINUTES = 7 * 24 * 60


@dataclass(frozen=True, slots=True)
class GuardSetup:
    """What a ledger writer needs to publish the guard's part of ``status.json``."""

    settings: GuardSettings
    state_dir: Path
    """Where the hook's journal and the allow file are."""
    config_file: Path
    """Watched by the hook: when it changes, the settings above may be out of date."""

    @classmethod
    def from_settings(cls, paths: AppPaths, settings: Settings) -> GuardSetup:
        """The validated ``[guard]`` table and this installation's files."""
        return cls(settings.guard, paths.state_dir, paths.config_file)


def guard_section(ledger: Ledger, setup: GuardSetup, snapshot: DashboardSnapshot) -> dict[str, Any]:
    """Import the hook's journal, then the ``guard`` object of ``status.json``."""
    import_journal(ledger, setup.state_dir)
    zone = snapshot.cycle.start.tzinfo
    today = datetime.fromtimestamp(snapshot.now_ms / 1000, zone).date()
    day_ends = datetime.combine(today + timedelta(days=1), time(0), zone)
    try:
        config_mtime_ns = setup.config_file.stat().st_mtime_ns
    except OSError:
        config_mtime_ns = 0
    return {
        "settings": setup.settings.model_dump(),
        "cycle_ends_ms": int(snapshot.cycle.end.timestamp() * 1000),
        "day_ends_ms": int(day_ends.timestamp() * 1000),
        "config_file": str(setup.config_file),
        "config_mtime_ns": config_mtime_ns,
        "decisions": [
            decision_json(d) for d in recent_decisions(ledger, limit=PUBLISHED_DECISIONS)
        ],
        "journal_skipped": skipped_lines(ledger),
    }


def decision_json(decision: GuardDecision) -> dict[str, Any]:
    """One decision as ``status.json`` and ``status --json`` list it."""
    return asdict(decision)


@dataclass(frozen=True, slots=True)
class Standing:
    """A rule tripped now: what it stops, and the numbers."""

    rule: str
    scope: str
    """Whom it stops: every session, scripted sessions, one session."""
    message: str


@dataclass(frozen=True, slots=True)
class Allow:
    """An allow that has not expired: blocks are lifted until ``until_ms``."""

    id: str
    from_ms: int
    until_ms: int
    session_id: str | None
    """None: every session."""


@dataclass(frozen=True, slots=True)
class GuardState:
    """What the guard is doing, for ``tokenbuddy guard``, ``status --json`` and the dashboard."""

    mode: str
    settings: dict[str, Any]
    standing: list[Standing]
    """What is stopped now (in warn mode: what would be)."""
    allows: list[Allow]
    decisions: list[dict[str, Any]]
    """The latest decisions, newest first (:func:`decision_json`)."""
    journal_skipped: int
    problems: list[str]
    """What could not be read (an unreadable allow file, say)."""

    @property
    def blocking(self) -> bool:
        """Whether the guard stops something now (block mode, a rule tripped, no allow
        covering every session)."""
        every = any(a.session_id is None for a in self.allows)
        return self.mode == "block" and bool(self.standing) and not every


def guard_state(payload: dict[str, Any], state_dir: Path, now_ms: int) -> GuardState:
    """The guard's state from a freshly written ``status.json`` payload and the allow file."""
    guard = policy.guard_part(payload)
    settings = policy.guard_settings(payload)
    problems = []
    try:
        allows = guard_files.active_allows(guard_files.read_allows(str(state_dir)), now_ms)
    except (OSError, ValueError) as error:
        allows = []
        problems.append(f"the allow file cannot be read ({error}); the hook lets everything by")
    return GuardState(
        mode=str(settings.get("mode", "off")),
        settings=settings,
        standing=[
            Standing(t.rule, scope, t.message) for scope, t in policy.standing(payload, now_ms)
        ],
        allows=[_allow(a) for a in allows],
        decisions=list(guard.get("decisions") or []),
        journal_skipped=int(guard.get("journal_skipped") or 0),
        problems=problems,
    )


def _allow(record: dict[str, Any]) -> Allow:
    session = record.get("session_id")
    return Allow(
        str(record.get("id", "")),
        int(record.get("from_ms") or 0),
        int(record["until_ms"]),
        session if isinstance(session, str) and session else None,
    )


def allow(state_dir: Path, *, minutes: int, session_id: str | None, now_ms: int) -> Allow:
    """Lift the guard's blocks for ``minutes`` (one session, or every one), and record it.

    Expired allows are dropped from the file on the way; an unreadable allow file is
    replaced (the hook lets everything by while it cannot read it anyway).
    """
    if not 0 < minutes <= MAX_ALLOW_MINUTES:
        raise ValueError(f"an allow lasts 1 minute to {MAX_ALLOW_MINUTES // 1440} days")
    directory = str(state_dir)
    try:
        kept = guard_files.active_allows(guard_files.read_allows(directory), now_ms)
    except ValueError:
        kept = []
    record = {
        "id": guard_files.decision_id(now_ms),
        "from_ms": now_ms,
        "until_ms": now_ms + minutes * 60_000,
        "session_id": session_id,
    }
    guard_files.write_allows(directory, [*kept, record])
    scope = f"session {session_id}" if session_id else "every session"
    guard_files.append_decision(
        directory,
        {
            "id": record["id"],
            "ts_ms": now_ms,
            "decision": "allow",
            "event": "allow",
            "rule": "",
            "session_id": session_id or "",
            "entrypoint": os.environ.get("CLAUDE_CODE_ENTRYPOINT", ""),
            "tool": "",
            "message": f"blocks lifted for {scope} for {minutes} min",
            "until_ms": record["until_ms"],
        },
    )
    return _allow(record)
