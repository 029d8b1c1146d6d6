"""Each log file the ledger has read: its cursor, its counters, and its reads committed.

Writes are transactional per batch of files: a batch's requests and the cursors
that say they were read commit together, so a process killed mid-ingest leaves the
ledger as if the batch had never started. A file's row moves only if it still holds
the cursor its read was planned from: when two processes read the same new bytes,
the second commit finds the row moved and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.core.file_cursor import FileCursor
from tokenbuddy.core.report import BUCKET_MS
from tokenbuddy.store.ledger import rollup
from tokenbuddy.store.ledger.dedup import (
    UPSERT_KEEP_LARGEST,
    UPSERT_KEEP_SMALLEST,
    keeps_smallest,
)

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable, Sequence

    from tokenbuddy.core.records import PromptMark, RateLimitSnapshot

INSERT_RATE_LIMITS = "INSERT OR REPLACE INTO rate_limits VALUES (?, ?, ?, ?, ?, ?)"
"""Store one subscription-window reading (a :class:`RateLimitSnapshot`)."""
INSERT_PROMPTS = "INSERT OR IGNORE INTO prompts (source, session_id, ts_ms) VALUES (?, ?, ?)"
"""Store one human prompt (a :class:`PromptMark`)."""


@dataclass(frozen=True, slots=True)
class FileResult:
    """What one read of one file produced, ready to commit."""

    cursor: FileCursor
    rows: Sequence[tuple[Any, ...]]
    """One row per request, as :func:`~.dedup.request_row` builds it."""
    rate_limits: Sequence[RateLimitSnapshot]
    lines: int
    skipped: dict[str, int]
    notes: dict[str, int]
    restarted: bool
    previous: StoredFile | None = None
    """The file's row when the read was planned; the commit is dropped if it changed since
    (another tokenbuddy process read the same bytes first)."""
    prompts: Sequence[PromptMark] = ()
    """Human prompts seen in the new bytes."""
    staged_records: int = 0
    """Requests of this read written to a staging file instead of ``rows`` (bulk loads)."""
    whole: bool = False
    """The read covered the whole file (a document read again), so its counters replace
    the stored ones instead of adding to them."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file the ledger knows, with its cursor and its counters."""

    file_id: int
    cursor: FileCursor
    lines: int
    records: int
    skipped_json: str
    notes_json: str
    error: str
    missing: bool

    @property
    def skipped(self) -> dict[str, int]:
        """Lines skipped, by reason (decoded on demand: planning never needs it)."""
        return _counts(self.skipped_json)

    @property
    def notes(self) -> dict[str, int]:
        """Noteworthy counted facts, by description."""
        return _counts(self.notes_json)


def _counts(text: str) -> dict[str, int]:
    return {} if text == "{}" else dict(orjson.loads(text))


def stored_files(db: sqlite3.Connection) -> dict[str, StoredFile]:
    """Every file the ledger has read, by path."""
    rows = db.execute(
        "SELECT id, path, source, device, inode, size, mtime_ns, byte_offset, head_hash,"
        " pending_bytes, state, lines, records, skipped, notes, error, missing FROM files"
    )
    stored = {}
    for row in rows:
        cursor = FileCursor(
            path=row[1],
            source=row[2],
            device=row[3],
            inode=row[4],
            size=row[5],
            mtime_ns=row[6],
            offset=row[7],
            head_hash=row[8],
            pending_bytes=row[9],
            state={} if row[10] == "{}" else orjson.loads(row[10]),
        )
        stored[row[1]] = StoredFile(
            row[0], cursor, row[11], row[12], row[13], row[14], row[15], bool(row[16])
        )
    return stored


def consumed_bytes(db: sqlite3.Connection, since_mtime_ns: int, limit: int) -> dict[str, int]:
    """Path -> bytes consumed (read, or waiting for a line end) of the files modified since
    ``since_mtime_ns``, most recently modified first, at most ``limit``."""
    rows = db.execute(
        "SELECT path, byte_offset + pending_bytes FROM files WHERE mtime_ns >= ?"
        " ORDER BY mtime_ns DESC LIMIT ?",
        (since_mtime_ns, limit),
    )
    return {str(path): int(size) for path, size in rows}


