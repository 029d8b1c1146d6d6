"""Bringing the ledger up to date with the logs on disk.

One pass: discover transcript files, ``stat`` each against its cursor, then
read, price and commit only the new bytes.

- The incremental path (the usual case, and the live dashboard's) reads and
  commits batch by batch in this process.
- A large backlog (a first run) is parsed by several processes at once, each
  appending its records to a private staging file; the ledger then prices and
  merges them in one transaction. Upserting row by row in random key
  order would cost more than the parsing, and two SQLite writers would keep
  invalidating each other's page cache.

A warm pass with nothing new costs a ``stat`` per file.

- ``passes``: the pass itself (discovery, planning, the incremental path);
- ``reads``: reading, pricing and committing files in batches;
- ``workers`` and ``staged``: the parallel parsing and the staged bulk merge;
- ``chat_stores``: the databases of chat-store sources (Cursor's local store);
- ``pricing``: the price database's version, price books and repricing;
- ``summary``: what a pass did.
"""

from tokenbuddy.services.ingest.chat_stores import sync_cursor
from tokenbuddy.services.ingest.passes import backlog_is_large, sync, sync_paths
from tokenbuddy.services.ingest.pricing import price_database_version
from tokenbuddy.services.ingest.summary import IngestSummary

__all__ = [
    "IngestSummary",
    "backlog_is_large",
    "price_database_version",
    "sync",
    "sync_cursor",
    "sync_paths",
]
