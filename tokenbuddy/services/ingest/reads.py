"""Reading files in batches: parsing and pricing new bytes, and committing the results.

A file is read by the transcript reader its source's registry record names.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokenbuddy.clock import now_ms
from tokenbuddy.core.file_cursor import FileCursor
from tokenbuddy.core.pricing import PriceBook
from tokenbuddy.core.records import (
    ParseStats,
    PromptMark,
    RateLimitSnapshot,
    SkipReason,
    UsageRecord,
    plausible_time,
)
from tokenbuddy.services.ingest.pricing import PriceKey, price_key
from tokenbuddy.services.ingest.summary import BatchReport
from tokenbuddy.sources import registry
from tokenbuddy.sources.tailer import ChunkReader, ReadPlan, advance, advance_document
from tokenbuddy.store.ledger import FileResult, Ledger, StoredFile, request_row
from tokenbuddy.store.staging import StagingFile

if TYPE_CHECKING:
    from collections.abc import Sequence

BATCH_BYTES = 24 * 1024 * 1024
BATCH_FILES = 200


@dataclass(frozen=True, slots=True)
class Batch:
    """Files read and committed together: (plan, the file's row when planned)."""

    files: list[tuple[ReadPlan, StoredFile | None]]

    @property
    def new_bytes(self) -> int:
        return sum(new_bytes_of(plan) for plan, _ in self.files)


@dataclass(frozen=True, slots=True)
class FileRead:
    """One file's new bytes, parsed and priced (in a worker process for a large backlog).

    Rows are plain tuples: they pickle several times faster than NamedTuples.
    """

    plan: ReadPlan
    previous: StoredFile | None
    cursor: FileCursor | None
    """The cursor after the read; None when the file could not be read."""
    rows: Sequence[tuple[Any, ...]]
    """Request rows; for a bulk load, the unpriced records, bound for a staging file."""
    rate_limits: list[RateLimitSnapshot]
    stats: ParseStats
    error: str = ""
    prompts: list[PromptMark] = field(default_factory=list)
    staged_rows: int = 0
    """Rows written to a staging file instead of ``rows`` (bulk loads)."""
    whole: bool = False
    """A document read whole: its counters replace the file's stored ones."""

    def result(self) -> FileResult:
        """The read as the ledger commits it."""
        assert self.cursor is not None
        stats = self.stats
        return FileResult(
            self.cursor,
            self.rows,
            self.rate_limits,
            stats.lines,
            stats.skipped,
            stats.notes,
            self.plan.restarted,
            self.previous,
            self.prompts,
            self.staged_rows,
            self.whole,
        )


@dataclass(frozen=True, slots=True)
class BatchRead:
    """A batch of file reads; for a bulk load, where their records were staged."""

    reads: list[FileRead]
    staging_path: Path | None = None
    price_keys: set[PriceKey] = field(default_factory=set)
    """The (model, source, speed) of the staged records, which the merge prices."""


def group_batches(plans: list[tuple[ReadPlan, StoredFile | None]]) -> list[Batch]:
    """Group files into batches of about BATCH_BYTES, largest files first."""
    ordered = sorted(plans, key=lambda item: new_bytes_of(item[0]), reverse=True)
    batches: list[Batch] = []
    current: list[tuple[ReadPlan, StoredFile | None]] = []
    size = 0
    for item in ordered:
        current.append(item)
        size += new_bytes_of(item[0])
        if size >= BATCH_BYTES or len(current) >= BATCH_FILES:
            batches.append(Batch(current))
            current, size = [], 0
    if current:
        batches.append(Batch(current))
    return batches


def new_bytes_of(plan: ReadPlan) -> int:
    """The bytes a plan has yet to read."""
    return max(plan.stat.st_size - plan.cursor.offset, 0)


def read_file(
    plan: ReadPlan, book: PriceBook | None, previous: StoredFile | None = None
) -> FileRead:
    """Parse and price the new bytes of one file; without ``book``, the rows are the
    unpriced records (a bulk load prices them as it merges)."""
    cursor = plan.cursor
    stats = ParseStats()
    source = registry.source(cursor.source)
    if source.documents is not None:
        return read_document(plan, source.documents, book, previous)
    reader = ChunkReader(cursor.path, cursor.offset)
    transcripts = source.transcripts
    assert transcripts is not None, f"{cursor.source} writes no transcripts"
    try:
        parser = transcripts.open(cursor.path, cursor.state, stats)
        for chunk in reader:
            parser.feed_chunk(chunk)
        unrecovered = reader.overlong_lines - parser.finish(reader.overlong_edges)
        if unrecovered > 0:
            stats.skip(SkipReason.LINE_TOO_LONG, unrecovered)
        new_cursor = advance(plan, reader, parser.state)
    except OSError as error:
        message = f"cannot read {cursor.path}: {error.strerror or error}"
        return FileRead(plan, previous, None, [], [], stats, message)
    except Exception as error:  # noqa: BLE001 - a reader's flaw costs one file, not the pass
        return FileRead(plan, previous, None, [], [], stats, unparsable(cursor.path, error))
    now = now_ms()
    rows = priced(plausible(parser.records, stats, now), book)
    return FileRead(
        plan,
        previous,
        new_cursor,
        rows,
        [limit for limit in parser.rate_limits if plausible_time(limit.ts_ms, now)],
        stats,
        prompts=[prompt for prompt in parser.prompts if plausible_time(prompt.ts_ms, now)],
    )


def plausible(records: list[UsageRecord], stats: ParseStats, now: int) -> list[UsageRecord]:
    """The records dated from 2020 to a day from ``now``; the others are counted as skipped
    lines, for every source alike (``doctor`` lists them, the reports count them)."""
    kept = [record for record in records if plausible_time(record.ts_ms, now)]
    if len(kept) < len(records):
        stats.skip(SkipReason.IMPLAUSIBLE_DATE, len(records) - len(kept))
    return kept


def read_document(
    plan: ReadPlan,
    documents: registry.Documents,
    book: PriceBook | None,
    previous: StoredFile | None,
) -> FileRead:
    """Read one document that changed, whole or from its reader's watermark."""
    cursor = plan.cursor
    stats = ParseStats()
    try:
        found = documents.read(cursor.path, dict(cursor.state), stats)
    except OSError as error:
        message = f"cannot read {cursor.path}: {error.strerror or error}"
        return FileRead(plan, previous, None, [], [], stats, message)
    except Exception as error:  # noqa: BLE001 - a reader's flaw costs one file, not the pass
        return FileRead(plan, previous, None, [], [], stats, unparsable(cursor.path, error))
    now = now_ms()
    records = plausible(found.records, stats, now)
    stats.records = len(records)
    return FileRead(
        plan,
        previous,
        advance_document(plan, found.state),
        priced(records, book),
        [],
        stats,
        prompts=[prompt for prompt in found.prompts if plausible_time(prompt.ts_ms, now)],
        whole=found.whole,
    )


def unparsable(path: str, error: Exception) -> str:
    """The file error of a reader that failed on a file it should have read: the file is
    left unread (and tried again on the next pass) while every other file is read."""
    return (
        f"cannot parse {path}: {type(error).__name__}: {error} (left unread; tokenbuddy"
        " doctor lists it: please report it with the agent's version)"
    )


def priced(records: list[UsageRecord], book: PriceBook | None) -> Sequence[tuple[Any, ...]]:
    """Request rows for ``records``, priced with ``book``; without one, the unpriced
    records (a bulk load prices them as it merges)."""
    if book is None:
        return records
    cost = book.cost
    return [request_row(record, cost(record)) for record in records]


def read_batch(batch: Batch, book: PriceBook) -> BatchRead:
    """Parse and price a batch."""
    return BatchRead([read_file(plan, book, previous) for plan, previous in batch.files])


def stage_batch(batch: Batch, staging: StagingFile) -> BatchRead:
    """Parse a batch into ``staging``, unpriced; the merge prices the records."""
    reads = [read_file(plan, None, previous) for plan, previous in batch.files]
    staging.add((read.plan.cursor.path, read.rows) for read in reads if read.rows)
    keys = {key for read in reads for key in map(price_key, read.rows)}
    reads = [replace(read, rows=[], staged_rows=len(read.rows)) for read in reads]
    return BatchRead(reads, staging.path, keys)


def commit_reads(reads: list[FileRead], ledger: Ledger) -> BatchReport:
    """Commit one batch of reads in one transaction."""
    report = BatchReport()
    results = readable(reads, ledger, report)
    report.requests_written = ledger.commit_files(results)
    return report


def readable(reads: list[FileRead], ledger: Ledger, report: BatchReport) -> list[FileResult]:
    """The reads that succeeded, as results; failures are recorded as file errors."""
    results: list[FileResult] = []
    for read in reads:
        report.planned_bytes += new_bytes_of(read.plan)
        if read.cursor is None:
            report.errors.append(read.error)
            ledger.record_file_error(read.plan.cursor.path, read.plan.cursor.source, read.error)
            continue
        results.append(read.result())
        report.files_read += 1
        report.bytes_read += read.cursor.offset - read.plan.cursor.offset
    return results