def commit_files(db: sqlite3.Connection, results: Iterable[FileResult]) -> int:
    """Write a batch of file reads (inside a transaction); returns the requests written."""
    keep_largest: list[tuple[Any, ...]] = []
    keep_smallest: list[tuple[Any, ...]] = []
    rate_limits: list[RateLimitSnapshot] = []
    prompts: list[PromptMark] = []
    for result in results:
        if not advance_file(db, result):
            continue
        if keeps_smallest(result.cursor.source):
            keep_smallest.extend(result.rows)
        else:
            keep_largest.extend(result.rows)
        rate_limits.extend(result.rate_limits)
        prompts.extend(result.prompts)
    # Inserting in key order keeps the primary-key B-tree writes local.
    keep_largest.sort(key=_first)
    keep_smallest.sort(key=_first)
    db.executemany(UPSERT_KEEP_LARGEST, keep_largest)
    db.executemany(UPSERT_KEEP_SMALLEST, keep_smallest)
    db.executemany(INSERT_RATE_LIMITS, rate_limits)
    db.executemany(INSERT_PROMPTS, prompts)
    touched = {row[2] // BUCKET_MS for row in keep_largest}
    touched.update(row[2] // BUCKET_MS for row in keep_smallest)
    rollup.mark_dirty(db, touched)
    return len(keep_largest) + len(keep_smallest)


def _first(row: tuple[Any, ...]) -> Any:
    return row[0]


def advance_file(db: sqlite3.Connection, result: FileResult) -> bool:
    """Store the file's new cursor and counters; False if another process got there first."""
    cursor, previous = result.cursor, result.previous
    fresh = previous is None or result.restarted or result.whole or bool(previous.error)
    lines, records = result.lines, len(result.rows) + result.staged_records
    skipped, notes = dict(result.skipped), dict(result.notes)
    if previous is not None and not fresh:
        lines += previous.lines
        records += previous.records
        skipped = _add_counts(previous.skipped, skipped)
        notes = _add_counts(previous.notes, notes)
    values = (
        cursor.source,
        cursor.device,
        cursor.inode,
        cursor.size,
        cursor.mtime_ns,
        cursor.offset,
        cursor.head_hash,
        cursor.pending_bytes,
        orjson.dumps(cursor.state).decode(),
        lines,
        records,
        orjson.dumps(skipped).decode(),
        orjson.dumps(notes).decode(),
    )
    if previous is None:
        inserted = db.execute(
            "INSERT OR IGNORE INTO files (source, device, inode, size, mtime_ns, byte_offset,"
            " head_hash, pending_bytes, state, lines, records, skipped, notes, path)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*values, cursor.path),
        )
        return bool(inserted.rowcount)
    before = previous.cursor
    updated = db.execute(
        "UPDATE files SET source = ?, device = ?, inode = ?, size = ?, mtime_ns = ?,"
        " byte_offset = ?, head_hash = ?, pending_bytes = ?, state = ?, lines = ?, records = ?,"
        " skipped = ?, notes = ?, error = '', missing = 0, restarts = restarts + ?"
        " WHERE id = ? AND byte_offset = ? AND inode = ? AND mtime_ns = ?",
        (
            *values,
            int(result.restarted),
            previous.file_id,
            before.offset,
            before.inode,
            before.mtime_ns,
        ),
    )
    return bool(updated.rowcount)


def _add_counts(before: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    merged = dict(before)
    for key, count in more.items():
        merged[key] = merged.get(key, 0) + count
    return merged


def record_rate_limits(db: sqlite3.Connection, snapshots: Iterable[RateLimitSnapshot]) -> None:
    """Store subscription-window readings reported outside the logs (inside a transaction)."""
    db.executemany(INSERT_RATE_LIMITS, list(snapshots))


def record_file_error(db: sqlite3.Connection, path: str, source: str, error: str) -> None:
    """Remember that ``path`` could not be read (inside a transaction)."""
    db.execute(
        "INSERT INTO files (path, source, error) VALUES (?, ?, ?)"
        " ON CONFLICT(path) DO UPDATE SET error = excluded.error",
        (path, source, error),
    )


def mark_missing(db: sqlite3.Connection, gone: Iterable[str], back: Iterable[str]) -> None:
    """Flag files that disappeared from disk and unflag returned ones (inside a transaction)."""
    db.executemany("UPDATE files SET missing = 1 WHERE path = ?", ((p,) for p in gone))
    db.executemany("UPDATE files SET missing = 0 WHERE path = ?", ((p,) for p in back))
