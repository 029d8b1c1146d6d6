"""Staging files: where each parsing process writes its rows during a bulk load.

Upserting tens of thousands of rows into the ledger one by one, in random key
order, costs more than parsing them. In a bulk load each parsing process
appends its priced rows to a private SQLite file with no index (cheap, and in
parallel), and the ledger then merges every staging file in key order, in one
transaction (see ``Ledger.commit_staged``).
"""

from __future__ import annotations

import os
import sqlite3
from typing import TYPE_CHECKING, Any

from tokenbuddy.store.ledger import STAGING_COLUMNS

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

_PREFIX = "stage-"


class StagingFile:
    """One process's staging file; rows are durable once :meth:`add` returns."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = directory / f"{_PREFIX}{os.getpid()}.sqlite3"
        self.path.unlink(missing_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(f"CREATE TABLE staging ({', '.join(STAGING_COLUMNS)})")
        self._insert = "INSERT INTO staging VALUES ({})".format(
            ", ".join("?" * len(STAGING_COLUMNS))
        )

    def add(self, file_path: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Append the rows read from ``file_path``."""
        self._db.execute("BEGIN")
        self._db.executemany(self._insert, [(*row, file_path) for row in rows])
        self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the connection; the file stays for the merge."""
        self._db.close()


def clear_stale(directory: Path) -> None:
    """Remove staging files left by processes that are gone (killed mid-load)."""
    if not directory.is_dir():
        return
    for entry in directory.iterdir():
        name = entry.name
        if not name.startswith(_PREFIX):
            continue
        pid = name.removeprefix(_PREFIX).split(".", 1)[0]
        if not pid.isdigit() or not _alive(int(pid)):
            entry.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
