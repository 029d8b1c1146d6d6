"""This machine's side of team sync: a small SQLite file beside the ledger.

It holds the machine id (a uuid4 made once), whether sync is on, the alias to
publish, the fingerprint of every day last pushed (so only changed days are
sent again), and the retry state. The DSN itself lives only in the keyring.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tokenbuddy.errors import LedgerError
from tokenbuddy.transaction import Transaction

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date
    from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pushed_days (day TEXT PRIMARY KEY, fingerprint TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class RetryState:
    """Consecutive failures and when the next automatic attempt is due."""

    failures: int = 0
    next_attempt_ms: int = 0
    last_error: str = ""
    last_success_ms: int | None = None


class SyncState:
    """The open state file. Use as a context manager."""

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self._db.executescript(_SCHEMA)
        except (sqlite3.DatabaseError, OSError) as error:
            raise LedgerError(f"cannot open the team sync state at {path}: {error}") from error

    def __enter__(self) -> SyncState:
        return self

    def __exit__(self, *exc: object) -> None:
        self._db.close()

    def get(self, key: str) -> str | None:
        """One stored value."""
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, **values: str | None) -> None:
        """Store (or, with None, forget) values in one transaction."""
        with Transaction(self._db):
            for key, value in values.items():
                if value is None:
                    self._db.execute("DELETE FROM settings WHERE key = ?", (key,))
                else:
                    self._db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, value))

    def machine_id(self) -> str:
        """This machine's id, made on first use and kept."""
        existing = self.get("machine_id")
        if existing:
            return existing
        with Transaction(self._db):
            self._db.execute(
                "INSERT OR IGNORE INTO settings VALUES ('machine_id', ?)", (str(uuid.uuid4()),)
            )
        return str(self.get("machine_id"))

    @property
    def joined(self) -> bool:
        """True once ``team join`` succeeded here (and until ``team leave``)."""
        return self.get("joined") == "1"

    def bind_server(self, server_key: str) -> None:
        """Forget what was pushed when the team server or member changes."""
        if self.get("server") != server_key:
            with Transaction(self._db):
                self._db.execute("DELETE FROM pushed_days")
                self._db.execute(
                    "INSERT OR REPLACE INTO settings VALUES ('server', ?)", (server_key,)
                )

    def pushed(self) -> dict[str, str]:
        """Fingerprint of each day as last pushed, by ISO day."""
        return dict(self._db.execute("SELECT day, fingerprint FROM pushed_days"))

    def mark_pushed(self, fingerprints: Mapping[date, str]) -> None:
        """Remember the days a committed batch carried."""
        with Transaction(self._db):
            self._db.executemany(
                "INSERT OR REPLACE INTO pushed_days VALUES (?, ?)",
                ((day.isoformat(), value) for day, value in fingerprints.items()),
            )

    def forget_pushed(self) -> None:
        """Send every day again on the next sync (``team sync --full``)."""
        with Transaction(self._db):
            self._db.execute("DELETE FROM pushed_days")

    def retry(self) -> RetryState:
        """The retry state."""
        success = self.get("last_success_ms")
        return RetryState(
            failures=int(self.get("failures") or 0),
            next_attempt_ms=int(self.get("next_attempt_ms") or 0),
            last_error=self.get("last_error") or "",
            last_success_ms=int(success) if success else None,
        )

    def record_failure(self, error: str, next_attempt_ms: int) -> None:
        """One more failure; no automatic attempt before ``next_attempt_ms``."""
        failures = self.retry().failures + 1
        self.put(failures=str(failures), next_attempt_ms=str(next_attempt_ms), last_error=error)

    def record_success(self, now_ms: int) -> None:
        """A sync went through: clear the retry state."""
        self.put(failures=None, next_attempt_ms=None, last_error=None, last_success_ms=str(now_ms))
