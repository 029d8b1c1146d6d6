"""The SQLite ledger: every priced request, every file cursor, kept beyond the logs.

Claude Code deletes transcripts after 30 days; the ledger is the user's
history beyond that. Rows are never deleted when a log disappears.

Writes are transactional per batch of files: a batch's requests and the
cursors that say they were read commit together, so a process killed
mid-ingest leaves the ledger as if the batch had never started.

Deduplication happens here, by primary key:

- Claude Code keeps the copy of a request with the largest token total (early
  streamed lines carry partial output counts); on a tie it prefers the main
  conversation's copy over a replay. Attribution (session, project, subagent)
  comes from the main conversation's copy whenever one was seen.
- Codex keys a request by its cumulative totals, so a forked rollout that
  replays history collides with the original; the smaller delta is the true one.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.core.file_cursor import FileCursor
from tokenbuddy.core.pricing import PriceSchedule
from tokenbuddy.core.records import (
    CLAUDE_CODE,
    CURSOR_LOCAL,
    PromptMark,
    RateLimitSnapshot,
    UsageRecord,
)
from tokenbuddy.core.report import BUCKET_MS
from tokenbuddy.errors import LedgerError, LedgerVersionError
from tokenbuddy.store.staging import STAGING_COLUMNS
from tokenbuddy.transaction import Transaction

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from pathlib import Path

SCHEMA_VERSION = 5

_MIGRATIONS: dict[int, str] = {
    # 5: a Cursor estimate whose tokens Cursor did not record is not an unpriced model
    # (its model has a price; its tokens are unknown): the rollup's unpriced count leaves
    # those out, so the buckets holding any are recomputed.
    5: """
    INSERT OR IGNORE INTO dirty_buckets
        SELECT DISTINCT ts_ms / 900000 FROM requests
        WHERE source = 'cursor-local' AND total_tokens = 0;
    """,
    # 4: Cursor's local chat store (tokenbuddy.store.cursor): what each state.vscdb held
    # when last read, each composer's lastUpdatedAt watermark, and how far billed Cursor
    # rows reach (local estimates up to there are left out of every total).
    4: """
    CREATE TABLE IF NOT EXISTS cursor_dbs (
        path TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        size INTEGER NOT NULL DEFAULT 0,
        mtime_ns INTEGER NOT NULL DEFAULT 0,
        wal_size INTEGER NOT NULL DEFAULT 0,
        wal_mtime_ns INTEGER NOT NULL DEFAULT 0,
        composers INTEGER NOT NULL DEFAULT 0,
        bubbles INTEGER NOT NULL DEFAULT 0,
        requests INTEGER NOT NULL DEFAULT 0,
        unknown_tokens INTEGER NOT NULL DEFAULT 0,
        versions TEXT NOT NULL DEFAULT '{}',
        skipped TEXT NOT NULL DEFAULT '{}',
        read_mode TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE IF NOT EXISTS cursor_composers (
        db_path TEXT NOT NULL,
        composer_id TEXT NOT NULL,
        last_updated_ms INTEGER NOT NULL,
        version TEXT NOT NULL,
        bubbles INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        unknown_tokens INTEGER NOT NULL,
        PRIMARY KEY (db_path, composer_id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS cursor_projects (
        composer_id TEXT PRIMARY KEY,
        project TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS billed_until (
        source TEXT PRIMARY KEY,
        until_ms INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO billed_until SELECT 'cursor-local', COALESCE(MAX(ts_ms), -1) FROM requests
        WHERE dedup_key >= 'cursor:' AND dedup_key < 'cursor;';
    """,
    # 3: vendor endpoints (tokenbuddy.store.vendors): billed usage and costs, and the
    # polling state of each vendor source. Cursor's events go to ``requests``.
    3: """
    CREATE TABLE IF NOT EXISTS vendor_usage (
        provider TEXT NOT NULL,
        bucket_start_ms INTEGER NOT NULL,
        bucket_minutes INTEGER NOT NULL,
        model TEXT NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        fetched_ms INTEGER NOT NULL,
        PRIMARY KEY (provider, bucket_start_ms, bucket_minutes, model)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS vendor_costs (
        provider TEXT NOT NULL,
        day TEXT NOT NULL,
        model TEXT NOT NULL,
        line_item TEXT NOT NULL,
        amount_usd REAL NOT NULL,
        currency TEXT NOT NULL,
        fetched_ms INTEGER NOT NULL,
        PRIMARY KEY (provider, day, model, line_item)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS source_state (
        provider TEXT PRIMARY KEY,
        last_attempt_ms INTEGER,
        last_success_ms INTEGER,
        last_error TEXT NOT NULL DEFAULT '',
        error_kind TEXT NOT NULL DEFAULT '',
        failures INTEGER NOT NULL DEFAULT 0,
        next_poll_ms INTEGER,
        lease_until_ms INTEGER,
        covered_from_ms INTEGER,
        covered_until_ms INTEGER,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    """,
    # 2: human prompts, and the alerts already announced. Logs still on disk are read
    # once more to find the prompts; the requests they hold are already in the ledger,
    # and the upserts keep exactly one copy.
    2: """
    CREATE TABLE prompts (
        source TEXT NOT NULL,
        session_id TEXT NOT NULL,
        ts_ms INTEGER NOT NULL,
        PRIMARY KEY (session_id, source, ts_ms)
    ) WITHOUT ROWID;
    CREATE INDEX prompts_ts ON prompts(ts_ms);
    CREATE TABLE announced_alerts (
        kind TEXT NOT NULL,
        session_id TEXT NOT NULL,
        severity TEXT NOT NULL,
        magnitude REAL NOT NULL,
        at_ms INTEGER NOT NULL,
        PRIMARY KEY (kind, session_id)
    ) WITHOUT ROWID;
    DELETE FROM files WHERE missing = 0;
    """,
    1: """
    CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        device INTEGER NOT NULL DEFAULT 0,
        inode INTEGER NOT NULL DEFAULT 0,
        size INTEGER NOT NULL DEFAULT 0,
        mtime_ns INTEGER NOT NULL DEFAULT 0,
        byte_offset INTEGER NOT NULL DEFAULT 0,
        head_hash TEXT NOT NULL DEFAULT '',
        pending_bytes INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT '{}',
        lines INTEGER NOT NULL DEFAULT 0,
        records INTEGER NOT NULL DEFAULT 0,
        skipped TEXT NOT NULL DEFAULT '{}',
        notes TEXT NOT NULL DEFAULT '{}',
        error TEXT NOT NULL DEFAULT '',
        missing INTEGER NOT NULL DEFAULT 0,
        restarts INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE requests (
        dedup_key TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        ts_ms INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_write_5m_tokens INTEGER NOT NULL,
        cache_write_1h_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        web_search_requests INTEGER NOT NULL,
        speed TEXT NOT NULL,
        inference_geo TEXT NOT NULL,
        is_sidechain INTEGER NOT NULL,
        agent_id TEXT NOT NULL,
        agent_type TEXT NOT NULL,
        cost_usd REAL,
        total_tokens INTEGER NOT NULL
    );
    CREATE INDEX requests_ts ON requests(ts_ms);
    CREATE TABLE rate_limits (
        source TEXT NOT NULL,
        ts_ms INTEGER NOT NULL,
        window_minutes INTEGER NOT NULL,
        used_percent REAL NOT NULL,
        resets_at_ms INTEGER,
        plan TEXT NOT NULL,
        PRIMARY KEY (source, ts_ms, window_minutes)
    );
    CREATE TABLE price_cache (
        model TEXT NOT NULL,
        provider TEXT NOT NULL,
        context TEXT NOT NULL,
        schedule TEXT,
        PRIMARY KEY (model, provider, context)
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE usage_rollup (
        bucket INTEGER NOT NULL,
        source TEXT NOT NULL,
        project TEXT NOT NULL,
        session_id TEXT NOT NULL,
        model TEXT NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL,
        cost_usd REAL NOT NULL,
        unpriced_requests INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        first_ts_ms INTEGER NOT NULL,
        last_ts_ms INTEGER NOT NULL,
        PRIMARY KEY (bucket, source, session_id, model, project)
    ) WITHOUT ROWID;
    CREATE TABLE dirty_buckets (bucket INTEGER PRIMARY KEY);
    CREATE TRIGGER requests_changed AFTER UPDATE ON requests BEGIN
        INSERT INTO dirty_buckets SELECT OLD.ts_ms / 900000
        WHERE NOT EXISTS (SELECT 1 FROM dirty_buckets WHERE bucket = OLD.ts_ms / 900000);
    END;
    """,
}

_RECORD_COLUMNS = (
    *UsageRecord._fields,
    "cost_usd",
    "total_tokens",
)
_INSERT = "INSERT INTO requests ({}) VALUES ({})".format(
    ", ".join(_RECORD_COLUMNS), ", ".join("?" * len(_RECORD_COLUMNS))
)
_TOKEN_COLUMNS = (
    "ts_ms",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "reasoning_tokens",
    "web_search_requests",
    "speed",
    "inference_geo",
    "cost_usd",
    "total_tokens",
)
_ATTRIBUTION_COLUMNS = (
    "session_id",
    "project",
    "is_sidechain",
    "agent_id",
    "agent_type",
)
_LARGER = (
    "(excluded.total_tokens > requests.total_tokens OR (excluded.total_tokens = "
    "requests.total_tokens AND requests.is_sidechain = 1 AND excluded.is_sidechain = 0))"
)
_MAIN_COPY = "(requests.is_sidechain = 1 AND excluded.is_sidechain = 0)"
_KEEP_LARGEST = (
    " ON CONFLICT(dedup_key) DO UPDATE SET "
    + ", ".join(
        [
            f"{c} = CASE WHEN {_LARGER} THEN excluded.{c} ELSE requests.{c} END"
            for c in _TOKEN_COLUMNS
        ]
        + [
            f"{c} = CASE WHEN {_MAIN_COPY} THEN excluded.{c} ELSE requests.{c} END"
            for c in _ATTRIBUTION_COLUMNS
        ]
    )
    + f" WHERE {_LARGER} OR {_MAIN_COPY}"
)
_KEEP_SMALLEST = (
    " ON CONFLICT(dedup_key) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _RECORD_COLUMNS if c != "dedup_key")
    + " WHERE excluded.total_tokens < requests.total_tokens"
)
_UPSERT_KEEP_LARGEST = _INSERT + _KEEP_LARGEST
_UPSERT_KEEP_SMALLEST = _INSERT + _KEEP_SMALLEST
_MERGE_STAGED = (
    "INSERT INTO requests ({cols}) SELECT {fields}, {{cost}}, {total}"
    " FROM ({{staged}}) WHERE source {{test}} '{claude}'"
).format(
    cols=", ".join(_RECORD_COLUMNS),
    fields=", ".join(STAGING_COLUMNS),
    total="input_tokens + output_tokens + cache_write_5m_tokens + cache_write_1h_tokens"
    " + cache_read_tokens",
    claude=CLAUDE_CODE,
)
"""Merge every staging file in one pass, in the order the rows were staged, pricing each
row with the cost expression (``{cost}``) and adding its ``total_tokens`` on the way.

Sorting by key first costs more than it saves: the key index of a load this size
stays in the page cache, so inserts out of key order do not thrash it.
"""


_INSERT_PROMPT = "INSERT OR IGNORE INTO prompts (source, session_id, ts_ms) VALUES (?, ?, ?)"


@dataclass(frozen=True, slots=True)
class FileResult:
    """What one read of one file produced, ready to commit."""

    cursor: FileCursor
    rows: Sequence[tuple[Any, ...]]
    """One row per request, as :func:`request_row` builds it."""
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


def request_row(record: UsageRecord, cost: float | None) -> tuple[Any, ...]:
    """The ``requests`` table row for one priced request."""
    return (*record, cost, record.total_tokens)


BILLED_UNTIL_MS = "COALESCE((SELECT until_ms FROM billed_until WHERE source = 'cursor-local'), -1)"
"""The newest billed Cursor request's timestamp (-1 when none is stored)."""
COUNTED = f"(source != 'cursor-local' OR ts_ms > {BILLED_UNTIL_MS})"
"""One request, counted once: a ``requests`` filter every total uses.

Billed Cursor rows (source ``cursor``: API events and imported CSV rows) and local
estimates (``cursor-local``) describe the same requests. Up to the newest billed row,
the billed rows count and the estimates are left out; after it, the estimates fill in
so the live figures stay current. The rollup is built with this filter, so reports, the
dashboard's period figures and the cap projection all follow it; the queries that read
``requests`` directly (burn rate, detectors, session timelines, tips) add it too.
Moving the boundary marks the rollup buckets of the estimates it passes dirty
(:func:`tokenbuddy.store.cursor.note_billed`)."""

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
           MIN(ts_ms), MAX(ts_ms)
    FROM requests WHERE {{range}} {COUNTED}
    GROUP BY 1, 2, 3, 4, 5
"""
_ROLLUP_INSERT = _ROLLUP_SELECT.format(range="ts_ms >= ? AND ts_ms < ? AND")
_ROLLUP_INSERT_ALL = _ROLLUP_SELECT.format(range="")
"""Every request, read in table order (not through the time index)."""


def _first(row: tuple[Any, ...]) -> Any:
    return row[0]


def _create_private(path: Path) -> None:
    """Create the ledger file readable by its owner only: it lists projects and sessions."""
    if not os.path.exists(path):
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _statements(script: str) -> list[str]:
    """Split a SQL script into statements (trigger bodies contain semicolons too)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return statements


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


class Ledger:
    """An open ledger database. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            _create_private(path)
            self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA page_size=16384")  # only takes effect on a new ledger
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA cache_size=-32768")
            self._db.execute("PRAGMA wal_autocheckpoint=4096")
            self._migrate()
            self._ensure_indexes()
        except (sqlite3.DatabaseError, OSError) as error:
            raise LedgerError(f"cannot open the ledger at {path}: {error}") from error

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    @property
    def db(self) -> sqlite3.Connection:
        """The raw connection, for the read-only report queries."""
        return self._db

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Write a large backlog without maintaining the time index, then rebuild it.

        Keeping the time and session indexes up to date row by row doubles the
        cost of a cold ingest; building them once afterwards is a sort. If the process
        dies in between, the next open rebuilds the index.
        """
        self._db.execute("DROP INDEX IF EXISTS requests_ts")
        self._db.execute("DROP INDEX IF EXISTS requests_session")
        try:
            yield
        finally:
            self._ensure_indexes()

    @contextmanager
    def rollback_journal(self) -> Iterator[None]:
        """Write through a rollback journal instead of the WAL, then go back to WAL.

        A load that fills an empty ledger writes its pages straight into the database
        file (new pages need no journal), instead of writing them to the WAL and
        copying them back on close. Still crash-safe: a hot journal is rolled back on
        the next open. When another connection holds the ledger open, the switch
        fails harmlessly and the load goes through the WAL as usual.
        """
        switched = self._set_journal_mode("delete")
        try:
            yield
        finally:
            if switched:
                self._set_journal_mode("wal")

    def _set_journal_mode(self, mode: str) -> bool:
        """Switch the journal mode; False when SQLite refused (the ledger is in use)."""
        try:
            row = self._db.execute(f"PRAGMA journal_mode={mode}").fetchone()
        except sqlite3.OperationalError:
            return False
        return str(row[0]).lower() == mode

    def _ensure_indexes(self) -> None:
        self._db.execute("CREATE INDEX IF NOT EXISTS requests_ts ON requests(ts_ms)")
        self._db.execute(
            "CREATE INDEX IF NOT EXISTS requests_session ON requests(session_id, ts_ms)"
        )

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LedgerVersionError(
                f"the ledger at {self.path} has schema {version}, newer than this tokenbuddy "
                f"understands ({SCHEMA_VERSION}); upgrade tokenbuddy"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                current = self._db.execute("PRAGMA user_version").fetchone()[0]
                if current < target:
                    for statement in _statements(_MIGRATIONS[target]):
                        self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {target}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # -- files ---------------------------------------------------------------------------

    def files(self) -> dict[str, StoredFile]:
        """Every file the ledger has read, by path."""
        rows = self._db.execute(
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

    def commit_files(self, results: Iterable[FileResult]) -> int:
        """Write a batch of file reads in one transaction; returns the requests written."""
        keep_largest: list[tuple[Any, ...]] = []
        keep_smallest: list[tuple[Any, ...]] = []
        rate_limits: list[RateLimitSnapshot] = []
        prompts: list[PromptMark] = []
        with self.transaction():
            for result in results:
                if not self._advance_file(result):
                    continue
                if result.cursor.source == CLAUDE_CODE:
                    keep_largest.extend(result.rows)
                else:
                    keep_smallest.extend(result.rows)
                rate_limits.extend(result.rate_limits)
                prompts.extend(result.prompts)
            # Inserting in key order keeps the primary-key B-tree writes local.
            keep_largest.sort(key=_first)
            keep_smallest.sort(key=_first)
            self._db.executemany(_UPSERT_KEEP_LARGEST, keep_largest)
            self._db.executemany(_UPSERT_KEEP_SMALLEST, keep_smallest)
            self._db.executemany(
                "INSERT OR REPLACE INTO rate_limits VALUES (?, ?, ?, ?, ?, ?)", rate_limits
            )
            self._db.executemany(_INSERT_PROMPT, prompts)
            touched = {row[2] // BUCKET_MS for row in keep_largest}
            touched.update(row[2] // BUCKET_MS for row in keep_smallest)
            self._db.executemany(
                "INSERT OR IGNORE INTO dirty_buckets VALUES (?)", ((b,) for b in touched)
            )
        return len(keep_largest) + len(keep_smallest)

    def commit_staged(
        self,
        results: Sequence[FileResult],
        staging: Sequence[Path],
        cost: tuple[str, Sequence[Any]],
    ) -> int:
        """Commit a bulk load whose records were written to staging files, in one transaction.

        ``results`` carry the cursors and counters (their ``rows`` are empty);
        each staging file holds a ``staging`` table of usage records plus the path
        of the file they came from. ``cost`` is the SQL expression (and its
        parameters) that prices a staged record (``PriceBook.cost_sql``). Files whose
        cursor moved since planning (another process read them first) have their
        staged rows dropped. Returns the requests merged.
        """
        schemas = [f"staged{index}" for index in range(len(staging))]
        for schema, path in zip(schemas, staging, strict=True):
            self._db.execute(f"ATTACH DATABASE ? AS {schema}", (str(path),))
        try:
            with self.transaction():
                first_load = self._db.execute("SELECT 1 FROM requests LIMIT 1").fetchone() is None
                merged = self._merge_staged(results, schemas, cost, mark_dirty=not first_load)
                # The indexes and the rollup in the same transaction: one commit, not three.
                self._ensure_indexes()
                if first_load:
                    self._rebuild_rollup()
                else:
                    self._refresh_dirty_buckets()
                return merged
        finally:
            for schema in schemas:
                self._db.execute(f"DETACH DATABASE {schema}")

    def _merge_staged(
        self,
        results: Sequence[FileResult],
        schemas: list[str],
        cost: tuple[str, Sequence[Any]],
        *,
        mark_dirty: bool,
    ) -> int:
        stale = [r.cursor.path for r in results if not self._advance_file(r)]
        self._db.executemany(
            "INSERT OR REPLACE INTO rate_limits VALUES (?, ?, ?, ?, ?, ?)",
            [snapshot for r in results if r.cursor.path not in stale for snapshot in r.rate_limits],
        )
        self._db.executemany(
            _INSERT_PROMPT,
            [prompt for r in results if r.cursor.path not in stale for prompt in r.prompts],
        )
        merged = 0
        for schema in schemas:
            merged += self._db.execute(
                f"SELECT TOTAL(last_row - first_row + 1) FROM {schema}.staged_files"
            ).fetchone()[0]
            merged -= self._drop_staged(schema, stale)
        if not schemas:
            return 0
        staged = " UNION ALL ".join(
            f"SELECT {', '.join(STAGING_COLUMNS)} FROM {schema}.staging" for schema in schemas
        )
        expression, params = cost
        merge = _MERGE_STAGED.format(staged=staged, cost=expression, test="=") + _KEEP_LARGEST
        self._db.execute(merge, params)
        if any(r.cursor.source != CLAUDE_CODE for r in results):
            merge = _MERGE_STAGED.format(staged=staged, cost=expression, test="!=")
            self._db.execute(merge + _KEEP_SMALLEST, params)
        if mark_dirty:
            self._db.execute(
                "INSERT OR IGNORE INTO dirty_buckets "
                + " UNION ".join(
                    f"SELECT ts_ms / {BUCKET_MS} FROM {schema}.staging" for schema in schemas
                )
            )
        return int(merged)

    def _drop_staged(self, schema: str, paths: Iterable[str]) -> int:
        """Delete the rows one staging file holds for ``paths``; returns how many."""
        dropped = 0
        for path in paths:
            ranges = self._db.execute(
                f"SELECT first_row, last_row FROM {schema}.staged_files WHERE path = ?", (path,)
            ).fetchall()
            for first, last in ranges:
                dropped += self._db.execute(
                    f"DELETE FROM {schema}.staging WHERE rowid BETWEEN ? AND ?", (first, last)
                ).rowcount
        return dropped

    def refresh_rollup(self) -> int:
        """Recompute the rollup for every bucket touched since the last refresh.

        The rollup holds sums per (15-minute bucket, source, project, session, model),
        so reports read a few thousand rows whatever the size of the history. Buckets
        are marked dirty by inserts (in :meth:`commit_files`) and by any update of a
        request (a trigger records the bucket the old row was in). Returns how many
        buckets were dirty.
        """
        if self._db.execute("SELECT 1 FROM dirty_buckets LIMIT 1").fetchone() is None:
            return 0
        with self.transaction():
            return self._refresh_dirty_buckets()

    def _refresh_dirty_buckets(self) -> int:
        """Recompute the dirty buckets' rollup rows (inside a transaction)."""
        dirty = [b for (b,) in self._db.execute("SELECT bucket FROM dirty_buckets ORDER BY 1")]
        for low, high in _merge_ranges(dirty, gap=ROLLUP_MERGE_GAP):
            self._db.execute("DELETE FROM usage_rollup WHERE bucket BETWEEN ? AND ?", (low, high))
            self._db.execute(_ROLLUP_INSERT, (low * BUCKET_MS, (high + 1) * BUCKET_MS))
        self._db.execute("DELETE FROM dirty_buckets")
        return len(dirty)

    def _rebuild_rollup(self) -> None:
        """Recompute the whole rollup in one pass (inside a transaction): after a first load,
        when every bucket is new, this skips marking each one dirty."""
        self._db.execute("DELETE FROM usage_rollup")
        self._db.execute(_ROLLUP_INSERT_ALL)
        self._db.execute("DELETE FROM dirty_buckets")

    def _advance_file(self, result: FileResult) -> bool:
        """Store the file's new cursor and counters; False if another process got there first."""
        cursor, previous = result.cursor, result.previous
        fresh = previous is None or result.restarted or bool(previous.error)
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
            inserted = self._db.execute(
                "INSERT OR IGNORE INTO files (source, device, inode, size, mtime_ns, byte_offset,"
                " head_hash, pending_bytes, state, lines, records, skipped, notes, path)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, cursor.path),
            )
            return bool(inserted.rowcount)
        before = previous.cursor
        updated = self._db.execute(
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

    def record_rate_limits(self, snapshots: Iterable[RateLimitSnapshot]) -> None:
        """Store subscription-window readings reported outside the logs (the status line)."""
        with self.transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO rate_limits VALUES (?, ?, ?, ?, ?, ?)", list(snapshots)
            )

    def record_file_error(self, path: str, source: str, error: str) -> None:
        """Remember that ``path`` could not be read (shown by ``doctor``)."""
        with self.transaction():
            self._db.execute(
                "INSERT INTO files (path, source, error) VALUES (?, ?, ?)"
                " ON CONFLICT(path) DO UPDATE SET error = excluded.error",
                (path, source, error),
            )

    def mark_missing(self, gone: Iterable[str], back: Iterable[str] = ()) -> None:
        """Flag files that disappeared from disk (their requests stay) and unflag returned ones."""
        with self.transaction():
            self._db.executemany(
                "UPDATE files SET missing = 1 WHERE path = ?", ((p,) for p in gone)
            )
            self._db.executemany(
                "UPDATE files SET missing = 0 WHERE path = ?", ((p,) for p in back)
            )

    # -- prices --------------------------------------------------------------------------

    def price_cache(
        self, database_version: str
    ) -> dict[tuple[str, str, str], PriceSchedule | None]:
        """Cached price schedules, valid only for ``database_version`` of the price database.

        When the version changed, the cache is cleared and every request re-priced
        by the caller (see :meth:`needs_repricing`).
        """
        if self.meta("price_database") != database_version:
            return {}
        cache: dict[tuple[str, str, str], PriceSchedule | None] = {}
        for model, provider, context, schedule in self._db.execute("SELECT * FROM price_cache"):
            cache[(model, provider, context)] = (
                PriceSchedule.from_json(orjson.loads(schedule)) if schedule else None
            )
        return cache

    def needs_repricing(self, database_version: str) -> bool:
        """True when requests were priced with another version of the price database."""
        stored = self.meta("price_database")
        has_requests = self._db.execute("SELECT 1 FROM requests LIMIT 1").fetchone() is not None
        return stored != database_version and (stored is not None or has_requests)

    def save_prices(
        self,
        database_version: str,
        schedules: dict[tuple[str, str, str], PriceSchedule | None],
    ) -> None:
        """Add newly built schedules to the cache and note which database priced the ledger."""
        with self.transaction():
            if self.meta("price_database") != database_version:
                self._db.execute("DELETE FROM price_cache")
            self._db.executemany(
                "INSERT OR REPLACE INTO price_cache VALUES (?, ?, ?, ?)",
                [
                    (*key, orjson.dumps(s.to_json()).decode() if s else None)
                    for key, s in schedules.items()
                ],
            )
            self._set_meta("price_database", database_version)

    def all_requests(self) -> list[UsageRecord]:
        """Every list-priced request, for re-pricing after the price database changed.

        Cursor's requests carry what Cursor charged, not a list price: they are left out.
        """
        columns = ", ".join(UsageRecord._fields)
        return [
            UsageRecord._make((*row[:15], bool(row[15]), *row[16:]))
            for row in self._db.execute(f"SELECT {columns} FROM requests WHERE source != 'cursor'")
        ]

    def set_costs(self, costs: Iterable[tuple[float | None, str]]) -> None:
        """Replace the cost of requests, by dedup key."""
        with self.transaction():
            self._db.executemany("UPDATE requests SET cost_usd = ? WHERE dedup_key = ?", costs)

    # -- meta ----------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        """A value from the ledger's key/value table."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def transaction(self) -> Transaction:
        """One write transaction, for callers that need several writes to land together."""
        return Transaction(self._db, error=LedgerError, subject="the ledger")


def _add_counts(before: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    merged = dict(before)
    for key, count in more.items():
        merged[key] = merged.get(key, 0) + count
    return merged


def open_ledger(path: Path) -> Ledger:
    """Open (creating and migrating as needed) the ledger at ``path``."""
    return Ledger(path)
