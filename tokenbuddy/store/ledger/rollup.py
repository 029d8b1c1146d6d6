"""The rollup: sums per 15-minute bucket, source, project, session and model.

Reports read a few thousand rollup rows whatever the size of the history. A bucket is
marked dirty when a request is inserted into it (:func:`mark_dirty`) or any request in
it is updated (a trigger records the bucket the old row was in); a refresh recomputes
the dirty buckets only. The rollup is built with :data:`~.dedup.COUNTED`, so every total
that reads it counts each request once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenbuddy.core.records import CURSOR_LOCAL
from tokenbuddy.core.report import BUCKET_MS
from tokenbuddy.store.ledger.dedup import COUNTED

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable

UNKNOWN_TOKENS = f"(source = '{CURSOR_LOCAL}' AND total_tokens = 0)"
"""A Cursor estimate whose tokens Cursor did not record: no cost, but not an unpriced model."""
ROLLUP_MERGE_GAP = 4 * 24 * 7
"""Dirty buckets within one week are recomputed as one range."""
_ROLLUP_SELECT = f"""
    INSERT INTO usage_rollup
    SELECT ts_ms / {BUCKET_MS}, source, project, session_id, model,
           SUM(input_tokens), SUM(output_tokens),
           SUM(cache_write_5m_tokens + cache_write_1h_tokens), SUM(cache_read_tokens),
           TOTAL(cost_usd), SUM(cost_usd IS NULL AND NOT {UNKNOWN_TOKENS}), COUNT(*),
           MIN(ts_ms), MAX(ts_ms),
           TOTAL(reported_cost_usd), COUNT(reported_cost_usd), TOTAL(billing_units)
    FROM requests WHERE {{range}} {COUNTED}
    GROUP BY 1, 2, 3, 4, 5
"""
_ROLLUP_INSERT = _ROLLUP_SELECT.format(range="ts_ms >= ? AND ts_ms < ? AND")
_ROLLUP_INSERT_ALL = _ROLLUP_SELECT.format(range="")
"""Every request, read in table order (not through the time index)."""


def mark_dirty(db: sqlite3.Connection, buckets: Iterable[int]) -> None:
    """Mark ``buckets`` for the next refresh (inside a transaction)."""
    db.executemany("INSERT OR IGNORE INTO dirty_buckets VALUES (?)", ((b,) for b in buckets))


def has_dirty_buckets(db: sqlite3.Connection) -> bool:
    """Whether any bucket changed since the last refresh."""
    return db.execute("SELECT 1 FROM dirty_buckets LIMIT 1").fetchone() is not None


def refresh_dirty_buckets(db: sqlite3.Connection) -> int:
    """Recompute the dirty buckets' rollup rows (inside a transaction); returns how many."""
    dirty = [b for (b,) in db.execute("SELECT bucket FROM dirty_buckets ORDER BY 1")]
    for low, high in _merge_ranges(dirty, gap=ROLLUP_MERGE_GAP):
        db.execute("DELETE FROM usage_rollup WHERE bucket BETWEEN ? AND ?", (low, high))
        db.execute(_ROLLUP_INSERT, (low * BUCKET_MS, (high + 1) * BUCKET_MS))
    db.execute("DELETE FROM dirty_buckets")
    return len(dirty)


def rebuild(db: sqlite3.Connection) -> None:
    """Recompute the whole rollup in one pass (inside a transaction): after a first load,
    when every bucket is new, this skips marking each one dirty."""
    db.execute("DELETE FROM usage_rollup")
    db.execute(_ROLLUP_INSERT_ALL)
    db.execute("DELETE FROM dirty_buckets")


def _merge_ranges(buckets: list[int], gap: int) -> list[tuple[int, int]]:
    """Sorted buckets as inclusive (low, high) ranges, joining runs less than ``gap`` apart.

    No range spans more than ``gap`` buckets, so each recomputation sorts a bounded
    slice of the history (memory must not grow with it).
    """
    ranges: list[tuple[int, int]] = []
    for bucket in buckets:
        if ranges and bucket - ranges[-1][0] < gap:
            ranges[-1] = (ranges[-1][0], bucket)
        else:
            ranges.append((bucket, bucket))
    return ranges
