"""Migrations, a newer schema refused, and the time index rebuilt after a crash."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import environ_for
from tokenbuddy.errors import LedgerVersionError
from tokenbuddy.services.ingest import sync
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.store.ledger import SCHEMA_VERSION, Ledger


def test_a_newer_schema_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(LedgerVersionError, match="upgrade tokenbuddy"):
        Ledger(path)


def test_bulk_load_rebuilds_the_time_index_even_after_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path)
    with pytest.raises(RuntimeError), ledger.bulk_load():
        raise RuntimeError("killed")
    assert _has_ts_index(ledger)
    ledger.db.execute("DROP INDEX requests_ts")
    ledger.close()
    assert _has_ts_index(Ledger(path))


def _has_ts_index(ledger: Ledger) -> bool:
    return (
        ledger.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'requests_ts'"
        ).fetchone()
        is not None
    )


def test_upgrading_a_v1_ledger_rereads_the_logs_once_without_double_counting(
    tmp_path: Path, shared_fixtures: Path
) -> None:
    path = tmp_path / "ledger.sqlite3"
    roots = log_roots(environ_for(shared_fixtures / "claude", shared_fixtures / "codex"), tmp_path)
    with Ledger(path) as ledger:
        sync(ledger, roots)
        before = ledger.db.execute("SELECT COUNT(*), TOTAL(cost_usd) FROM requests").fetchone()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE prompts")
        db.execute("DROP TABLE announced_alerts")
        db.execute("PRAGMA user_version = 1")
    with Ledger(path) as ledger:
        assert ledger.db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 0
        summary = sync(ledger, roots)
        after = ledger.db.execute("SELECT COUNT(*), TOTAL(cost_usd) FROM requests").fetchone()
        prompts = ledger.db.execute("SELECT COUNT(*) FROM prompts").fetchone()[0]
    assert summary.files_read > 0
    assert after == before
    assert prompts == 173 + 52


def test_a_schema_5_ledger_gains_the_guard_decisions_once(tmp_path: Path) -> None:
    from tokenbuddy.store.ledger.schema import _MIGRATIONS, _statements

    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE guard_decisions")
        db.execute("PRAGMA user_version = 5")
    with Ledger(path) as ledger:
        assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 6
        ledger.db.execute(
            "INSERT INTO guard_decisions (id, ts_ms, decision, event) VALUES ('a', 1, 'block', 'x')"
        )
        for statement in _statements(_MIGRATIONS[6]):  # a second run changes nothing
            ledger.db.execute(statement)
        assert ledger.db.execute("SELECT COUNT(*) FROM guard_decisions").fetchone()[0] == 1
    with Ledger(path) as ledger:
        assert ledger.db.execute("SELECT id FROM guard_decisions").fetchall() == [("a",)]
