"""The shared SQLite write transaction: all or nothing, errors worded for the user on request."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tokenbuddy.errors import LedgerError
from tokenbuddy.transaction import Transaction


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None, timeout=0)
    connection.execute("CREATE TABLE items (name TEXT PRIMARY KEY)")
    yield connection
    connection.close()


def names(db: sqlite3.Connection) -> list[str]:
    return [name for (name,) in db.execute("SELECT name FROM items ORDER BY name")]


def test_writes_commit_together(db: sqlite3.Connection) -> None:
    with Transaction(db):
        db.execute("INSERT INTO items VALUES ('a')")
        db.execute("INSERT INTO items VALUES ('b')")
    assert names(db) == ["a", "b"]
    assert not db.in_transaction


def test_any_exception_rolls_every_write_back(db: sqlite3.Connection) -> None:
    with pytest.raises(RuntimeError), Transaction(db):
        db.execute("INSERT INTO items VALUES ('a')")
        raise RuntimeError("stopped")
    assert names(db) == []
    assert not db.in_transaction


def test_sqlite_errors_pass_unchanged_without_an_error_class(db: sqlite3.Connection) -> None:
    with pytest.raises(sqlite3.IntegrityError), Transaction(db):
        db.execute("INSERT INTO items VALUES ('a')")
        db.execute("INSERT INTO items VALUES ('a')")
    assert names(db) == []


def test_sqlite_errors_are_worded_for_the_user_with_an_error_class(
    db: sqlite3.Connection,
) -> None:
    with (
        pytest.raises(LedgerError, match=r"^cannot write the ledger: UNIQUE"),
        Transaction(db, error=LedgerError, subject="the ledger"),
    ):
        db.execute("INSERT INTO items VALUES ('a')")
        db.execute("INSERT INTO items VALUES ('a')")
    assert names(db) == []


def test_a_busy_database_is_reported_when_the_transaction_starts(
    db: sqlite3.Connection, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        with (
            pytest.raises(
                LedgerError,
                match=r"^the ledger is locked by another process beyond the timeout \(database",
            ),
            Transaction(db, error=LedgerError, subject="the ledger"),
        ):
            pytest.fail("the body must not run")
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_full_disk_is_one_clear_error_with_nothing_written(db: sqlite3.Connection) -> None:
    """SQLite ends the transaction itself on SQLITE_FULL: rolling back again must not
    replace the real error with "cannot rollback - no transaction is active"."""
    db.execute("INSERT INTO items VALUES ('kept')")
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages + 2}")
    with (
        pytest.raises(LedgerError, match=r"^cannot write the ledger: the disk is full \("),
        Transaction(db, error=LedgerError, subject="the ledger"),
    ):
        db.executemany("INSERT INTO items VALUES (?)", ((f"{n:0500}",) for n in range(2000)))
    assert names(db) == ["kept"]
    assert not db.in_transaction
