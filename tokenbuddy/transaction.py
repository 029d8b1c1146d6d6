"""One write transaction on a SQLite connection, for the ledger and the team sync state.

Both open their connection in autocommit mode (``isolation_level=None``) and group
writes themselves. ``BEGIN IMMEDIATE`` takes the write lock at the start, so a
second writer waits for the first (up to the connection's busy timeout) instead of
failing half-way through. Any exception rolls back, and so does a COMMIT that
fails, so the connection is never left inside a transaction.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from tokenbuddy.sqlite_errors import worded

if TYPE_CHECKING:
    from tokenbuddy.errors import TokenBuddyError


class Transaction:
    """``with Transaction(db):`` BEGIN IMMEDIATE ... COMMIT, rolled back on any exception.

    With ``error``, SQLite's errors leave as that error, worded for the user and naming
    ``subject`` (``the ledger is locked by another process ...``, ``cannot write the
    ledger: the disk is full ...``, see :mod:`tokenbuddy.sqlite_errors`); without, they
    leave unchanged.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        *,
        error: type[TokenBuddyError] | None = None,
        subject: str = "the database",
    ) -> None:
        self._db = db
        self._error = error
        self._subject = subject

    def __enter__(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as failure:
            if self._error is None:
                raise
            raise worded(self._error, self._subject, failure) from failure

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.DatabaseError as failure:
                self._roll_back()
                self._raise_for_user(failure)
                raise
        self._roll_back()
        if isinstance(exc, sqlite3.DatabaseError):
            self._raise_for_user(exc)

    def _roll_back(self) -> None:
        """Roll back what is still open: SQLite itself ends the transaction on some errors
        (a full disk, an I/O error), and a second ROLLBACK would hide the first error."""
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _raise_for_user(self, failure: sqlite3.DatabaseError) -> None:
        """Raise ``failure`` as ``error`` when there is one; return otherwise."""
        if self._error is not None:
            raise worded(self._error, self._subject, failure) from failure
