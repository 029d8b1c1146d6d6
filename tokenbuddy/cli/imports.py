"""``tokenbuddy import cursor-csv FILE...``: billed usage from a vendor's export files."""

from __future__ import annotations

import argparse
import sys

from tokenbuddy.services.cursor_import import import_cursor_csv


def run_import(args: argparse.Namespace) -> int:
    """Import the files into the ledger and say what changed."""
    imported = import_cursor_csv(args.files)
    result = imported.result
    print(
        f"{result.rows:,} Cursor requests read: {result.written:,} new or updated,"
        f" {result.unchanged - result.covered_by_api:,} already imported,"
        f" {result.covered_by_api:,} already billed by API usage events"
    )
    for reason, count in sorted(imported.bad_rows.items()):
        print(f"  {count:,} rows skipped: {reason}", file=sys.stderr)
    return 0
