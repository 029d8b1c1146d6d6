"""The requests that 5-hour blocks are built from, read from the ledger in time order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenbuddy.core.blocks import BlockRequest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tokenbuddy.store.ledger import Ledger

_COLUMNS = (
    "ts_ms, model, input_tokens, output_tokens,"
    " cache_write_5m_tokens + cache_write_1h_tokens, cache_read_tokens, COALESCE(cost_usd, 0)"
)


def block_requests(
    ledger: Ledger, source: str | None, since_ms: int | None = None, until_ms: int | None = None
) -> Iterator[BlockRequest]:
    """The requests of ``source`` (every source when None) from ``since_ms`` (inclusive)
    to ``until_ms`` (inclusive), oldest first."""
    clauses, params = _bounds(source, since_ms, until_ms)
    rows = ledger.db.execute(
        f"SELECT {_COLUMNS} FROM requests{clauses} ORDER BY ts_ms, dedup_key", params
    )
    return (BlockRequest(*row) for row in rows)


def request_times(
    ledger: Ledger, source: str | None, since_ms: int, until_ms: int
) -> tuple[int | None, list[int]]:
    """The latest request time before ``since_ms``, and every request time from
    ``since_ms`` to ``until_ms`` (inclusive), oldest first."""
    clauses, params = _bounds(source, None, since_ms - 1)
    (before,) = ledger.db.execute(f"SELECT MAX(ts_ms) FROM requests{clauses}", params).fetchone()
    clauses, params = _bounds(source, since_ms, until_ms)
    times = [
        ts
        for (ts,) in ledger.db.execute(
            f"SELECT ts_ms FROM requests{clauses} ORDER BY ts_ms", params
        )
    ]
    return before, times


def _bounds(
    source: str | None, since_ms: int | None, until_ms: int | None
) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if source is not None:
        clauses.append("source = ?")
        params.append(source)
    if since_ms is not None:
        clauses.append("ts_ms >= ?")
        params.append(since_ms)
    if until_ms is not None:
        clauses.append("ts_ms <= ?")
        params.append(until_ms)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params
