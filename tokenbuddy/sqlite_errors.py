"""SQLite's storage errors worded for the user, by error code, for the ledger and the team
sync state alike.

A full disk, a read-only file, a lock held past the busy timeout, a permission problem
and a damaged file each get one sentence that says which it is, with SQLite's own words
after it in parentheses.
"""

from __future__ import annotations

import sqlite3

from tokenbuddy.errors import (
    LedgerCorruptError,
    LedgerError,
    LedgerReadOnlyError,
    TokenBuddyError,
)

FULL = 13
READONLY = 8
BUSY = 5
LOCKED = 6
CANTOPEN = 14
PERM = 3
AUTH = 23
CORRUPT = 11
NOTADB = 26
IOERR = 10


def primary_code(error: sqlite3.Error) -> int:
    """SQLite's primary result code of ``error`` (its extended code's low byte), or -1."""
    code = getattr(error, "sqlite_errorcode", None)
    return -1 if code is None else int(code) & 0xFF


def is_corruption(error: BaseException) -> bool:
    """Whether ``error`` says the database file itself is damaged (or is no database)."""
    if not isinstance(error, sqlite3.DatabaseError):
        return False
    if primary_code(error) in {CORRUPT, NOTADB}:
        return True
    text = str(error)
    return "malformed" in text or "file is not a database" in text


_WORDING = {
    FULL: "cannot write {subject}: the disk is full ({error})",
    READONLY: "{subject} is read-only ({error})",
    BUSY: "{subject} is locked by another process beyond the timeout ({error})",
    LOCKED: "{subject} is locked by another process beyond the timeout ({error})",
    CANTOPEN: "cannot open {subject}: no permission, or its directory is missing ({error})",
    PERM: "cannot open {subject}: no permission ({error})",
    AUTH: "cannot open {subject}: no permission ({error})",
    IOERR: "cannot read or write {subject}: a disk I/O error ({error})",
}
"""One sentence per primary result code; anything else is ``cannot write SUBJECT: ...``."""


def describe(subject: str, error: sqlite3.Error) -> str:
    """One sentence on what went wrong with ``subject`` (``the ledger at PATH``)."""
    if is_corruption(error):
        return f"{subject} is damaged ({error})"
    wording = _WORDING.get(primary_code(error), "cannot write {subject}: {error}")
    return wording.format(subject=subject, error=error)


def worded(kind: type[TokenBuddyError], subject: str, error: sqlite3.Error) -> TokenBuddyError:
    """``error`` as a ``kind`` worded for the user; a ledger's is the precise subclass."""
    if issubclass(kind, LedgerError):
        return ledger_error(subject, error)
    return kind(describe(subject, error))


def ledger_error(subject: str, error: sqlite3.Error) -> LedgerError:
    """``error`` as the ledger error it is: :class:`LedgerCorruptError` for a damaged file,
    :class:`LedgerReadOnlyError` for one that cannot be written."""
    kind = LedgerError
    if is_corruption(error):
        kind = LedgerCorruptError
    elif primary_code(error) in {READONLY, CANTOPEN, PERM, AUTH}:
        kind = LedgerReadOnlyError
    return kind(describe(subject, error))


def as_ledger_error(error: BaseException) -> LedgerError | None:
    """A SQLite error that escaped untranslated, worded for the user; None for others."""
    if isinstance(error, sqlite3.Error):  # the ledger's, or another database's on the way
        return ledger_error("a SQLite database", error)
    return None
