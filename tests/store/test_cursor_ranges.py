"""Billed Cursor rows replace local estimates only inside the periods they cover."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.sources.cursor_exports.builders import V2, V3, Row, export
from tests.sources.cursor_local.builders import NOW_MS, create_store, split_composer
from tokenbuddy.cli.main import main
from tokenbuddy.core.records import CURSOR_LOCAL
from tokenbuddy.core.units import DAY_MS
from tokenbuddy.services.ingest import sync_cursor
from tokenbuddy.sources.cursor_csv import CLOCK_SLACK_MS
from tokenbuddy.sources.discovery import LogRoot
from tokenbuddy.store import cursor as cursor_store
from tokenbuddy.store import queries
from tokenbuddy.store.ledger import Ledger
from tokenbuddy.store.paths import app_paths
from tokenbuddy.store.vendors import CURSOR_LIST_PRICE, reconciliation

HOUR = 3_600_000
SLACK = CLOCK_SLACK_MS
DAYS = 90


def ledger() -> Ledger:
    paths = app_paths()
    paths.ensure()
    return Ledger(paths.ledger)


def requests_by_source(db: Ledger) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in queries.model_rows(db, queries.RequestFilter()):
        source = row.key["source"]
        counts[source] = counts.get(source, 0) + row.totals.requests
    return counts


def local_months(tmp_path: Path) -> list[int]:
    """A local store with one estimated request a day for 90 days; returns their times."""
    user_dir = tmp_path / "Cursor" / "User"
    store = create_store(user_dir)
    stamps = [NOW_MS - day * DAY_MS for day in range(DAYS, 0, -1)]
    split_composer(store, "long", [("claude-4.5-sonnet", s, (1000, 300)) for s in stamps])
    with ledger() as db:
        sync_cursor(db, [LogRoot(CURSOR_LOCAL, user_dir, "test")])
        db.refresh_rollup()
    return stamps


def import_text(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert main(["import", "cursor-csv", str(path)]) == 0


def test_a_billed_week_inside_months_of_estimates(tmp_path: Path) -> None:
    stamps = local_months(tmp_path)
    week = stamps[40:47]
    import_text(tmp_path, "week.csv", export(V2, [Row(s + 5_000, cost="$0.50") for s in week]))
    with ledger() as db:
        counts = requests_by_source(db)
        ranges = cursor_store.billed_ranges(db.db)
    # The export bills from its first row to its last (give or take a few minutes): the
    # week's estimates give way to the billed rows, and the months around it still count.
    assert ranges == [(week[0] + 5_000 - SLACK, week[-1] + 5_000 + SLACK)]
    assert counts == {"cursor": 7, "cursor-local": DAYS - 7}


def test_overlapping_imports_never_double_count_and_ranges_merge(tmp_path: Path) -> None:
    stamps = local_months(tmp_path)
    first = [Row(s + 5_000) for s in stamps[10:20]]
    second = [Row(s + 5_000) for s in stamps[15:25]]
    import_text(tmp_path, "a.csv", export(V2, first))
    import_text(tmp_path, "a-again.csv", export(V2, first))
    import_text(tmp_path, "b.csv", export(V2, second))
    with ledger() as db:
        counts = requests_by_source(db)
        ranges = cursor_store.billed_ranges(db.db)
    assert counts["cursor"] == 15
    assert ranges == [(stamps[10] + 5_000 - SLACK, stamps[24] + 5_000 + SLACK)]
    assert counts["cursor-local"] == DAYS - 15


def test_an_export_without_cost_is_an_estimate_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stamps = local_months(tmp_path)
    rows = [Row(s + 5_000, kind="Included") for s in stamps[-3:]]
    rows.append(Row(stamps[-1] + 9_000, kind="Errored, No Charge"))
    rows.append(Row(stamps[-1] + 10_000, model="composer-1.5"))
    import_text(tmp_path, "v3.csv", export(V3, rows))
    out = capsys.readouterr().out
    assert "(1 v3 export)" in out
    assert "1 errored, aborted or free requests: kept with their tokens, $0 billed" in out
    assert (
        "4 requests without a billed cost (no Cost column)" in out and "1 of them unpriced" in out
    )
    with ledger() as db:
        stored = db.db.execute(
            "SELECT cost_usd, reported_cost_usd FROM requests WHERE source = 'cursor'"
            " ORDER BY ts_ms"
        ).fetchall()
        recon = reconciliation(db, NOW_MS - 5 * DAY_MS, NOW_MS)
    sonnet = 1500 * 3.75e-6 + 1000 * 3e-6 + 20000 * 0.3e-6 + 300 * 15e-6
    assert stored[0] == (pytest.approx(sonnet), None)
    assert stored[3] == (0.0, 0.0) and stored[4] == (None, None)
    # Days whose rows are all list-price estimates say so; a day with a billed figure
    # (the errored row's $0) is billed.
    by_day = {row.date: row.provider for row in recon.rows}
    assert sorted(by_day.values()) == ["cursor", CURSOR_LIST_PRICE, CURSOR_LIST_PRICE]


def test_reconcile_compares_only_inside_the_billed_period(tmp_path: Path) -> None:
    stamps = local_months(tmp_path)
    import_text(tmp_path, "w.csv", export(V2, [Row(s + 5_000) for s in stamps[50:52]]))
    with ledger() as db:
        recon = reconciliation(db, None, None)
    assert {row.provider for row in recon.rows} == {"cursor"}
    assert len(recon.rows) == 2
    assert recon.totals["billed_usd"] == pytest.approx(0.20)


def test_schema_8_ledgers_keep_their_imports_and_count_older_estimates(tmp_path: Path) -> None:
    """A ledger written before schema 9: an import keyed the old way, with the cache write
    taken as a difference, and every estimate before its newest row hidden."""
    stamps = local_months(tmp_path)
    old_key = f"cursor:csv:{stamps[30] + 5_000}:claude-4.5-sonnet:21800:0"
    with ledger() as db:
        db.db.execute(
            "INSERT INTO requests (dedup_key, source, ts_ms, session_id, project, model,"
            " input_tokens, output_tokens, cache_write_5m_tokens, cache_write_1h_tokens,"
            " cache_read_tokens, reasoning_tokens, web_search_requests, speed, inference_geo,"
            " is_sidechain, agent_id, agent_type, cost_usd, total_tokens) VALUES"
            " (?, 'cursor', ?, '', '', 'claude-4.5-sonnet', 1000, 300, 500, 0, 20000, 0, 0,"
            " '', '', 0, '', '', 0.1, 21800)",
            (old_key, stamps[30] + 5_000),
        )
    path = app_paths().ledger
    with sqlite3.connect(path) as raw:
        raw.execute("DROP TABLE cursor_billed_ranges")
        raw.execute("ALTER TABLE cursor_composers DROP COLUMN estimated_tokens")
        raw.execute("CREATE TABLE billed_until (source TEXT PRIMARY KEY, until_ms INTEGER)")
        raw.execute("INSERT INTO billed_until VALUES ('cursor-local', ?)", (stamps[30] + 5_000,))
        raw.execute("PRAGMA user_version = 8")
    raw.close()
    import_text(tmp_path, "same.csv", export(V2, [Row(stamps[30] + 5_000)]))
    with ledger() as db:
        rows = db.db.execute(
            "SELECT cache_write_5m_tokens, reported_cost_usd FROM requests WHERE source = 'cursor'"
        ).fetchall()
        db.refresh_rollup()
        counts = requests_by_source(db)
    # Re-keyed and corrected, so the same row is not imported twice; the estimates before
    # it count again, and only its own day's gives way.
    assert rows == [(1500, 0.1)]
    assert counts == {"cursor": 1, "cursor-local": DAYS - 1}
