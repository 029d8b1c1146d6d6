"""The staged bulk path: a large backlog parsed into staging files, then merged at once."""

from __future__ import annotations

from tokenbuddy.core.price_sql import cost_sql
from tokenbuddy.core.pricing import transcript_schedule_key
from tokenbuddy.services import price_loader
from tokenbuddy.services.ingest.pricing import PriceKey, ScheduleCache, price_book
from tokenbuddy.services.ingest.reads import Batch, readable
from tokenbuddy.services.ingest.summary import BatchReport, Progress
from tokenbuddy.services.ingest.workers import read_in_processes
from tokenbuddy.store.ledger import FileResult, Ledger
from tokenbuddy.store.staging import StagingFile, clear_stale, staging_dir


def ingest_staged(
    ledger: Ledger,
    batches: list[Batch],
    cached: ScheduleCache,
    workers: int,
    tracker: Progress,
) -> ScheduleCache:
    """A large backlog: parse in several processes into staging files, then merge once.

    One transaction commits everything at the end, so a process killed mid-load
    leaves the ledger as it was, and the next run starts the load again. Only
    this process prices, as it merges: the others never load the price database.
    """
    own = StagingFile(staging_dir(ledger.path))
    staged = {own.path}
    results: list[FileResult] = []
    price_keys: set[PriceKey] = set()
    book = price_book(cached)
    loader = price_loader.active()
    report = BatchReport()
    try:
        for batch_read in read_in_processes(batches, cached, workers, own):
            for key in batch_read.price_keys - price_keys:
                # Built now, while the other processes still parse (by the helper if any).
                schedule_key = transcript_schedule_key(*key)
                if loader is None or book.has_schedule(*schedule_key):
                    book.schedule(*schedule_key)
                else:
                    loader.prefetch(*schedule_key)
                price_keys.add(key)
            if batch_read.staging_path is not None:
                staged.add(batch_read.staging_path)
            results += readable(batch_read.reads, ledger, report)
            report.requests_written = sum(r.staged_rows for r in batch_read.reads)
            tracker.add(report)
            report = BatchReport()
        own.close()
        cost = cost_sql(book, price_keys)
        with ledger.rollback_journal(), ledger.bulk_load():
            ledger.commit_staged(results, sorted(staged), cost)
    finally:
        own.close()
        for path in staged:
            path.unlink(missing_ok=True)
        clear_stale(staging_dir(ledger.path))  # a worker stopped mid-batch (Ctrl+C) left its file
    return book.new_schedules
