"""Bringing the ledger up to date with the logs on disk.

One pass: discover transcript files, ``stat`` each against its cursor, read
only new bytes (in worker processes when there is a large backlog), price the
requests in this process, and commit them with their cursors in batches.

A warm pass with nothing new costs a ``stat`` per file and one query.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tokenbuddy.core.pricing import PriceBook, price_database_version
from tokenbuddy.core.records import (
    CLAUDE_CODE,
    ParseStats,
    RateLimitSnapshot,
    SkipReason,
    UsageRecord,
)
from tokenbuddy.sources import claude_code, codex
from tokenbuddy.sources.discovery import LogRoot, transcript_files
from tokenbuddy.sources.tailer import ChunkReader, FileCursor, ReadPlan, advance, plan_read
from tokenbuddy.store.ledger import FileResult, Ledger, StoredFile

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

PARALLEL_MIN_BYTES = 32 * 1024 * 1024
"""Below this much new data, worker processes cost more than they save."""
BATCH_RECORDS = 20_000
BATCH_FILES = 200


@dataclass(slots=True)
class IngestSummary:
    """What one pass did, for the CLI, the TUI and ``doctor``."""

    files_seen: int = 0
    files_read: int = 0
    bytes_read: int = 0
    requests_written: int = 0
    restarted_files: int = 0
    missing_files: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _RawResult:
    """A worker's read of one file, before pricing."""

    plan: ReadPlan
    cursor: FileCursor | None
    """The cursor after the read; None when the file could not be read."""
    records: list[UsageRecord]
    rate_limits: list[RateLimitSnapshot]
    stats: ParseStats
    bytes_read: int
    error: str = ""

    def priced(self, book: PriceBook, previous: StoredFile | None) -> FileResult:
        """The result ready to commit, each request with its cost."""
        assert self.cursor is not None
        cost = book.cost
        return FileResult(
            self.cursor,
            [(record, cost(record)) for record in self.records],
            self.rate_limits,
            self.stats.lines,
            self.stats.skipped,
            self.stats.notes,
            self.plan.restarted,
            previous,
        )


def read_file(plan: ReadPlan) -> _RawResult:
    """Parse the new bytes of one file (runs in a worker process)."""
    cursor = plan.cursor
    stats = ParseStats()
    reader = ChunkReader(cursor.path, cursor.offset)
    rate_limits: list[RateLimitSnapshot] = []
    try:
        if cursor.source == CLAUDE_CODE:
            context = claude_code.context_for(cursor.path)
            records: list[UsageRecord] = []
            for chunk in reader:
                records.extend(claude_code.parse_chunk(chunk, context, stats))
            state = cursor.state
        else:
            parser = codex.RolloutParser(
                dict(cursor.state) or codex.initial_state(cursor.path), stats
            )
            for chunk in reader:
                parser.feed_chunk(chunk)
            records, rate_limits, state = parser.records, parser.rate_limits, parser.state
        if reader.overlong_lines:
            stats.skip(SkipReason.LINE_TOO_LONG, reader.overlong_lines)
        new_cursor = advance(plan, reader, state)
    except OSError as error:
        message = f"cannot read {cursor.path}: {error.strerror or error}"
        return _RawResult(plan, None, [], [], stats, 0, message)
    return _RawResult(plan, new_cursor, records, rate_limits, stats, reader.offset - cursor.offset)


