"""The guard's decisions in the ledger: imported from the hook's journal, read back.

The guard hook never opens the ledger; it appends each decision to a journal in the
state dir (:mod:`tokenbuddy.store.guard_files`). Every process that writes the ledger
imports that journal on its way to writing the status file: the journal is set
aside, its lines are inserted by id (a line imported twice is kept once), and the
file is deleted only after the transaction committed. Lines that are not decisions
are counted in ``meta`` and shown by ``tokenbuddy guard``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tokenbuddy.store import guard_files

if TYPE_CHECKING:
    from pathlib import Path

    from tokenbuddy.store.ledger import Ledger

DECISIONS = ("block", "warn", "allow")
SKIPPED_KEY = "guard_journal_skipped"
_COLUMNS = "id, ts_ms, decision, event, rule, session_id, entrypoint, tool, message, until_ms"


@dataclass(frozen=True, slots=True)
class GuardDecision:
    """One decision of the guard: a block or a warning by the hook, or an allow."""

    id: str
    ts_ms: int
    decision: str
    """``block``, ``warn`` or ``allow``."""
    event: str
    """The hook event (``PreToolUse``, ``UserPromptSubmit``), or ``allow``."""
    rule: str
    """What tripped (``hard_cap``, ``daily_cap``, ``scripted_session_limit``,
    ``critical_alert``, ``unattended_spend``); empty for an allow."""
    session_id: str
    """The Claude Code session; empty for an allow of every session."""
    entrypoint: str
    tool: str
    message: str
    until_ms: int | None
    """Until when an allow lifts blocks; None otherwise."""


@dataclass(frozen=True, slots=True)
class JournalImport:
    """What one import of the journal did."""

    imported: int
    """Decisions new to the ledger."""
    skipped: int
    """Lines that were not decisions (counted in the ledger too)."""


def import_journal(ledger: Ledger, state_dir: Path) -> JournalImport:
    """Move the hook's journal into the ledger; safe while hooks keep appending."""
    asides = guard_files.set_aside(str(state_dir))
    if not asides:
        return JournalImport(0, 0)
    rows, skipped = [], 0
    for path in asides:
        records, bad = guard_files.read_journal(path)
        skipped += bad
        for record in records:
            row = _row(record)
            if row is None:
                skipped += 1
            else:
                rows.append(row)
    with ledger.transaction():
        before = ledger.db.total_changes
        ledger.db.executemany(
            f"INSERT OR IGNORE INTO guard_decisions ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        imported = ledger.db.total_changes - before
        if skipped:
            ledger.db.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE"
                " SET value = CAST(value AS INTEGER) + excluded.value",
                (SKIPPED_KEY, skipped),
            )
    guard_files.discard(asides)
    return JournalImport(imported, skipped)


def _row(record: dict[str, Any]) -> tuple[Any, ...] | None:
    """A journal record as a table row; None when it is not a decision."""
    ts_ms, until_ms = record.get("ts_ms"), record.get("until_ms")
    if not isinstance(ts_ms, int) or isinstance(ts_ms, bool):
        return None
    if record.get("decision") not in DECISIONS:
        return None
    if until_ms is not None and not _is_int(until_ms):
        return None
    texts = [record.get(k) for k in ("event", "rule", "session_id", "entrypoint", "tool")]
    message = record.get("message")
    if not all(t is None or isinstance(t, str) for t in [*texts, message]):
        return None
    return (
        record["id"],
        ts_ms,
        record["decision"],
        *(t or "" for t in texts),
        message or "",
        until_ms,
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def recent_decisions(ledger: Ledger, *, limit: int = 20) -> list[GuardDecision]:
    """The latest decisions, newest first."""
    rows = ledger.db.execute(
        f"SELECT {_COLUMNS} FROM guard_decisions ORDER BY ts_ms DESC, id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [GuardDecision(*row) for row in rows]


def skipped_lines(ledger: Ledger) -> int:
    """How many journal lines were not decisions, ever."""
    row = ledger.db.execute("SELECT value FROM meta WHERE key = ?", (SKIPPED_KEY,)).fetchone()
    return int(row[0]) if row else 0
