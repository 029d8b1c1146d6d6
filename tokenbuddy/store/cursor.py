"""Cursor in the ledger: local estimates, billed rows, and which of them count.

Tables (ledger migrations 4 and 9):

- ``cursor_dbs``: each ``state.vscdb`` read, with the size and mtime of the file and its
  WAL when last read (an unchanged database costs a ``stat``), and what it held;
- ``cursor_composers``: each conversation's ``lastUpdatedAt`` when last read, so only
  conversations that moved are re-read;
- ``cursor_projects``: composer id → workspace folder, from the workspace databases;
- ``cursor_billed_ranges``: the periods billed rows cover, one per import or pull, merged
  (see :data:`~tokenbuddy.store.ledger.COUNTED`).

Estimates are source ``cursor-local``; billed rows are source ``cursor``, either API usage
events (keyed ``cursor:<user>:<ms>:<model>``) or imported CSV rows (``cursor:csv:...``).
An API event and a CSV row for the same request (same model, less than a second apart)
keep the API event only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.core.records import CURSOR
from tokenbuddy.core.report import BUCKET_MS
from tokenbuddy.core.units import DAY_MS
from tokenbuddy.store.ledger import (
    BILLED_RANGES,
    COUNTED,
    IN_BILLED_RANGE,
    RECORD_COLUMNS,
    request_row,
)
from tokenbuddy.store.ledger.rollup import mark_dirty

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Sequence

    from tokenbuddy.core.cursor_reads import DbRead, DbStat
    from tokenbuddy.core.pricing import PriceBook
    from tokenbuddy.store.ledger import Ledger

_LOCAL_KEYS = "dedup_key >= 'cursor-local:' AND dedup_key < 'cursor-local;'"
"""Estimates by key range: the primary key finds them without scanning other sources
(the ``+ts_ms`` next to it keeps the planner off the time index)."""
_CSV_KEYS = "dedup_key >= 'cursor:csv:' AND dedup_key < 'cursor:csv;'"
_KEY_USER = "substr({key}, 8, instr(substr({key}, 8), ':') - 1)"
"""The user part of an API event's key, ``cursor:<user>:<ms>:<model>``."""
_TEAM_KEYS = f"source = 'cursor' AND {_KEY_USER.format(key='dedup_key')} LIKE '%@%'"
"""Events from the team API: keyed by the member's e-mail (the personal API keys by id)."""
_UPSERT = (
    f"INSERT INTO requests ({', '.join(RECORD_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(RECORD_COLUMNS))})"
    " ON CONFLICT(dedup_key) DO UPDATE SET ts_ms = excluded.ts_ms,"
    " project = excluded.project, model = excluded.model,"
    " input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,"
    " cache_write_5m_tokens = excluded.cache_write_5m_tokens,"
    " cache_read_tokens = excluded.cache_read_tokens, cost_usd = excluded.cost_usd,"
    " total_tokens = excluded.total_tokens, reported_cost_usd = excluded.reported_cost_usd,"
    " billing_units = excluded.billing_units"
    " WHERE requests.ts_ms != excluded.ts_ms OR requests.project != excluded.project"
    " OR requests.model != excluded.model OR requests.total_tokens != excluded.total_tokens"
    " OR requests.cost_usd IS NOT excluded.cost_usd"
    " OR requests.reported_cost_usd IS NOT excluded.reported_cost_usd"
    " OR requests.billing_units != excluded.billing_units"
    " OR requests.cache_write_5m_tokens != excluded.cache_write_5m_tokens"
)
"""Upsert a request whose fields may change between reads (a CSV re-import, a bubble
that gained its token counts)."""


@dataclass(frozen=True, slots=True)
class StoredDb:
    """A Cursor database as the ledger last saw it."""

    path: str
    kind: str
    """``global`` (conversations) or ``workspace`` (composer → folder)."""
    size: int
    mtime_ns: int
    wal_size: int
    wal_mtime_ns: int
    error: str

    def unchanged(self, stat: DbStat) -> bool:
        """Whether the file and its WAL are as they were at the last successful read."""
        return not self.error and (
            self.size,
            self.mtime_ns,
            self.wal_size,
            self.wal_mtime_ns,
        ) == (stat.size, stat.mtime_ns, stat.wal_size, stat.wal_mtime_ns)


def stored_dbs(ledger: Ledger) -> dict[str, StoredDb]:
    """Every Cursor database the ledger has read, by path."""
    rows = ledger.db.execute(
        "SELECT path, kind, size, mtime_ns, wal_size, wal_mtime_ns, error FROM cursor_dbs"
    )
    return {row[0]: StoredDb(*row) for row in rows}


