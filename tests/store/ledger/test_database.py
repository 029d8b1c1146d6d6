"""The open ledger: a private file, and writes grouped in one transaction."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tokenbuddy.errors import LedgerError
from tokenbuddy.store.ledger import Ledger


def test_ledger_file_is_created_with_private_permissions(tmp_path: Path) -> None:
    Ledger(tmp_path / "ledger.sqlite3").close()
    assert os.stat(tmp_path / "ledger.sqlite3").st_mode & 0o077 == 0


def test_writes_in_one_transaction_land_together_or_not_at_all(ledger: Ledger) -> None:
    with ledger.transaction():
        ledger.db.execute("INSERT INTO meta VALUES ('k', 'v')")
        ledger.db.execute("INSERT INTO dirty_buckets VALUES (7)")
    with pytest.raises(LedgerError, match="cannot write the ledger"), ledger.transaction():
        ledger.db.execute("INSERT INTO dirty_buckets VALUES (8)")
        ledger.db.execute("INSERT INTO dirty_buckets VALUES (7)")
    assert ledger.db.execute("SELECT bucket FROM dirty_buckets").fetchall() == [(7,)]
    assert ledger.db.execute("SELECT value FROM meta WHERE key = 'k'").fetchall() == [("v",)]
