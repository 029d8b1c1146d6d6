"""The ledger's tables: migrations, indexes, journal modes and connection settings.

``PRAGMA user_version`` holds the schema version. Each migration moves it one step
in its own transaction, so two processes opening an old ledger at once migrate it
once, and a ledger written by a newer tokenbuddy is refused rather than misread.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tokenbuddy.errors import LedgerVersionError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SCHEMA_VERSION = 9

_MIGRATIONS: dict[int, str] = {
    # 9: Cursor as it is. Billed rows replace local estimates only inside the periods
    # each import or pull covers (``cursor_billed_ranges``; a ledger's past imports count
    # as one period, from its oldest billed row to its newest). An export's
    # ``Input (w/ Cache Write)`` is the cache write itself: stored rows whose cache write
    # was taken as the difference get their input added back, and every imported row is
    # keyed by the counts that reading leaves alone. A billed row's figure is kept as
    # ``reported_cost_usd`` (what Cursor billed, unlike an estimate). Conversations are read
    # again, to count their requests with real, estimated and unknown tokens.
    9: """
    CREATE TABLE IF NOT EXISTS cursor_billed_ranges (
        low_ms INTEGER NOT NULL,
        high_ms INTEGER NOT NULL,
        PRIMARY KEY (low_ms, high_ms)
    ) WITHOUT ROWID;
    INSERT INTO cursor_billed_ranges SELECT MIN(ts_ms), MAX(ts_ms) FROM requests
        WHERE dedup_key >= 'cursor:' AND dedup_key < 'cursor;' HAVING COUNT(*) > 0;
    DROP TABLE IF EXISTS billed_until;
    UPDATE requests SET cache_write_5m_tokens = cache_write_5m_tokens + input_tokens,
        total_tokens = total_tokens + input_tokens
        WHERE dedup_key >= 'cursor:csv:' AND dedup_key < 'cursor:csv;'
        AND cache_write_5m_tokens > 0;
    CREATE TEMP TABLE csv_keys AS SELECT dedup_key AS old, 'cursor:csv:' || ts_ms || ':'
        || model || ':' || input_tokens || ':' || output_tokens || ':' || cache_read_tokens
        || ':' || (ROW_NUMBER() OVER (PARTITION BY ts_ms, model, input_tokens,
        output_tokens, cache_read_tokens ORDER BY dedup_key) - 1) AS new
        FROM requests WHERE dedup_key >= 'cursor:csv:' AND dedup_key < 'cursor:csv;';
    UPDATE requests SET dedup_key = (SELECT new FROM csv_keys WHERE old = dedup_key)
        WHERE dedup_key IN (SELECT old FROM csv_keys);
    DROP TABLE csv_keys;
    UPDATE requests SET reported_cost_usd = cost_usd
        WHERE source = 'cursor' AND cost_usd IS NOT NULL AND reported_cost_usd IS NULL;
    INSERT OR IGNORE INTO dirty_buckets SELECT DISTINCT ts_ms / 900000 FROM requests
        WHERE source IN ('cursor', 'cursor-local');
    ALTER TABLE cursor_composers ADD COLUMN estimated_tokens INTEGER NOT NULL DEFAULT 0;
    DELETE FROM cursor_composers;
    UPDATE cursor_dbs SET size = -1 WHERE kind = 'global';
    """,
    # 8: what an agent itself says a request cost (OpenCode's and Cline's ``cost``,
    # Copilot's AI credits) and its own billing units (Copilot's premium requests), kept
    # next to the list-price estimate; the rollup sums them per bucket.
    8: """
    ALTER TABLE requests ADD COLUMN reported_cost_usd REAL;
    ALTER TABLE requests ADD COLUMN billing_units REAL NOT NULL DEFAULT 0;
    ALTER TABLE usage_rollup ADD COLUMN reported_cost_usd REAL NOT NULL DEFAULT 0;
    ALTER TABLE usage_rollup ADD COLUMN reported_requests INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE usage_rollup ADD COLUMN billing_units REAL NOT NULL DEFAULT 0;
    """,
    # 7: how each request's session was started (Claude Code's entrypoint, Codex's
    # originator). As for 2, the logs still on disk are read once more: the requests
    # are already in the ledger, and the upserts keep one copy and fill in its
    # entrypoint. Requests whose logs are gone keep an empty one.
    7: """
    ALTER TABLE requests ADD COLUMN entrypoint TEXT NOT NULL DEFAULT '';
    DELETE FROM files WHERE missing = 0 AND source IN ('claude-code', 'codex');
    """,
    # 6: the guard's decisions (tokenbuddy.store.guard_decisions), imported from the
    # journal its hook appends to; each journal line's id is kept once.
    6: """
    CREATE TABLE IF NOT EXISTS guard_decisions (
        id TEXT PRIMARY KEY,
        ts_ms INTEGER NOT NULL,
        decision TEXT NOT NULL,
        event TEXT NOT NULL,
        rule TEXT NOT NULL DEFAULT '',
        session_id TEXT NOT NULL DEFAULT '',
        entrypoint TEXT NOT NULL DEFAULT '',
        tool TEXT NOT NULL DEFAULT '',
        message TEXT NOT NULL DEFAULT '',
        until_ms INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS guard_decisions_ts ON guard_decisions(ts_ms);
    """,
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


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing ledger of this schema.

    A WAL database needs its ``-shm`` file, which a read-only directory may lack (the
    last writer removed it on close); it is then opened as immutable, as nothing can
    write it there anyway.
    """
    if not path.is_file():
        raise sqlite3.OperationalError("unable to open database file")
    try:
        db = _connect_read_only(path, "mode=ro")
    except sqlite3.OperationalError:
        db = _connect_read_only(path, "mode=ro&immutable=1")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version != SCHEMA_VERSION:
        db.close()
        raise LedgerVersionError(
            f"the ledger at {path} is read-only and has schema {version}, not"
            f" {SCHEMA_VERSION}: it cannot be migrated"
        )
    return db


def _connect_read_only(path: Path, options: str) -> sqlite3.Connection:
    db = sqlite3.connect(f"{path.as_uri()}?{options}", uri=True, isolation_level=None)
    try:
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def configure(db: sqlite3.Connection) -> None:
    """Set the connection up: WAL, a large page cache, checkpoints in big steps."""
    db.execute("PRAGMA page_size=16384")  # only takes effect on a new ledger
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA cache_size=-32768")
    db.execute("PRAGMA wal_autocheckpoint=4096")


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the ledger at ``path`` to :data:`SCHEMA_VERSION`, one step per transaction."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise LedgerVersionError(
            f"the ledger at {path} has schema {version}, newer than this tokenbuddy "
            f"understands ({SCHEMA_VERSION}); upgrade tokenbuddy"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            current = db.execute("PRAGMA user_version").fetchone()[0]
            if current < target:
                for statement in _statements(_MIGRATIONS[target]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {target}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite ends it itself on a full disk or an I/O error
                db.execute("ROLLBACK")
            raise


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


def ensure_indexes(db: sqlite3.Connection) -> None:
    """Create the time and session indexes of ``requests`` where they are missing."""
    db.execute("CREATE INDEX IF NOT EXISTS requests_ts ON requests(ts_ms)")
    db.execute("CREATE INDEX IF NOT EXISTS requests_session ON requests(session_id, ts_ms)")


@contextmanager
def without_indexes(db: sqlite3.Connection) -> Iterator[None]:
    """Write a large backlog without maintaining the time index, then rebuild it.

    Keeping the time and session indexes up to date row by row doubles the
    cost of a cold ingest; building them once afterwards is a sort. If the process
    dies in between, the next open rebuilds the index.
    """
    db.execute("DROP INDEX IF EXISTS requests_ts")
    db.execute("DROP INDEX IF EXISTS requests_session")
    try:
        yield
    finally:
        ensure_indexes(db)


@contextmanager
def rollback_journal(db: sqlite3.Connection) -> Iterator[None]:
    """Write through a rollback journal instead of the WAL, then go back to WAL.

    A load that fills an empty ledger writes its pages straight into the database
    file (new pages need no journal), instead of writing them to the WAL and
    copying them back on close. Still crash-safe: a hot journal is rolled back on
    the next open. When another connection holds the ledger open, the switch
    fails harmlessly and the load goes through the WAL as usual.
    """
    switched = _set_journal_mode(db, "delete")
    try:
        yield
    finally:
        if switched:
            _set_journal_mode(db, "wal")


def _set_journal_mode(db: sqlite3.Connection, mode: str) -> bool:
    """Switch the journal mode; False when SQLite refused (the ledger is in use)."""
    try:
        row = db.execute(f"PRAGMA journal_mode={mode}").fetchone()
    except sqlite3.OperationalError:
        return False
    return str(row[0]).lower() == mode
