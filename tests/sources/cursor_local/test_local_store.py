"""Cursor's local chat store: reading, following, pricing and doctor, over built stores."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tokenbuddy.core.cursor_models import base_name, price_id
from tokenbuddy.core.records import CURSOR_LOCAL
from tokenbuddy.services.ingest import sync, sync_cursor, sync_paths
from tokenbuddy.sources.cursor_local import log_dirs as cursor_roots
from tokenbuddy.sources.discovery import LogRoot, log_roots
from tokenbuddy.store import cursor as cursor_store
from tokenbuddy.store import queries
from tokenbuddy.store.ledger import Ledger

from .builders import NOW_MS, create_store, iso, put, split_composer, workspace


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    return tmp_path / "Cursor" / "User"


def roots(user_dir: Path) -> list[LogRoot]:
    return [LogRoot(CURSOR_LOCAL, user_dir, "test")]


def local_rows(ledger: Ledger) -> list[tuple[object, ...]]:
    return ledger.db.execute(
        "SELECT session_id, project, model, input_tokens, output_tokens, cost_usd, ts_ms"
        " FROM requests WHERE source = 'cursor-local' ORDER BY ts_ms"
    ).fetchall()


def test_modern_split_storage_becomes_priced_requests_with_projects(
    tmp_path: Path, user_dir: Path
) -> None:
    """Shape: modern split storage (composerData headers + bubbleId keys, _v 3), with a
    workspace database mapping the composer to its folder."""
    path = create_store(user_dir)
    split_composer(
        path,
        "c1",
        [("claude-4.5-sonnet", NOW_MS - 60_000, (1200, 300)), ("gpt-5", NOW_MS, (800, 100))],
    )
    workspace(user_dir, "abc123", "/home/dev/shop", ["c1"])
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        summary = sync(ledger, roots(user_dir))
        rows = local_rows(ledger)
    assert summary.cursor_dbs_read == 1 and summary.requests_written == 2
    assert [r[:5] for r in rows] == [
        ("c1", "/home/dev/shop", "claude-4.5-sonnet", 1200, 300),
        ("c1", "/home/dev/shop", "gpt-5", 800, 100),
    ]
    sonnet_cost = 1200 * 3e-6 + 300 * 15e-6
    assert rows[0][5] == pytest.approx(sonnet_cost)
    assert rows[1][5] is not None and rows[1][5] > 0


def test_legacy_inline_conversation(tmp_path: Path, user_dir: Path) -> None:
    """Shape: legacy composer (_v 1) with its bubbles inline in ``conversation[]``, no
    bubbleId keys, and no workspace database (project unknown)."""
    path = create_store(user_dir, wal=False)
    put(
        path,
        "composerData:old",
        {
            "_v": 1,
            "composerId": "old",
            "createdAt": NOW_MS - 100_000,
            "lastUpdatedAt": NOW_MS,
            "conversation": [
                {"type": 1, "bubbleId": "b1", "modelInfo": {"modelName": "claude-4-sonnet"}},
                {"type": 2, "bubbleId": "b2", "tokenCount": {"inputTokens": 50, "outputTokens": 7}},
            ],
        },
    )
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync_cursor(ledger, roots(user_dir))
        rows = local_rows(ledger)
        report = cursor_store.doctor_report(ledger)
    assert [r[:5] for r in rows] == [("old", "", "claude-4-sonnet", 50, 7)]
    assert rows[0][6] == NOW_MS  # no createdAt on the bubble: the composer's lastUpdatedAt
    assert report["databases"][0]["versions"] == {"composerData _v=1": 1, "bubble _v=none": 2}


def test_missing_or_zero_token_counts_are_requests_with_unknown_tokens(
    tmp_path: Path, user_dir: Path
) -> None:
    """Shape: newer builds' assistant bubbles with ``tokenCount`` zero or absent."""
    path = create_store(user_dir)
    split_composer(
        path,
        "c2",
        [
            ("claude-4.5-sonnet", NOW_MS - 2000, (0, 0)),
            ("claude-4.5-sonnet", NOW_MS - 1000, None),
            ("claude-4.5-sonnet", NOW_MS, (10, 10)),
        ],
    )
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync_cursor(ledger, roots(user_dir))
        ledger.refresh_rollup()
        rows = local_rows(ledger)
        unknown = cursor_store.unknown_token_requests(ledger)
        totals = queries.bucket_totals(ledger, queries.RequestFilter())
        db_entry = cursor_store.doctor_report(ledger)["databases"][0]
        unpriced = queries.unpriced_models(ledger, queries.RequestFilter())
    assert [r[5] is None for r in rows] == [True, True, False]
    assert unknown == 2 and db_entry["unknown_tokens"] == 2
    assert sum(t.requests for _, t in totals) == 3
    assert unpriced == {}, "a priced model with unknown tokens is not an unpriced model"