def watermarks(ledger: Ledger, path: str) -> dict[str, int]:
    """Each composer's ``lastUpdatedAt`` when ``path`` was last read."""
    rows = ledger.db.execute(
        "SELECT composer_id, last_updated_ms FROM cursor_composers WHERE db_path = ?", (path,)
    )
    return dict(rows.fetchall())


def projects(ledger: Ledger) -> dict[str, str]:
    """composer id → workspace folder, as far as the workspace databases told."""
    return dict(ledger.db.execute("SELECT composer_id, project FROM cursor_projects").fetchall())


def commit_workspace(
    ledger: Ledger, path: str, stat: DbStat, folder: str, composer_ids: Sequence[str]
) -> None:
    """Remember a workspace database's composers and its folder."""
    with ledger.transaction():
        ledger.db.executemany(
            "INSERT OR REPLACE INTO cursor_projects VALUES (?, ?)",
            [(composer_id, folder) for composer_id in composer_ids],
        )
        _save_db(ledger.db, path, "workspace", stat, {"composers": len(composer_ids)})


def commit_read(ledger: Ledger, read: DbRead, book: PriceBook) -> int:
    """Write one database read in one transaction; returns the requests written."""
    db = ledger.db
    rows = [request_row(r, book.cost(r)) for c in read.changed for r in c.records]
    with ledger.transaction():
        if read.error:
            db.execute(
                "INSERT INTO cursor_dbs (path, kind, error) VALUES (?, 'global', ?)"
                " ON CONFLICT(path) DO UPDATE SET error = excluded.error",
                (read.path, read.error),
            )
            return 0
        db.executemany(_UPSERT, rows)
        mark_dirty(db, {row[2] // BUCKET_MS for row in rows})
        db.executemany(
            "INSERT OR REPLACE INTO cursor_composers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (read.path, c.composer_id, c.last_updated_ms, c.version, c.bubbles,
                 len(c.records), c.unknown_tokens, c.estimated_tokens)
                for c in read.changed
            ],
        )  # fmt: skip
        _save_db(db, read.path, "global", read.stat, _db_counts(db, read))
    return len(rows)


def _db_counts(db: sqlite3.Connection, read: DbRead) -> dict[str, Any]:
    """A global database's counters: totals over its composers, this read's versions."""
    bubbles, requests, unknown = db.execute(
        "SELECT TOTAL(bubbles), TOTAL(requests), TOTAL(unknown_tokens) FROM cursor_composers"
        " WHERE db_path = ?",
        (read.path,),
    ).fetchone()
    row = db.execute(
        "SELECT versions, skipped FROM cursor_dbs WHERE path = ?", (read.path,)
    ).fetchone()
    versions, skipped = (orjson.loads(row[0]), orjson.loads(row[1])) if row else ({}, {})
    return {
        "composers": read.composers,
        "bubbles": int(bubbles),
        "requests": int(requests),
        "unknown_tokens": int(unknown),
        "versions": orjson.dumps({**versions, **read.versions}).decode(),
        "skipped": orjson.dumps(_add(skipped, read.skipped)).decode(),
        "read_mode": read.read_mode,
    }