def sync(
    ledger: Ledger,
    roots: Iterable[LogRoot],
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IngestSummary:
    """Bring ``ledger`` up to date with every transcript under ``roots``."""
    summary = IngestSummary()
    files = _discover(roots, summary)
    plans, stored = _plan(ledger, files, summary)
    _reprice_if_needed(ledger)
    _ingest(ledger, plans, stored, summary, jobs=jobs, progress=progress)
    return summary


def sync_paths(ledger: Ledger, paths: Iterable[tuple[str, str]]) -> IngestSummary:
    """Bring the ledger up to date with specific (path, source) files only."""
    summary = IngestSummary()
    plans, stored = _plan(ledger, list(paths), summary, track_missing=False)
    _reprice_if_needed(ledger)
    _ingest(ledger, plans, stored, summary, jobs=1, progress=None)
    return summary


def _discover(roots: Iterable[LogRoot], summary: IngestSummary) -> list[tuple[str, str]]:
    files: list[tuple[str, str]] = []
    seen: set[str] = set()
    for root in roots:
        for path in transcript_files(root, summary.errors):
            if path not in seen:
                seen.add(path)
                files.append((path, root.source))
    return files


def _plan(
    ledger: Ledger,
    files: list[tuple[str, str]],
    summary: IngestSummary,
    *,
    track_missing: bool = True,
) -> tuple[list[ReadPlan], dict[str, StoredFile]]:
    stored = ledger.files()
    summary.files_seen = len(files)
    plans = []
    for path, source in files:
        known = stored.get(path)
        try:
            plan = plan_read(path, source, known.cursor if known and not known.error else None)
        except OSError as error:
            message = f"cannot read {path}: {error.strerror or error}"
            summary.errors.append(message)
            ledger.record_file_error(path, source, message)
            continue
        if plan is not None:
            plans.append(plan)
            summary.restarted_files += plan.restarted
    if track_missing:
        present = {path for path, _source in files}
        gone = [p for p, f in stored.items() if p not in present and not f.missing]
        if gone:
            ledger.mark_missing(gone)
        summary.missing_files = sum(1 for p in stored if p not in present)
    return plans, stored


def _reprice_if_needed(ledger: Ledger) -> None:
    """Re-price every request when the installed price database changed."""
    version = price_database_version()
    if not ledger.needs_repricing(version):
        return
    book = PriceBook()
    ledger.set_costs((book.cost(record), record.dedup_key) for record in ledger.all_requests())
    ledger.save_prices(version, book.new_schedules)


def _ingest(
    ledger: Ledger,
    plans: list[ReadPlan],
    stored: dict[str, StoredFile],
    summary: IngestSummary,
    *,
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
) -> None:
    if not plans:
        return
    version = price_database_version()
    book = PriceBook(ledger.price_cache(version))
    total_bytes = sum(max(plan.stat.st_size - plan.cursor.offset, 0) for plan in plans)
    done_bytes = 0
    batch: list[FileResult] = []
    batch_records = 0
    for raw in _read_all(plans, total_bytes, jobs):
        done_bytes += raw.bytes_read
        if raw.cursor is None:
            summary.errors.append(raw.error)
            ledger.record_file_error(raw.plan.cursor.path, raw.plan.cursor.source, raw.error)
            continue
        batch.append(raw.priced(book, stored.get(raw.plan.cursor.path)))
        batch_records += len(raw.records)
        summary.files_read += 1
        summary.bytes_read += raw.bytes_read
        if batch_records >= BATCH_RECORDS or len(batch) >= BATCH_FILES:
            summary.requests_written += ledger.commit_files(batch)
            batch, batch_records = [], 0
        if progress is not None:
            progress(done_bytes, total_bytes)
    summary.requests_written += ledger.commit_files(batch)
    if book.new_schedules:
        ledger.save_prices(version, book.new_schedules)


def _read_all(plans: list[ReadPlan], total_bytes: int, jobs: int | None) -> Iterator[_RawResult]:
    """Read every planned file, in worker processes when that pays off."""
    workers = _worker_count(jobs, total_bytes, len(plans))
    if workers <= 1:
        yield from map(read_file, plans)
        return
    ordered = sorted(plans, key=lambda plan: plan.stat.st_size - plan.cursor.offset, reverse=True)
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        yield from pool.imap_unordered(read_file, ordered, chunksize=1)


def _worker_count(jobs: int | None, total_bytes: int, files: int) -> int:
    """Worker processes to use: only with a large backlog, and only where forking is safe."""
    if jobs is not None and jobs <= 1:
        return 1
    if total_bytes < PARALLEL_MIN_BYTES or files < 2:
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if threading.active_count() > 1:
        return 1
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(jobs or 2, available or 1, files))