def test_a_ledger_from_before_schema_5_stops_listing_unknown_tokens_as_unpriced(
    tmp_path: Path, user_dir: Path
) -> None:
    path = create_store(user_dir)
    split_composer(path, "c3", [("gpt-5", NOW_MS - 1000, None), ("composer-1.5", NOW_MS, (5, 5))])
    ledger_path = tmp_path / "ledger.sqlite3"
    with Ledger(ledger_path) as ledger:
        sync_cursor(ledger, roots(user_dir))
        ledger.refresh_rollup()
        # As schema 4 rolled up: every request without a cost counted as unpriced.
        ledger.db.execute(
            "UPDATE usage_rollup SET unpriced_requests = requests WHERE source = 'cursor-local'"
        )
        ledger.db.execute("ALTER TABLE requests DROP COLUMN entrypoint")  # added by 7
        for table, column in (
            ("requests", "reported_cost_usd"),  # added by 8
            ("requests", "billing_units"),
            ("usage_rollup", "reported_cost_usd"),
            ("usage_rollup", "reported_requests"),
            ("usage_rollup", "billing_units"),
            ("cursor_composers", "estimated_tokens"),  # added by 9
        ):
            ledger.db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        ledger.db.execute("PRAGMA user_version = 4")
        assert queries.unpriced_models(ledger, queries.RequestFilter()) == {
            "gpt-5": 1,
            "composer-1.5": 1,
        }
    with Ledger(ledger_path) as ledger:
        ledger.refresh_rollup()
        assert queries.unpriced_models(ledger, queries.RequestFilter()) == {"composer-1.5": 1}


def test_unknown_version_is_read_and_reported(tmp_path: Path, user_dir: Path) -> None:
    """Shape: split storage under a ``_v`` no documented shape describes (99)."""
    path = create_store(user_dir)
    split_composer(path, "c3", [("gpt-5", NOW_MS, (5, 5))], version=99)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync_cursor(ledger, roots(user_dir))
        versions = cursor_store.doctor_report(ledger)["databases"][0]["versions"]
        assert len(local_rows(ledger)) == 1
    assert versions["composerData _v=99"] == 1


def test_corrupt_values_are_skipped_and_counted(tmp_path: Path, user_dir: Path) -> None:
    """Shape: a composerData value that is not JSON, one that is a JSON list, and a
    corrupt bubble inside an otherwise good split-storage composer."""
    path = create_store(user_dir)
    split_composer(path, "good", [("gpt-5", NOW_MS, (5, 5))])
    put(path, "composerData:broken", b"{not json")
    put(path, "composerData:list", [1, 2])
    put(path, "bubbleId:good:zz", b"\x00\xff")
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        summary = sync_cursor(ledger, roots(user_dir))
        entry = cursor_store.doctor_report(ledger)["databases"][0]
        assert len(local_rows(ledger)) == 1
    assert not summary.errors
    assert entry["skipped"] == {
        "value that is not valid JSON": 2,
        "value that is not a JSON object": 1,
    }


def test_only_composers_whose_last_update_moved_are_reread(tmp_path: Path, user_dir: Path) -> None:
    """Shape: modern split storage; a second turn is added to one of two composers."""
    path = create_store(user_dir)
    split_composer(path, "a", [("gpt-5", NOW_MS - 5000, (5, 5))])
    split_composer(path, "b", [("gpt-5", NOW_MS - 4000, (6, 6))])
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync_cursor(ledger, roots(user_dir))
        unchanged = sync_cursor(ledger, roots(user_dir))
        assert unchanged.cursor_dbs_read == 0
        split_composer(path, "b", [("gpt-5", NOW_MS - 4000, (6, 6)), ("gpt-5", NOW_MS, (7, 7))])
        again = sync_cursor(ledger, roots(user_dir))
        assert again.cursor_dbs_read == 1
        assert again.requests_written == 2  # composer b only, both of its requests
        assert len(local_rows(ledger)) == 3


def test_store_held_open_for_writing_is_read_without_locking_cursor_out(
    tmp_path: Path, user_dir: Path
) -> None:
    """Shape: modern split storage in WAL mode while Cursor holds a write transaction
    (BEGIN IMMEDIATE) with an uncommitted bubble: the committed state is read, and the
    writer commits afterwards."""
    path = create_store(user_dir)
    split_composer(path, "w", [("gpt-5", NOW_MS - 1000, (5, 5))])
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    put(path, "composerData:pending", {"_v": 3, "lastUpdatedAt": NOW_MS}, writer)
    try:
        with Ledger(tmp_path / "ledger.sqlite3") as ledger:
            summary = sync_cursor(ledger, roots(user_dir))
            entry = cursor_store.doctor_report(ledger)["databases"][0]
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert not summary.errors and entry["read_mode"] == "read-only"
    assert entry["composers"] == 1