def _add(before: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    merged = dict(before)
    for key, count in more.items():
        merged[key] = merged.get(key, 0) + count
    return merged


def _save_db(
    db: sqlite3.Connection, path: str, kind: str, stat: DbStat, counts: dict[str, Any]
) -> None:
    values = {
        "path": path,
        "kind": kind,
        "size": stat.size,
        "mtime_ns": stat.mtime_ns,
        "wal_size": stat.wal_size,
        "wal_mtime_ns": stat.wal_mtime_ns,
        "error": "",
        **counts,
    }
    names = ", ".join(values)
    db.execute(
        f"INSERT OR REPLACE INTO cursor_dbs ({names}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )


# -- billed rows -----------------------------------------------------------------------------


def billed_ranges(db: sqlite3.Connection) -> list[tuple[int, int]]:
    """The periods billed Cursor rows cover, ``(low_ms, high_ms)`` ascending."""
    rows = db.execute(f"SELECT low_ms, high_ms FROM {BILLED_RANGES} ORDER BY low_ms")
    return [(int(low), int(high)) for low, high in rows]


def add_billed_range(db: sqlite3.Connection, low_ms: int, high_ms: int) -> None:
    """Record that billed rows cover ``[low_ms, high_ms]``, merging it with the periods it
    overlaps or touches (inside a transaction).

    The rollup buckets of the estimates it newly covers are marked dirty: the next refresh
    leaves them out.
    """
    if high_ms < low_ms:
        return
    db.execute(
        "INSERT OR IGNORE INTO dirty_buckets SELECT DISTINCT ts_ms / ? FROM requests"
        f" WHERE {_LOCAL_KEYS} AND +ts_ms >= ? AND +ts_ms <= ? AND NOT {IN_BILLED_RANGE}",
        (BUCKET_MS, low_ms, high_ms),
    )
    touching = db.execute(
        f"SELECT low_ms, high_ms FROM {BILLED_RANGES} WHERE low_ms <= ? AND high_ms >= ?",
        (high_ms + 1, low_ms - 1),
    ).fetchall()
    for low, high in touching:
        low_ms, high_ms = min(low_ms, low), max(high_ms, high)
    db.executemany(f"DELETE FROM {BILLED_RANGES} WHERE low_ms = ? AND high_ms = ?", touching)
    db.execute(f"INSERT INTO {BILLED_RANGES} VALUES (?, ?)", (low_ms, high_ms))


def drop_csv_covered_by_api(db: sqlite3.Connection, low_ms: int, high_ms: int) -> int:
    """Delete CSV rows in [low, high] that an API event of the same model already bills
    (less than a second apart); returns how many (inside a transaction)."""
    covered = (
        f" FROM requests WHERE {_CSV_KEYS} AND +ts_ms >= ? AND +ts_ms <= ? AND EXISTS"
        " (SELECT 1 FROM requests AS api WHERE api.source = 'cursor'"
        " AND api.ts_ms > requests.ts_ms - 1000 AND api.ts_ms < requests.ts_ms + 1000"
        " AND api.model = requests.model AND api.dedup_key NOT LIKE 'cursor:csv:%')"
    )
    return _delete_marking_buckets(db, covered, (low_ms, high_ms))


def drop_team_events_seen_personally(db: sqlite3.Connection, low_ms: int, high_ms: int) -> int:
    """Delete events from the team feed (keyed by e-mail) in [low, high] that the personal
    feed (keyed by user id) already holds; returns how many (inside a transaction).

    With both ``cursor`` and ``cursor-team`` configured, a member's own requests come
    through both APIs under different keys. The same request has the same millisecond,
    model and token counts in both; two people's requests never agree on all of them.
    """
    covered = (
        f" FROM requests WHERE {_TEAM_KEYS} AND +ts_ms >= ? AND +ts_ms <= ? AND EXISTS"
        " (SELECT 1 FROM requests AS own WHERE own.source = 'cursor'"
        " AND own.ts_ms = requests.ts_ms AND own.model = requests.model"
        " AND own.input_tokens = requests.input_tokens"
        " AND own.output_tokens = requests.output_tokens"
        " AND own.cache_read_tokens = requests.cache_read_tokens"
        f" AND {_KEY_USER.format(key='own.dedup_key')} NOT LIKE '%@%'"
        " AND own.dedup_key NOT LIKE 'cursor:csv:%')"
    )
    return _delete_marking_buckets(db, covered, (low_ms, high_ms))


def _delete_marking_buckets(db: sqlite3.Connection, rows: str, params: tuple[Any, ...]) -> int:
    """Delete ``FROM requests WHERE ...`` (``rows``), marking their rollup buckets dirty."""
    db.execute(f"INSERT OR IGNORE INTO dirty_buckets SELECT ts_ms / {BUCKET_MS}{rows}", params)
    return int(db.execute(f"DELETE{rows}", params).rowcount)


def store_billed(
    db: sqlite3.Connection, rows: Sequence[tuple[Any, ...]], since_ms: int, until_ms: int
) -> None:
    """After a pull's billed Cursor rows were upserted: settle CSV/API overlaps and requests
    seen through both the personal and the team API, then record the period they bill.

    The period runs from the pull's start to its last event (at most ``until_ms``): a pull
    that found no event leaves the estimates alone, and requests Cursor has not listed yet
    keep their estimates until a later pull lists them.
    """
    billed = [row for row in rows if row[1] == CURSOR]
    if not billed:
        return
    stamps = [row[2] for row in billed]
    drop_csv_covered_by_api(db, min(stamps) - 1000, max(stamps) + 1000)
    drop_team_events_seen_personally(db, min(stamps), max(stamps))
    first, last = min(stamps), max(stamps)
    add_billed_range(db, min(since_ms, first), min(last, until_ms))


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What importing billed rows did."""

    rows: int
    """Rows in the files."""
    written: int
    """New rows, or rows whose figures changed."""
    covered_by_api: int
    """Rows left out because an API usage event already bills the same request."""

    @property
    def unchanged(self) -> int:
        """Rows already in the ledger as they are."""
        return self.rows - self.written


def import_billed(
    ledger: Ledger, rows: Sequence[tuple[Any, ...]], ranges: Sequence[tuple[int, int]]
) -> ImportResult:
    """Upsert billed Cursor rows (imported exports) in one transaction, record the period
    each file covers, then refresh the rollup."""
    if not rows:
        return ImportResult(0, 0, 0)
    db = ledger.db
    stamps = [row[2] for row in rows]
    with ledger.transaction():
        before = db.total_changes
        db.executemany(_UPSERT, rows)
        written = db.total_changes - before
        mark_dirty(db, {s // BUCKET_MS for s in stamps})
        covered = drop_csv_covered_by_api(db, min(stamps), max(stamps))
        for low, high in ranges:
            add_billed_range(db, low, high)
    ledger.refresh_rollup()
    return ImportResult(len(rows), max(written - covered, 0), covered)


# -- reading ---------------------------------------------------------------------------------


def unknown_token_requests(
    ledger: Ledger, since_ms: int | None = None, until_ms: int | None = None
) -> int:
    """Counted Cursor estimates whose tokens Cursor did not record."""
    return int(
        ledger.db.execute(
            f"SELECT COUNT(*) FROM requests WHERE {_LOCAL_KEYS} AND total_tokens = 0"
            f" AND +ts_ms >= ? AND +ts_ms < ? AND {COUNTED}",
            (since_ms if since_ms is not None else -(2**62), until_ms or 2**62),
        ).fetchone()[0]
    )


def doctor_report(ledger: Ledger) -> dict[str, Any]:
    """What ``doctor`` shows about Cursor: databases, versions, counts, the billed boundary."""
    db = ledger.db
    dbs = []
    for row in db.execute(
        "SELECT path, kind, composers, bubbles, requests, unknown_tokens, versions, skipped,"
        " read_mode, error FROM cursor_dbs ORDER BY kind, path"
    ):
        path, kind, composers, bubbles, requests, unknown, versions, skipped, mode, error = row
        dbs.append(
            {
                "path": path,
                "kind": kind,
                "composers": composers,
                "bubbles": bubbles,
                "requests": requests,
                "unknown_tokens": unknown,
                "versions": orjson.loads(versions),
                "skipped": orjson.loads(skipped),
                "read_mode": mode,
                "error": error,
            }
        )
    return {"databases": dbs, "billed_ranges": billed_ranges(db), "versions": _version_counts(db)}


def _version_counts(db: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """Per ``composerData`` ``_v``: requests with real, estimated and unknown token counts."""
    rows = db.execute(
        "SELECT version, TOTAL(requests), TOTAL(estimated_tokens), TOTAL(unknown_tokens)"
        " FROM cursor_composers GROUP BY version ORDER BY version"
    )
    return {
        version or "none": {
            "real": int(requests - estimated - unknown),
            "estimated": int(estimated),
            "unknown": int(unknown),
        }
        for version, requests, estimated, unknown in rows
    }


def reconciliation_sums(
    db: sqlite3.Connection, since_ms: int | None, until_ms: int | None
) -> list[tuple[int, str, str, float, bool]]:
    """(UTC day index, source, model, dollars, estimated) of Cursor estimates and billed
    rows inside the periods billed rows cover; estimates are read whether or not they
    count. ``estimated`` marks billed rows priced at list price (an export without a Cost
    column) apart from those whose figure Cursor billed."""
    low = since_ms if since_ms is not None else -(2**62)
    high = until_ms if until_ms is not None else 2**62
    rows = db.execute(
        f"SELECT ts_ms / {DAY_MS}, source, model, TOTAL(cost_usd),"
        " source = 'cursor' AND reported_cost_usd IS NULL FROM requests"
        f" WHERE ts_ms >= ? AND ts_ms < ? AND source IN ('cursor', 'cursor-local')"
        f" AND {IN_BILLED_RANGE} GROUP BY 1, 2, 3, 5",
        (low, high),
    )
    return [
        (int(day), str(source), str(model), float(usd), bool(estimated))
        for day, source, model, usd, estimated in rows
    ]
