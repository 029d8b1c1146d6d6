"""Migrations, a newer schema refused, and the time index rebuilt after a crash."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import environ_for
from tokenbuddy.errors import LedgerVersionError
from tokenbuddy.services.ingest import sync
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.store.ledger import SCHEMA_VERSION, Ledger

_ADDED_BY_8 = (
    "DROP TABLE cursor_billed_ranges",  # added by 9, with the column below
    "ALTER TABLE cursor_composers DROP COLUMN estimated_tokens",
    "ALTER TABLE requests DROP COLUMN reported_cost_usd",
    "ALTER TABLE requests DROP COLUMN billing_units",
    "ALTER TABLE usage_rollup DROP COLUMN reported_cost_usd",
    "ALTER TABLE usage_rollup DROP COLUMN reported_requests",
    "ALTER TABLE usage_rollup DROP COLUMN billing_units",
)


def _drop_schema_8(db: sqlite3.Connection) -> None:
    """Take a ledger back to schema 7: without what migrations 8 and 9 added."""
    for statement in _ADDED_BY_8:
        db.execute(statement)


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
        _drop_schema_8(db)
        db.execute("DROP TABLE prompts")
        db.execute("DROP TABLE announced_alerts")
        db.execute("ALTER TABLE requests DROP COLUMN entrypoint")
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
        _drop_schema_8(db)
        db.execute("DROP TABLE guard_decisions")
        db.execute("ALTER TABLE requests DROP COLUMN entrypoint")  # added by 7
        db.execute("PRAGMA user_version = 5")
    with Ledger(path) as ledger:
        assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 9
        ledger.db.execute(
            "INSERT INTO guard_decisions (id, ts_ms, decision, event) VALUES ('a', 1, 'block', 'x')"
        )
        for statement in _statements(_MIGRATIONS[6]):  # a second run changes nothing
            ledger.db.execute(statement)
        assert ledger.db.execute("SELECT COUNT(*) FROM guard_decisions").fetchone()[0] == 1
    with Ledger(path) as ledger:
        assert ledger.db.execute("SELECT id FROM guard_decisions").fetchall() == [("a",)]


_FIGURES = (
    "SELECT COUNT(*), TOTAL(cost_usd), SUM(input_tokens), SUM(output_tokens),"
    " SUM(cache_write_5m_tokens + cache_write_1h_tokens), SUM(cache_read_tokens),"
    " GROUP_CONCAT(DISTINCT session_id) FROM requests"
)
_ROLLUP = "SELECT COUNT(*), TOTAL(cost_usd), SUM(requests), SUM(input_tokens) FROM usage_rollup"


def test_upgrading_a_v6_ledger_fills_in_entrypoints_without_changing_a_count(
    tmp_path: Path, shared_fixtures: Path
) -> None:
    """Schema 7 adds each request's entrypoint: the logs still on disk are read once more
    and fill it in; the requests of a log deleted since keep an empty one."""
    logs = tmp_path / "logs"
    shutil.copytree(shared_fixtures / "claude", logs / "claude")
    shutil.copytree(shared_fixtures / "codex", logs / "codex")
    roots = log_roots(environ_for(logs / "claude", logs / "codex"), tmp_path)
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as ledger:
        sync(ledger, roots)
        before = _state(ledger)
        expected = _entrypoints(ledger)
    gone_id = "44ef5cbf-9cc3-4f7b-ac40-337a4d39713b"  # a session without subagent files
    gone = next((logs / "claude").rglob(f"{gone_id}.jsonl"))
    gone_requests = expected.pop(("claude-code", gone_id, "cli"))
    gone.unlink()
    with sqlite3.connect(path) as db:  # the ledger as schema 6 left it
        _drop_schema_8(db)
        db.execute("ALTER TABLE requests DROP COLUMN entrypoint")
        db.execute("PRAGMA user_version = 6")
    with Ledger(path) as ledger:
        assert ledger.db.execute("SELECT COUNT(*) FROM files WHERE missing = 0").fetchone() == (0,)
        summary = sync(ledger, roots)
        ledger.refresh_rollup()
        after = _state(ledger)
        filled = _entrypoints(ledger)
    assert summary.files_read > 0 and summary.errors == []
    assert after == before
    empty = filled.pop(("claude-code", gone_id, ""))
    assert filled == expected
    assert empty == gone_requests


def _state(ledger: Ledger) -> tuple[object, ...]:
    """Every figure an upgrade must leave alone: requests, rollup, prompts, limits."""
    db = ledger.db
    return (
        db.execute(_FIGURES).fetchone(),
        db.execute(_ROLLUP).fetchone(),
        db.execute("SELECT COUNT(*) FROM prompts").fetchone(),
        db.execute("SELECT COUNT(*) FROM rate_limits").fetchone(),
    )


def _entrypoints(ledger: Ledger) -> dict[tuple[str, str, str], int]:
    """Requests per (source, session, entrypoint) of the main conversation files."""
    rows = ledger.db.execute(
        "SELECT source, session_id, entrypoint, COUNT(*) FROM requests GROUP BY 1, 2, 3"
    )
    return {(source, sid, entry): count for source, sid, entry, count in rows}
