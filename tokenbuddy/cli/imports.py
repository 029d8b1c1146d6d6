"""``tokenbuddy import cursor-csv FILE...``: billed usage from a vendor's export files."""

from __future__ import annotations

import argparse
import sys

from tokenbuddy.services.cursor_import import import_cursor_csv


def run_import(args: argparse.Namespace) -> int:
    """Import the files into the ledger and say what changed, and what is an estimate."""
    imported = import_cursor_csv(args.files)
    result = imported.result
    generations = ", ".join(f"{n} {name}" for name, n in sorted(imported.generations.items()))
    print(
        f"{result.rows:,} Cursor requests read ({generations} export):"
        f" {result.written:,} new or updated,"
        f" {result.unchanged - result.covered_by_api:,} already imported,"
        f" {result.covered_by_api:,} already billed by API usage events"
    )
    if imported.not_charged:
        print(
            f"  {imported.not_charged:,} errored, aborted or free requests: kept with their"
            " tokens, $0 billed"
        )
    if imported.estimated:
        unpriced = f", {imported.unpriced:,} of them unpriced" if imported.unpriced else ""
        print(
            f"  {imported.estimated:,} requests without a billed cost (no Cost column):"
            f" priced at list price, an estimate{unpriced}"
        )
    for reason, count in sorted(imported.bad_rows.items()):
        print(f"  {count:,} rows skipped: {reason}", file=sys.stderr)
    return 0
