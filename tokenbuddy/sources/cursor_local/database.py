"""Opening Cursor's SQLite files for a consistent read that never gets in Cursor's way.

Files are opened read-only (``mode=ro``), which in WAL mode never blocks Cursor and
reads one consistent snapshot inside a read transaction. When that fails (the file is
locked exclusively, or its ``-shm`` cannot be opened), the database and its ``-wal`` or
``-journal`` are copied to a private temporary directory and read from there; SQLite
then replays or rolls back the copy to the last committed state.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tokenbuddy.core.cursor_reads import DbStat

if TYPE_CHECKING:
    from collections.abc import Iterator

BUSY_TIMEOUT_S = 0.5


def db_stat(path: Path) -> DbStat | None:
    """The database's and its WAL's size and mtime; None when the database is gone, or is
    no regular file (a FIFO would block SQLite's open)."""
    try:
        main = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(main.st_mode):
        return None
    try:
        wal = os.stat(f"{path}-wal")
        wal_size, wal_mtime = wal.st_size, wal.st_mtime_ns
    except OSError:
        wal_size, wal_mtime = 0, 0
    return DbStat(main.st_size, main.st_mtime_ns, wal_size, wal_mtime)


@contextmanager
def open_consistent(path: Path) -> Iterator[tuple[sqlite3.Connection, str]]:
    """A connection to a consistent snapshot of ``path``, never writing Cursor's files.

    Yields (connection, mode), mode ``read-only`` or ``copy``. Raises ``sqlite3.Error``
    or ``OSError`` when neither way can read the database.
    """
    try:
        db: sqlite3.Connection | None = _open_snapshot(f"{path.as_uri()}?mode=ro")
    except sqlite3.Error:
        db = None
    if db is not None:
        try:
            yield db, "read-only"
        finally:
            db.close()
        return
    with _copied(path) as copy:
        db = _open_snapshot(Path(copy).as_uri())
        try:
            yield db, "copy"
        finally:
            db.close()


def _open_snapshot(uri: str) -> sqlite3.Connection:
    """Open ``uri`` and start a read transaction (one snapshot for every query)."""
    db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    try:
        db.execute("BEGIN")
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        db.close()
        raise
    return db


@contextmanager
def _copied(path: Path) -> Iterator[str]:
    """Copy the database with its ``-wal`` and ``-journal`` to a private temporary dir."""
    import shutil  # the rare busy case pays for these, not every pass
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tokenbuddy-cursor-") as scratch:
        target = os.path.join(scratch, path.name)
        shutil.copyfile(path, target)
        for suffix in ("-wal", "-journal"):
            if os.path.exists(f"{path}{suffix}"):
                shutil.copyfile(f"{path}{suffix}", target + suffix)
        yield target
