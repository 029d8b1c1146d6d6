"""Staging files: where each parsing process writes its rows during a bulk load.

Upserting tens of thousands of rows into the ledger one by one, in random key
order, costs more than parsing them. In a bulk load each parsing process
appends its usage records to a private SQLite file with no index (cheap, and in
parallel), and the ledger then prices and merges every staging file in one
transaction (see ``Ledger.commit_staged``).
"""

from __future__ import annotations

import os
import sqlite3
from typing import TYPE_CHECKING, Any

from tokenbuddy.core.records import UsageRecord

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

_PREFIX = "stage-"
STAGING_COLUMNS = UsageRecord._fields
"""A staging file's ``staging`` table: the records as parsed; the merge prices them."""
STAGED_FILES_COLUMNS = ("path", "first_row", "last_row")
"""A staging file's ``staged_files`` table: which rowids of ``staging`` each log file filled."""


class StagingFile:
    """One process's staging file; rows are visible to the merge once :meth:`add` returns."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = directory / f"{_PREFIX}{os.getpid()}.sqlite3"
        self.path.unlink(missing_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(f"CREATE TABLE staging ({', '.join(STAGING_COLUMNS)})")
        self._db.execute(f"CREATE TABLE staged_files ({', '.join(STAGED_FILES_COLUMNS)})")
        self._insert = "INSERT INTO staging VALUES ({})".format(
            ", ".join("?" * len(STAGING_COLUMNS))
        )
        self._rows = 0
        """Rows staged so far: ``staging`` is append-only, so its rowids run 1, 2, 3..."""

    def add(self, files: Iterable[tuple[str, Sequence[tuple[Any, ...]]]]) -> None:
        """Append the rows read from each (file path, rows), in one transaction.

        The rows are stored as they are (a path on every row would cost a copy of
        each row and bytes in every record); ``staged_files`` maps each path to the
        rowids its rows took. One transaction per batch, not per file, writes each
        page once.
        """
        staged = self._rows
        self._db.execute("BEGIN")
        try:
            for file_path, rows in files:
                # Exact tuples bind by direct indexing; a NamedTuple goes through the
                # sequence protocol, which costs a third more per row.
                self._db.executemany(self._insert, map(tuple, rows))
                self._db.execute(
                    "INSERT INTO staged_files VALUES (?, ?, ?)",
                    (file_path, staged + 1, staged + len(rows)),
                )
                staged += len(rows)
        except BaseException:
            if self._db.in_transaction:  # SQLite ends it itself on a full disk
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        self._rows = staged

    def close(self) -> None:
        """Close the connection; the file stays for the merge."""
        self._db.close()


def staging_dir(ledger_path: Path) -> Path:
    """Where the bulk loads into the ledger at ``ledger_path`` keep their staging files."""
    return ledger_path.parent / "staging"


def clear_stale(directory: Path) -> None:
    """Remove staging files left by processes that are gone (killed mid-load)."""
    if not directory.is_dir():
        return
    for entry in directory.iterdir():
        name = entry.name
        if not name.startswith(_PREFIX):
            continue
        pid = name.removeprefix(_PREFIX).split(".", 1)[0]
        if not pid.isdigit() or not process_alive(int(pid)):
            entry.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    """Whether a process of this id runs (one of another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
