"""Price schedules kept between runs, and the re-pricing of stored requests.

Building a schedule from the price database costs more than reading it back. The
cache is valid only for the version of the price database that built it, kept in
``meta`` as ``price_database``; that version also says what priced the stored
requests, so a new one means every request is priced again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from tokenbuddy.core.pricing import PriceSchedule
from tokenbuddy.core.records import UsageRecord

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable

_VERSION_KEY = "price_database"


def load_schedules(
    db: sqlite3.Connection, database_version: str
) -> dict[tuple[str, str, str], PriceSchedule | None]:
    """Cached price schedules, valid only for ``database_version`` of the price database.

    When the version changed, the cache is cleared and every request re-priced
    by the caller (see :func:`needs_repricing`).
    """
    if _meta(db, _VERSION_KEY) != database_version:
        return {}
    cache: dict[tuple[str, str, str], PriceSchedule | None] = {}
    for model, provider, context, schedule in db.execute("SELECT * FROM price_cache"):
        cache[(model, provider, context)] = (
            PriceSchedule.from_json(orjson.loads(schedule)) if schedule else None
        )
    return cache


def needs_repricing(db: sqlite3.Connection, database_version: str) -> bool:
    """True when requests were priced with another version of the price database."""
    stored = _meta(db, _VERSION_KEY)
    has_requests = db.execute("SELECT 1 FROM requests LIMIT 1").fetchone() is not None
    return stored != database_version and (stored is not None or has_requests)


def save_schedules(
    db: sqlite3.Connection,
    database_version: str,
    schedules: dict[tuple[str, str, str], PriceSchedule | None],
) -> None:
    """Add newly built schedules to the cache and note which database priced the ledger
    (inside a transaction)."""
    if _meta(db, _VERSION_KEY) != database_version:
        db.execute("DELETE FROM price_cache")
    db.executemany(
        "INSERT OR REPLACE INTO price_cache VALUES (?, ?, ?, ?)",
        [(*key, orjson.dumps(s.to_json()).decode() if s else None) for key, s in schedules.items()],
    )
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_VERSION_KEY, database_version))


def list_priced_requests(db: sqlite3.Connection) -> list[UsageRecord]:
    """Every list-priced request, for re-pricing after the price database changed.

    Cursor's requests carry what Cursor charged, not a list price: they are left out.
    """
    columns = ", ".join(UsageRecord._fields)
    return [
        UsageRecord._make((*row[:15], bool(row[15]), *row[16:]))
        for row in db.execute(f"SELECT {columns} FROM requests WHERE source != 'cursor'")
    ]


def set_costs(db: sqlite3.Connection, costs: Iterable[tuple[float | None, str]]) -> None:
    """Replace the cost of requests, by dedup key (inside a transaction)."""
    db.executemany("UPDATE requests SET cost_usd = ? WHERE dedup_key = ?", costs)


def _meta(db: sqlite3.Connection, key: str) -> str | None:
    """A value from the ledger's key/value table."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])
