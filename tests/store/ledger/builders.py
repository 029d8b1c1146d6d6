"""Requests and file reads for the ledger tests, committed the way ingest commits them."""

from __future__ import annotations

from tokenbuddy.core.file_cursor import FileCursor
from tokenbuddy.core.records import CLAUDE_CODE, UsageRecord
from tokenbuddy.store.ledger import FileResult, Ledger, request_row

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


def commit_staged(ledger: Ledger, path: str, *records: UsageRecord) -> int:
    """Commit ``records`` as a bulk load does: through a staging file and the merge."""
    from tokenbuddy.store.staging import StagingFile

    staging = StagingFile(ledger.path.parent / "staging")
    staging.add([(path, records)])
    staging.close()
    cursor = FileCursor(path, records[0].source, offset=1, inode=1)
    stored = ledger.files().get(path)
    result = FileResult(cursor, [], [], len(records), {}, {}, False, stored, (), len(records))
    written = ledger.commit_staged([result], [staging.path], ("CAST(output_tokens AS REAL)", []))
    staging.path.unlink()
    ledger.refresh_rollup()
    return written
