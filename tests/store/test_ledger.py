"""The SQLite ledger: dedup policies, rollup consistency, concurrency guard, migrations."""

from __future__ import annotations

import os
import random
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import environ_for
from tokenbuddy.core.records import CLAUDE_CODE, CODEX, UsageRecord
from tokenbuddy.errors import LedgerVersionError
from tokenbuddy.services.ingest import sync
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.sources.tailer import FileCursor
from tokenbuddy.store.ledger import SCHEMA_VERSION, FileResult, Ledger, request_row

HOUR_MS = 3_600_000
BASE_MS = 1_790_000_000_000 - 1_790_000_000_000 % HOUR_MS


def record(key: str, ts_ms: int, output: int, **fields: object) -> UsageRecord:
    values: dict[str, object] = {
        "dedup_key": key,
        "source": CLAUDE_CODE,
        "ts_ms": ts_ms,
        "session_id": "s1",
        "project": "/p",
        "model": "claude-sonnet-4-5",
        "input_tokens": 10,
        "output_tokens": output,
        "cache_write_5m_tokens": 100,
        "cache_write_1h_tokens": 0,
        "cache_read_tokens": 1000,
        "reasoning_tokens": 0,
        "web_search_requests": 0,
        "speed": "",
        "inference_geo": "",
        "is_sidechain": False,
        "agent_id": "",
        "agent_type": "",
    } | fields
    return UsageRecord(**values)  # type: ignore[arg-type]


def commit(ledger: Ledger, path: str, *records: UsageRecord, previous: object = None) -> int:
    stored = ledger.files().get(path) if previous is None else previous
    cursor = FileCursor(path, records[0].source if records else CLAUDE_CODE, offset=1, inode=1)
    rows = [request_row(r, float(r.output_tokens)) for r in records]
    result = FileResult(cursor, rows, [], len(rows), {}, {}, False, stored)  # type: ignore[arg-type]
    written = ledger.commit_files([result])
    ledger.refresh_rollup()
    return written


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite3")


def rollup_by_bucket(ledger: Ledger) -> dict[int, tuple[int, int, float]]:
    rows = ledger.db.execute(
        "SELECT bucket, SUM(output_tokens), SUM(requests), TOTAL(cost_usd) FROM usage_rollup"
        " GROUP BY bucket"
    )
    return {b: (o, n, c) for b, o, n, c in rows}


def direct_by_bucket(ledger: Ledger) -> dict[int, tuple[int, int, float]]:
    rows = ledger.db.execute(
        "SELECT ts_ms / 900000, SUM(output_tokens), COUNT(*), TOTAL(cost_usd) FROM requests"
        " GROUP BY 1"
    )
    return {b: (o, n, c) for b, o, n, c in rows}


def test_claude_keeps_the_largest_copy_whatever_the_order(ledger: Ledger) -> None:
    commit(ledger, "/a", record("k", BASE_MS, 250))
    commit(ledger, "/b", record("k", BASE_MS + 500, 3))
    assert ledger.db.execute("SELECT output_tokens, cost_usd FROM requests").fetchall() == [
        (250, 250.0)
    ]


def test_main_conversation_copy_owns_the_attribution(ledger: Ledger) -> None:
    """A /btw replay may hold the larger copy; the request still belongs to the main session."""
    commit(ledger, "/main", record("k", BASE_MS, 3, agent_type=""))
    commit(
        ledger,
        "/aside",
        record("k", BASE_MS, 300, is_sidechain=True, agent_type="aside_question", agent_id="aside"),
    )
    row = ledger.db.execute(
        "SELECT output_tokens, is_sidechain, agent_type FROM requests"
    ).fetchone()
    assert row == (300, 0, "")


def test_codex_keeps_the_smallest_delta_of_a_replayed_event(ledger: Ledger) -> None:
    commit(ledger, "/fork", record("x:1", BASE_MS, 5000, source=CODEX))
    commit(ledger, "/orig", record("x:1", BASE_MS, 40, source=CODEX))
    assert ledger.db.execute("SELECT output_tokens FROM requests").fetchone() == (40,)


def test_rollup_follows_a_request_that_moves_bucket(ledger: Ledger) -> None:
    """The final copy of a request can carry another timestamp than the partial one."""
    commit(ledger, "/a", record("k", BASE_MS, 3), record("other", BASE_MS, 7))
    commit(ledger, "/b", record("k", BASE_MS + 30 * 24 * HOUR_MS, 250))
    assert rollup_by_bucket(ledger) == direct_by_bucket(ledger)
    assert sum(n for _, n, _ in rollup_by_bucket(ledger).values()) == 2


def test_rollup_equals_direct_aggregation_under_random_commits(ledger: Ledger) -> None:
    rng = random.Random(3)
    for batch in range(30):
        records = [
            record(
                f"k{rng.randint(0, 60)}",
                BASE_MS + rng.randint(0, 400) * 15 * 60_000,
                rng.randint(1, 500),
                session_id=rng.choice(["s1", "s2"]),
                is_sidechain=rng.random() < 0.3,
            )
            for _ in range(rng.randint(1, 12))
        ]
        commit(ledger, f"/f{batch}", *records)
        assert rollup_by_bucket(ledger) == direct_by_bucket(ledger)


def test_a_stale_read_of_a_file_is_not_committed_twice(ledger: Ledger) -> None:
    """Two processes read the same new bytes: the second commit finds the cursor moved."""
    commit(ledger, "/f", record("k1", BASE_MS, 10))
    planned = ledger.files()["/f"]
    cursor = FileCursor("/f", CLAUDE_CODE, offset=2, inode=1)
    first = FileResult(
        cursor, [request_row(record("k2", BASE_MS, 5), 1.0)], [], 1, {}, {}, False, planned
    )
    assert ledger.commit_files([first]) == 1
    assert ledger.commit_files([first]) == 0
    assert ledger.files()["/f"].lines == 2


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


def test_ledger_file_is_created_with_private_permissions(tmp_path: Path) -> None:
    Ledger(tmp_path / "ledger.sqlite3").close()
    assert os.stat(tmp_path / "ledger.sqlite3").st_mode & 0o077 == 0


def test_every_request_is_repriced_when_the_price_database_changes(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    import orjson

    from tests.conftest import environ_for
    from tokenbuddy.services.ingest import sync
    from tokenbuddy.services.report import build_report
    from tokenbuddy.sources.discovery import log_roots

    claude = tmp_path / "claude"
    transcript = claude / "projects" / "-p" / "s1.jsonl"
    transcript.parent.mkdir(parents=True)
    line = {
        "type": "assistant",
        "timestamp": "2026-11-20T10:00:00Z",
        "sessionId": "s1",
        "requestId": "r1",
        "message": {
            "id": "m1",
            "model": "claude-haiku-4-5",
            "usage": {"input_tokens": 0, "output_tokens": 1_000_000},
        },
    }
    transcript.write_bytes(orjson.dumps(line) + b"\n")
    roots = log_roots(environ_for(claude, tmp_path / "codex"), tmp_path)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    sync(ledger, roots)
    utc = ZoneInfo("UTC")
    assert build_report(ledger.db, "daily", zone=utc)["totals"]["cost_usd"] == pytest.approx(5.0)

    ledger.db.execute("UPDATE requests SET cost_usd = 0")
    ledger.db.execute("UPDATE meta SET value = '0.0.1' WHERE key = 'price_database'")
    ledger.db.execute("DELETE FROM price_cache")
    sync(ledger, roots)
    assert build_report(ledger.db, "daily", zone=utc)["totals"]["cost_usd"] == pytest.approx(5.0)


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
