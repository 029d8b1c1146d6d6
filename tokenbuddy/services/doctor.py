"""The diagnosis ``tokenbuddy doctor`` prints: where tokenbuddy looks, what it read, what it
skipped and why, and what is wrong with the settings."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from tokenbuddy import __version__
from tokenbuddy.core.agents import agent_name
from tokenbuddy.errors import LedgerCorruptError
from tokenbuddy.services.recovery import recover
from tokenbuddy.services.session import Session, open_session, session_roots
from tokenbuddy.sources import registry
from tokenbuddy.store import cursor as cursor_store
from tokenbuddy.store import queries
from tokenbuddy.store.ledger import Ledger, backups
from tokenbuddy.store.paths import app_paths

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from tokenbuddy.store.ledger import StoredFile


def diagnose(*, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Bring the ledger up to date, then gather the diagnosis."""
    session = open_session(settings=True, progress=progress)
    with session.ledger:
        return gather(session)


def repair() -> str | None:
    """``doctor --repair``: check the ledger and recover it from its newest sound backup if
    it is damaged; returns what the recovery did, or None when the ledger is sound."""
    paths = app_paths()
    paths.ensure()
    try:
        with Ledger(paths.ledger) as ledger:
            problems = ledger.integrity_problems()
    except LedgerCorruptError as error:
        problems = [str(error)]
    if not problems:
        return None
    return recover(paths.ledger, session_roots(paths), problems[0]).message()


def backup_rows(ledger_path: Path) -> list[dict[str, Any]]:
    """The ledger's daily copies, newest first."""
    return [
        {"day": backup.day.isoformat(), "path": str(backup.path), "bytes": backup.size}
        for backup in backups.backups(backups.backup_dir(ledger_path))
    ]


def gather(session: Session) -> dict[str, Any]:
    """Everything doctor reports, as one JSON-ready object."""
    stored = session.ledger.files()
    files_by_root: dict[str, int] = {}
    for path, entry in stored.items():
        if entry.missing:
            continue  # deleted since it was read: its requests stay, the file is gone
        for root in session.roots:
            if entry.cursor.source == root.source and path.startswith(f"{root.path}{os.sep}"):
                files_by_root[str(root.path)] = files_by_root.get(str(root.path), 0) + 1
    skipped: dict[str, int] = {}
    notes: dict[str, int] = {}
    for entry in stored.values():
        for reason, count in entry.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + count
        for fact, count in entry.notes.items():
            notes[fact] = notes.get(fact, 0) + count
    ledger = session.ledger
    requests, first_ms, last_ms = queries.request_span(ledger)
    by_source = queries.requests_by_source(ledger)
    return {
        "version": __version__,
        "ledger": str(session.paths.ledger),
        "config_file": str(session.paths.config_file),
        "config_file_exists": session.paths.config_file.exists(),
        "cache_dir": str(session.paths.cache_dir),
        "state_dir": str(session.paths.state_dir),
        "log_roots": [
            {
                "source": root.source,
                "path": str(root.path),
                "origin": root.origin,
                "exists": root.exists,
                "files": files_by_root.get(str(root.path), 0),
            }
            for root in session.roots
        ],
        "files": {
            "known": len(stored),
            "missing_from_disk": sum(1 for f in stored.values() if f.missing),
            "unreadable": sum(1 for f in stored.values() if f.error),
            "waiting_for_line_end": sum(1 for f in stored.values() if f.cursor.pending_bytes),
        },
        "agents": agent_rows(session, stored, by_source),
        "lines_read": sum(f.lines for f in stored.values()),
        "lines_skipped": skipped,
        "notes": notes,
        "requests": requests,
        "first_request_ms": first_ms,
        "last_request_ms": last_ms,
        "unpriced_models": queries.unpriced_models(ledger, queries.RequestFilter()),
        "cursor": {
            **cursor_store.doctor_report(ledger),
            "unknown_token_requests": cursor_store.unknown_token_requests(ledger),
        },
        # A file that failed on this pass is also stored with its error: list it once.
        "errors": list(
            dict.fromkeys([f.error for f in stored.values() if f.error] + session.summary.errors)
        ),
        "config_problems": session.problems,
        "integrity_problems": ledger.integrity_problems(),
        "backups": backup_rows(session.paths.ledger),
        "not_regular_files": session.summary.not_regular,
    }


def agent_rows(
    session: Session, stored: Mapping[str, StoredFile], by_source: Mapping[str, queries.RequestSpan]
) -> list[dict[str, Any]]:
    """One row per agent tokenbuddy reads, in the registry's order (then any other source
    holding requests, such as billed Cursor rows): where it looked, what it read, and what
    it skipped and why."""
    names = [source.name for source in registry.LOG_SOURCES]
    names += sorted(set(by_source) - set(names))
    rows = []
    for name in names:
        files = [entry for entry in stored.values() if entry.cursor.source == name]
        skipped: dict[str, int] = {}
        notes: dict[str, int] = {}
        for entry in files:
            for reason, count in entry.skipped.items():
                skipped[reason] = skipped.get(reason, 0) + count
            for fact, count in entry.notes.items():
                notes[fact] = notes.get(fact, 0) + count
        span = by_source.get(name, queries.RequestSpan(0, None, None))
        roots = [root for root in session.roots if root.source == name]
        rows.append(
            {
                "source": name,
                "name": agent_name(name),
                "roots_found": sum(1 for root in roots if root.exists),
                "roots_searched": len(roots),
                "files": sum(1 for entry in files if not entry.missing),
                "requests": span.requests,
                "first_request_ms": span.first_ms,
                "last_request_ms": span.last_ms,
                "lines_read": sum(entry.lines for entry in files),
                "lines_skipped": skipped,
                "notes": notes,
            }
        )
    return rows