def test_exclusively_locked_store_is_read_from_a_copy(tmp_path: Path, user_dir: Path) -> None:
    """Shape: a rollback-journal store locked with BEGIN EXCLUSIVE mid-write (readers are
    refused): a private copy, rolled back to the last commit, is read instead."""
    path = create_store(user_dir, wal=False)
    split_composer(path, "x", [("gpt-5", NOW_MS, (5, 5))])
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    put(path, "composerData:uncommitted", {"_v": 3, "lastUpdatedAt": NOW_MS}, writer)
    try:
        with Ledger(tmp_path / "ledger.sqlite3") as ledger:
            summary = sync_cursor(ledger, roots(user_dir))
            entry = cursor_store.doctor_report(ledger)["databases"][0]
            rows = local_rows(ledger)
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    assert not summary.errors and entry["read_mode"] == "copy"
    assert entry["composers"] == 1 and len(rows) == 1


def test_wal_path_from_the_watcher_syncs_its_store(tmp_path: Path, user_dir: Path) -> None:
    """Shape: modern split storage; the watcher reports ``state.vscdb-wal``."""
    path = create_store(user_dir)
    split_composer(path, "c", [("gpt-5", NOW_MS, (5, 5))])
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        summary = sync_paths(ledger, [(f"{path}-wal", CURSOR_LOCAL)])
        assert summary.requests_written == 1


def test_no_cursor_dir_costs_nothing(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        summary = sync_cursor(ledger, roots(tmp_path / "absent"))
    assert summary.cursor_dbs_read == 0 and not summary.errors


def test_locations_by_platform_and_override(tmp_path: Path) -> None:
    home = tmp_path
    assert cursor_roots({}, home, "linux")[0].path == home / ".config" / "Cursor" / "User"
    mac = cursor_roots({}, home, "darwin")[0].path
    assert mac == home / "Library" / "Application Support" / "Cursor" / "User"
    win = cursor_roots({"APPDATA": str(tmp_path / "Roaming")}, home, "win32")[0].path
    assert win == tmp_path / "Roaming" / "Cursor" / "User"
    override = cursor_roots({"TOKENBUDDY_CURSOR_DIR": str(tmp_path / "U")}, home, "linux")
    assert [(r.path, r.origin) for r in override] == [(tmp_path / "U", "TOKENBUDDY_CURSOR_DIR")]
    windows_users = tmp_path / "mnt-c-Users"
    (windows_users / "dev" / "AppData" / "Roaming" / "Cursor" / "User").mkdir(parents=True)
    wsl = cursor_roots({"WSL_DISTRO_NAME": "Ubuntu"}, home, "linux", windows_users)
    assert [r.origin for r in wsl] == ["default", "WSL"]
    assert any(r.source == CURSOR_LOCAL for r in log_roots({}, home))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("claude-4.5-sonnet", ("anthropic", "claude-sonnet-4-5")),
        ("claude-4.5-sonnet-thinking", ("anthropic", "claude-sonnet-4-5")),
        ("claude-4.5-opus-high-thinking", ("anthropic", "claude-opus-4-5")),
        ("gpt-5", ("openai", "gpt-5")),
        ("gpt-5-high", ("openai", "gpt-5")),
        ("default", None),
        ("composer-1", None),
        ("some-future-model", None),
    ],
)
def test_alias_table(name: str, expected: tuple[str, str] | None) -> None:
    assert price_id(name) == expected
    assert base_name("gpt-5-high") == "gpt-5"


def test_unmapped_models_are_unpriced_never_zero(tmp_path: Path, user_dir: Path) -> None:
    """Shape: modern split storage with Cursor's own model, which has no published price."""
    path = create_store(user_dir)
    split_composer(path, "c", [("composer-1.5", NOW_MS, (500, 50))])
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync(ledger, roots(user_dir))
        assert local_rows(ledger)[0][5] is None
        assert queries.unpriced_models(ledger, queries.RequestFilter()) == {"composer-1.5": 1}


def test_bubble_time_is_iso(tmp_path: Path) -> None:
    assert iso(NOW_MS).endswith("Z")


def test_corrupt_values_are_counted_once(tmp_path: Path, user_dir: Path) -> None:
    """Shape: a corrupt composerData value next to a good composer that keeps changing."""
    path = create_store(user_dir)
    put(path, "composerData:broken", b"{not json")
    split_composer(path, "good", [("gpt-5", NOW_MS - 10, (5, 5))])
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync_cursor(ledger, roots(user_dir))
        split_composer(path, "good", [("gpt-5", NOW_MS - 10, (5, 5)), ("gpt-5", NOW_MS, (1, 1))])
        sync_cursor(ledger, roots(user_dir))
        entry = cursor_store.doctor_report(ledger)["databases"][0]
    assert entry["skipped"] == {"value that is not valid JSON": 1}
