"""Importing the Cursor dashboard's usage CSV exports into the ledger as billed usage.

Rows whose export says what was billed keep that figure; rows of an export without a
Cost column (v3) are priced at list price with the price database, an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tokenbuddy.core.pricing import PriceBook
from tokenbuddy.errors import SourceError
from tokenbuddy.services.ingest.pricing import price_database_version
from tokenbuddy.sources.cursor_csv import CsvRows, parse_export
from tokenbuddy.store import cursor as cursor_store
from tokenbuddy.store.ledger import RECORD_COLUMNS, Ledger, request_row
from tokenbuddy.store.paths import app_paths

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any


@dataclass(frozen=True, slots=True)
class CsvImport:
    """What an import changed in the ledger, and the rows it could not use."""

    result: cursor_store.ImportResult
    bad_rows: dict[str, int]
    """Rows skipped, by reason."""
    generations: dict[str, int]
    """Files read per export generation (``v1``, ``v2``, ``v3``)."""
    estimated: int
    """Rows with no billed figure, priced at list price."""
    unpriced: int
    """Of those, rows whose model has no known price (no cost, never $0)."""
    not_charged: int
    """Errored, aborted and free rows: their tokens kept at $0."""


def read_exports(files: Iterable[str]) -> CsvRows:
    """Every row of every file; raises ``SourceError`` for a file that cannot be used."""
    merged = CsvRows()
    for name in files:
        try:
            text = Path(name).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise SourceError(f"cannot read {name}: {error}") from None
        merged.merge(parse_export(text, name))
    return merged


def priced_rows(rows: CsvRows, book: PriceBook) -> list[tuple[Any, ...]]:
    """The ``requests`` rows, each once: a billed figure where the export has one, else
    the list price (None when the model has none). Identical rows of overlapping files
    share a key: the last one read is kept."""
    unique = {
        record.dedup_key: request_row(record, book.cost(record) if billed is None else billed)
        for record, billed in rows.priced
    }
    return list(unique.values())


def import_cursor_csv(files: Iterable[str]) -> CsvImport:
    """Read the exported files and store their requests in the user's ledger."""
    rows = read_exports(files)
    paths = app_paths()
    paths.ensure()
    with Ledger(paths.ledger) as ledger:
        version = price_database_version()
        book = PriceBook(ledger.price_cache(version))
        table = priced_rows(rows, book)
        if book.new_schedules:
            ledger.save_prices(version, book.new_schedules)
        result = cursor_store.import_billed(ledger, table, rows.ranges)
    estimated, unpriced = _estimate_counts(table)
    return CsvImport(result, rows.bad_rows, rows.generations, estimated, unpriced, rows.not_charged)


def _estimate_counts(table: Sequence[tuple[Any, ...]]) -> tuple[int, int]:
    """(rows priced at list price, of which unpriced) among the rows to store."""
    reported, cost = RECORD_COLUMNS.index("reported_cost_usd"), RECORD_COLUMNS.index("cost_usd")
    estimated = [row for row in table if row[reported] is None]
    return len(estimated), sum(1 for row in estimated if row[cost] is None)
