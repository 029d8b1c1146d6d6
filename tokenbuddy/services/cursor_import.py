"""Importing the Cursor dashboard's usage CSV exports into the ledger as billed usage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tokenbuddy.errors import SourceError
from tokenbuddy.sources.cursor_csv import CsvRows, parse_export
from tokenbuddy.store import cursor as cursor_store
from tokenbuddy.store.ledger import Ledger, request_row
from tokenbuddy.store.paths import app_paths

if TYPE_CHECKING:
    from collections.abc import Iterable


@dataclass(frozen=True, slots=True)
class CsvImport:
    """What an import changed in the ledger, and the rows it could not use."""

    result: cursor_store.ImportResult
    bad_rows: dict[str, int]
    """Rows skipped, by reason."""


def read_exports(files: Iterable[str]) -> CsvRows:
    """Every row of every file; raises ``SourceError`` for a file that cannot be used."""
    merged = CsvRows()
    for name in files:
        try:
            text = Path(name).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise SourceError(f"cannot read {name}: {error}") from None
        rows = parse_export(text, name)
        merged.priced.extend(rows.priced)
        for reason, count in rows.bad_rows.items():
            merged.bad_rows[reason] = merged.bad_rows.get(reason, 0) + count
    return merged


def import_cursor_csv(files: Iterable[str]) -> CsvImport:
    """Read the exported files and store their requests in the user's ledger."""
    rows = read_exports(files)
    # Identical rows of overlapping files share a key: the last one read is kept.
    unique = {record.dedup_key: request_row(record, cost) for record, cost in rows.priced}
    paths = app_paths()
    paths.ensure()
    with Ledger(paths.ledger) as ledger:
        result = cursor_store.import_billed(ledger, list(unique.values()))
    return CsvImport(result, rows.bad_rows)
