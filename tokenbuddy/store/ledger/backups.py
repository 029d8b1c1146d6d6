"""Rotating daily copies of the ledger, and what to do with a damaged one.

A copy is taken with SQLite's online backup API, so it is consistent while other
processes keep writing, into a private temporary file that is synced and then renamed
into place: a copy is either whole or absent. One copy a day is kept, the newest
:data:`KEEP`. A damaged ledger is moved aside (never deleted: it may still hold days no
log has any more) and the newest copy that passes ``PRAGMA quick_check`` takes its place.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing, suppress
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from tokenbuddy.store.staging import process_alive

if TYPE_CHECKING:
    from pathlib import Path

KEEP = 7
"""Daily copies kept: a week of days to go back to."""
_PREFIX = "ledger-"
_SUFFIX = ".sqlite3"
_COMPANIONS = ("-wal", "-shm")
"""The files SQLite keeps beside a database in WAL mode: they belong to it."""
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Backup:
    """One daily copy of the ledger."""

    path: Path
    day: date
    size: int


def backup_dir(ledger_path: Path) -> Path:
    """Where the copies of the ledger at ``ledger_path`` live."""
    return ledger_path.parent / "backups"


def backups(directory: Path) -> list[Backup]:
    """The copies in ``directory``, newest first (half-written ones are never listed)."""
    if not directory.is_dir():
        return []
    found = []
    for entry in directory.iterdir():
        name = entry.name
        if not (name.startswith(_PREFIX) and name.endswith(_SUFFIX)):
            continue
        try:
            day = date.fromisoformat(name.removeprefix(_PREFIX).removesuffix(_SUFFIX))
            size = entry.stat().st_size
        except (ValueError, OSError):
            continue
        found.append(Backup(entry, day, size))
    return sorted(found, key=lambda backup: backup.day, reverse=True)


def is_due(directory: Path, today: date) -> bool:
    """Whether today's copy is still to be taken."""
    newest = backups(directory)
    return not newest or newest[0].day < today


def take(db: sqlite3.Connection, directory: Path, today: date) -> Backup:
    """Copy the open ledger ``db`` to today's backup, atomically, and drop the oldest
    copies beyond :data:`KEEP`."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    final = directory / f"{_PREFIX}{today.isoformat()}{_SUFFIX}"
    partial = directory / f".{final.name}.{os.getpid()}.partial"
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_CREAT | os.O_WRONLY, 0o600))
    try:
        with closing(sqlite3.connect(partial)) as copy:
            db.backup(copy)
            # A copy needs no WAL of its own: one self-contained file, renamed into place.
            copy.execute("PRAGMA journal_mode=DELETE")
        _sync(partial)
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _sync(directory)
    _prune(directory)
    return Backup(final, today, final.stat().st_size)


def _sync(path: Path) -> None:
    """Flush ``path`` (a file or a directory) to the disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _prune(directory: Path) -> None:
    for stale in backups(directory)[KEEP:]:
        stale.path.unlink(missing_ok=True)
    for entry in directory.glob(".*.partial"):
        pid = entry.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not process_alive(int(pid)):
            entry.unlink(missing_ok=True)


def quick_check(db: sqlite3.Connection) -> list[str]:
    """``PRAGMA quick_check``: empty when the database is sound, else its problems."""
    rows = [str(row[0]) for row in db.execute("PRAGMA quick_check(20)")]
    return [] if rows == ["ok"] else rows


def is_sound(path: Path) -> bool:
    """Whether the database at ``path`` opens and passes ``quick_check``."""
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            return not quick_check(db)
    except sqlite3.DatabaseError:
        return False


def move_aside(ledger_path: Path, stamp: str) -> Path:
    """Rename the ledger (with its WAL files) to ``<name>.damaged-<stamp>``; returns where."""
    aside = ledger_path.with_name(f"{ledger_path.name}.damaged-{stamp}")
    os.replace(ledger_path, aside)
    for suffix in _COMPANIONS:
        companion = ledger_path.with_name(ledger_path.name + suffix)
        with suppress(FileNotFoundError):
            os.replace(companion, aside.with_name(aside.name + suffix))
    return aside


def restore(directory: Path, ledger_path: Path) -> Backup | None:
    """Put the newest sound copy in place of the (moved) ledger; None when there is none."""
    for backup in backups(directory):
        if not is_sound(backup.path):
            continue
        partial = ledger_path.with_name(f".{ledger_path.name}.restoring")
        with (
            closing(sqlite3.connect(f"{backup.path.as_uri()}?mode=ro", uri=True)) as source,
            closing(sqlite3.connect(partial)) as target,
        ):
            source.backup(target)
        os.chmod(partial, 0o600)
        _sync(partial)
        os.replace(partial, ledger_path)
        return backup
    return None


def requests_per_day(path: Path) -> dict[str, int] | None:
    """Requests per UTC day in the database at ``path``, read as far as it can be (a
    damaged ledger may still answer); None when it cannot be read at all."""
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            rows = db.execute(
                "SELECT ts_ms / ?, COUNT(*) FROM requests GROUP BY 1", (DAY_MS,)
            ).fetchall()
    except sqlite3.DatabaseError:
        return None
    return {_day(int(day)): int(count) for day, count in rows}


def _day(index: int) -> str:
    return date.fromordinal(date(1970, 1, 1).toordinal() + index).isoformat()
