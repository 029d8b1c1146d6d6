"""A bulk load's staging files merged into the ledger in one pass.

Parsing processes write their records to staging files (:mod:`tokenbuddy.store.staging`).
The merge attaches every staging file, prices each row with one SQL expression,
upserts with the dedup rules, advances the file cursors and rebuilds the rollup, all
in the caller's one transaction.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tokenbuddy.core.report import BUCKET_MS
from tokenbuddy.store.ledger import rollup, schema
from tokenbuddy.store.ledger.dedup import (
    KEEP_LARGEST,
    KEEP_SMALLEST,
    RECORD_COLUMNS,
    SMALLEST_COPY_SQL,
    keeps_smallest,
)
from tokenbuddy.store.ledger.files import INSERT_PROMPTS, INSERT_RATE_LIMITS, advance_file
from tokenbuddy.store.staging import STAGING_COLUMNS

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable, Iterator, Sequence
    from pathlib import Path

    from tokenbuddy.store.ledger.files import FileResult

_MERGE_STAGED = (
    "INSERT INTO requests ({cols}) SELECT {fields}, {{cost}}, {total}"
    " FROM ({{staged}}) WHERE source {{test}} {smallest}"
).format(
    cols=", ".join(RECORD_COLUMNS),
    fields=", ".join(STAGING_COLUMNS),
    total="input_tokens + output_tokens + cache_write_5m_tokens + cache_write_1h_tokens"
    " + cache_read_tokens",
    smallest=SMALLEST_COPY_SQL,
)
"""Merge every staging file in one pass, in the order the rows were staged, pricing each
row with the cost expression (``{cost}``) and adding its ``total_tokens`` on the way.

Sorting by key first costs more than it saves: the key index of a load this size
stays in the page cache, so inserts out of key order do not thrash it.
"""


@contextmanager
def attached(db: sqlite3.Connection, staging: Sequence[Path]) -> Iterator[list[str]]:
    """Attach each staging file as a schema of its own; yields the schema names."""
    schemas = [f"staged{index}" for index in range(len(staging))]
    for schema_name, path in zip(schemas, staging, strict=True):
        db.execute(f"ATTACH DATABASE ? AS {schema_name}", (str(path),))
    try:
        yield schemas
    finally:
        for schema_name in schemas:
            db.execute(f"DETACH DATABASE {schema_name}")


def merge(
    db: sqlite3.Connection,
    results: Sequence[FileResult],
    schemas: list[str],
    cost: tuple[str, Sequence[Any]],
) -> int:
    """Merge the attached staging files (inside a transaction); returns the requests merged.

    On an empty ledger the rollup is built in one pass instead of bucket by bucket. The
    indexes and the rollup go in the same transaction: one commit, not three.
    """
    first_load = db.execute("SELECT 1 FROM requests LIMIT 1").fetchone() is None
    merged = _merge_staged(db, results, schemas, cost, mark_dirty=not first_load)
    schema.ensure_indexes(db)
    if first_load:
        rollup.rebuild(db)
    else:
        rollup.refresh_dirty_buckets(db)
    return merged


def _merge_staged(
    db: sqlite3.Connection,
    results: Sequence[FileResult],
    schemas: list[str],
    cost: tuple[str, Sequence[Any]],
    *,
    mark_dirty: bool,
) -> int:
    stale = [r.cursor.path for r in results if not advance_file(db, r)]
    db.executemany(
        INSERT_RATE_LIMITS,
        [snapshot for r in results if r.cursor.path not in stale for snapshot in r.rate_limits],
    )
    db.executemany(
        INSERT_PROMPTS,
        [prompt for r in results if r.cursor.path not in stale for prompt in r.prompts],
    )
    merged = 0
    for schema_name in schemas:
        merged += db.execute(
            f"SELECT TOTAL(last_row - first_row + 1) FROM {schema_name}.staged_files"
        ).fetchone()[0]
        merged -= _drop_staged(db, schema_name, stale)
    if not schemas:
        return 0
    staged = " UNION ALL ".join(
        f"SELECT {', '.join(STAGING_COLUMNS)} FROM {schema_name}.staging" for schema_name in schemas
    )
    expression, params = cost
    merge_sql = _MERGE_STAGED.format(staged=staged, cost=expression, test="NOT IN")
    db.execute(merge_sql + KEEP_LARGEST, params)
    if any(keeps_smallest(r.cursor.source) for r in results):
        merge_sql = _MERGE_STAGED.format(staged=staged, cost=expression, test="IN")
        db.execute(merge_sql + KEEP_SMALLEST, params)
    if mark_dirty:
        db.execute(
            "INSERT OR IGNORE INTO dirty_buckets "
            + " UNION ".join(
                f"SELECT ts_ms / {BUCKET_MS} FROM {schema_name}.staging" for schema_name in schemas
            )
        )
    return int(merged)


def _drop_staged(db: sqlite3.Connection, schema_name: str, paths: Iterable[str]) -> int:
    """Delete the rows one staging file holds for ``paths``; returns how many."""
    dropped = 0
    for path in paths:
        ranges = db.execute(
            f"SELECT first_row, last_row FROM {schema_name}.staged_files WHERE path = ?",
            (path,),
        ).fetchall()
        for first, last in ranges:
            dropped += db.execute(
                f"DELETE FROM {schema_name}.staging WHERE rowid BETWEEN ? AND ?", (first, last)
            ).rowcount
    return dropped
