"""``tokenbuddy import cursor-csv FILE...``: billed usage from a vendor's export files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tokenbuddy.errors import SourceError
from tokenbuddy.sources.cursor_csv import CsvRows, parse_export
from tokenbuddy.store import cursor as cursor_store
from tokenbuddy.store.ledger import Ledger, request_row
from tokenbuddy.store.paths import app_paths


def read_exports(files: list[str]) -> CsvRows:
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


def run_import(args: argparse.Namespace) -> int:
    """Import the files into the ledger and say what changed."""
    rows = read_exports(args.files)
    # Identical rows of overlapping files share a key: the last one read is kept.
    unique = {record.dedup_key: request_row(record, cost) for record, cost in rows.priced}
    paths = app_paths()
    paths.ensure()
    with Ledger(paths.ledger) as ledger:
        result = cursor_store.import_billed(ledger, list(unique.values()))
    print(
        f"{result.rows:,} Cursor requests read: {result.written:,} new or updated,"
        f" {result.unchanged - result.covered_by_api:,} already imported,"
        f" {result.covered_by_api:,} already billed by API usage events"
    )
    for reason, count in sorted(rows.bad_rows.items()):
        print(f"  {count:,} rows skipped: {reason}", file=sys.stderr)
    return 0
