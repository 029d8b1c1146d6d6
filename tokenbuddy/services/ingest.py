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
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections import deque
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokenbuddy.core.pricing import PriceBook, PriceSchedule, transcript_schedule_key
from tokenbuddy.core.records import (
    ParseStats,
    PromptMark,
    RateLimitSnapshot,
    SkipReason,
    UsageRecord,
)
from tokenbuddy.services import price_loader
from tokenbuddy.sources import registry
from tokenbuddy.sources.discovery import LogRoot, transcript_files
from tokenbuddy.sources.tailer import ChunkReader, FileCursor, ReadPlan, advance, plan_read
from tokenbuddy.store.ledger import FileResult, Ledger, StoredFile, request_row
from tokenbuddy.store.staging import StagingFile, clear_stale

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

PARALLEL_MIN_BYTES = 32 * 1024 * 1024
"""Below this much new data, worker processes cost more than they save
(``TOKENBUDDY_PARALLEL_MIN_MB`` overrides it)."""
BULK_MIN_BYTES = 64 * 1024 * 1024
"""From this much new data on, the time index is rebuilt after the load, not kept up."""
BATCH_BYTES = 24 * 1024 * 1024
BATCH_FILES = 200

ScheduleCache = dict[tuple[str, str, str], PriceSchedule | None]
PriceKey = tuple[str, str, str]
"""A record's (model, source, speed): what decides the schedule it is priced with."""
_price_key = itemgetter(*(UsageRecord._fields.index(name) for name in ("model", "source", "speed")))


@dataclass(slots=True)
class IngestSummary:
    """What one pass did, for the CLI, the TUI and ``doctor``."""

    files_seen: int = 0
    files_read: int = 0
    bytes_read: int = 0
    requests_written: int = 0
    restarted_files: int = 0
    missing_files: int = 0
    cursor_dbs_read: int = 0
    """Cursor databases that changed since the last pass and were read."""
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Batch:
    """Files read and committed together: (plan, the file's row when planned)."""

    files: list[tuple[ReadPlan, StoredFile | None]]

    @property
    def new_bytes(self) -> int:
        return sum(_new_bytes(plan) for plan, _ in self.files)


@dataclass(slots=True)
class _BatchReport:
    """What committing one batch did."""

    planned_bytes: int = 0
    files_read: int = 0
    bytes_read: int = 0
    requests_written: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _FileRead:
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
        )


@dataclass(frozen=True, slots=True)
class _BatchRead:
    """A batch of file reads; for a bulk load, where their records were staged."""

    reads: list[_FileRead]
    staging_path: Path | None = None
    price_keys: set[PriceKey] = field(default_factory=set)
    """The (model, source, speed) of the staged records, which the merge prices."""


def sync(
    ledger: Ledger,
    roots: Iterable[LogRoot],
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IngestSummary:
    """Bring ``ledger`` up to date with every transcript and Cursor store under ``roots``."""
    summary = IngestSummary()
    roots = list(roots)
    files = _discover(roots, summary)
    plans = _plan(ledger, files, summary)
    _reprice_if_needed(ledger)
    _ingest(ledger, plans, summary, jobs=jobs, progress=progress)
    price_loader.release()  # its work is done; it ends while this process goes on
    sync_cursor(ledger, roots, summary)
    ledger.refresh_rollup()
    return summary


def sync_paths(ledger: Ledger, paths: Iterable[tuple[str, str]]) -> IngestSummary:
    """Bring the ledger up to date with specific (path, source) files only.

    A database source's file (Cursor's ``state.vscdb`` or its ``-wal``) stands for the
    root it was watched under.
    """
    summary = IngestSummary()
    transcripts, store_roots = [], {}
    for path, name in paths:
        source = registry.source(name)
        if source.transcripts is not None:
            transcripts.append((path, name))
        else:
            root = source.watch.root_of(path)
            store_roots[root] = LogRoot(name, root, "watch")
    plans = _plan(ledger, transcripts, summary, track_missing=False)
    _reprice_if_needed(ledger)
    _ingest(ledger, plans, summary, jobs=1, progress=None)
    sync_cursor(ledger, store_roots.values(), summary)
    ledger.refresh_rollup()
    return summary


def sync_cursor(
    ledger: Ledger, roots: Iterable[LogRoot], summary: IngestSummary | None = None
) -> IngestSummary:
    """Read the databases under the roots of database sources (Cursor's local store) that
    changed since the last pass.

    Costs a ``stat`` per root when Cursor is not installed, and two per store when
    nothing changed. The rollup is refreshed by the caller.
    """
    summary = summary if summary is not None else IngestSummary()
    found = [
        (store, root.path)
        for root in roots
        if (store := registry.source(root.source).chat_store) is not None and root.exists
    ]
    if not found:
        return summary
    from tokenbuddy.store import cursor as cursor_store

    stored = cursor_store.stored_dbs(ledger.db)
    for store, root in found:
        path = store.database(root)
        stat = store.stat(path)
        known = stored.get(str(path))
        if stat is None or (known is not None and known.unchanged(stat)):
            continue
        _sync_workspaces(ledger, store, root, stored)
        read = store.read(
            path,
            stat,
            cursor_store.watermarks(ledger.db, str(path)),
            cursor_store.projects(ledger.db),
        )
        version = price_database_version()
        book = PriceBook(ledger.price_cache(version))
        summary.requests_written += cursor_store.commit_read(ledger, read, book)
        summary.cursor_dbs_read += 1
        if read.error:
            summary.errors.append(read.error)
        if book.new_schedules:
            ledger.save_prices(version, book.new_schedules)
    return summary


def _sync_workspaces(
    ledger: Ledger, store: registry.ChatStore, root: Path, stored: dict[str, Any]
) -> None:
    """Re-read the workspace databases that changed: they map conversations to projects."""
    from tokenbuddy.store import cursor as cursor_store

    for path in store.workspaces(root):
        stat = store.stat(path)
        known = stored.get(str(path))
        if stat is None or (known is not None and known.unchanged(stat)):
            continue
        folder, composer_ids = store.workspace(path)
        cursor_store.commit_workspace(ledger, str(path), stat, folder, composer_ids)


def read_file(
    plan: ReadPlan, book: PriceBook | None, previous: StoredFile | None = None
) -> _FileRead:
    """Parse and price the new bytes of one file; without ``book``, the rows are the
    unpriced records (a bulk load prices them as it merges)."""
    cursor = plan.cursor
    stats = ParseStats()
    reader = ChunkReader(cursor.path, cursor.offset)
    transcripts = registry.source(cursor.source).transcripts
    assert transcripts is not None, f"{cursor.source} writes no transcripts"
    parser = transcripts.open(cursor.path, cursor.state, stats)
    try:
        for chunk in reader:
            parser.feed_chunk(chunk)
        unrecovered = reader.overlong_lines - parser.finish(reader.overlong_edges)
        if unrecovered > 0:
            stats.skip(SkipReason.LINE_TOO_LONG, unrecovered)
        new_cursor = advance(plan, reader, parser.state)
    except OSError as error:
        message = f"cannot read {cursor.path}: {error.strerror or error}"
        return _FileRead(plan, previous, None, [], [], stats, message)
    records = parser.records
    rows: Sequence[tuple[Any, ...]] = records
    if book is not None:
        cost = book.cost
        rows = [request_row(record, cost(record)) for record in records]
    return _FileRead(
        plan, previous, new_cursor, rows, parser.rate_limits, stats, prompts=parser.prompts
    )


def _read_batch(batch: _Batch, book: PriceBook) -> _BatchRead:
    """Parse and price a batch."""
    return _BatchRead([read_file(plan, book, previous) for plan, previous in batch.files])


def _stage_batch(batch: _Batch, staging: StagingFile) -> _BatchRead:
    """Parse a batch into ``staging``, unpriced; the merge prices the records."""
    reads = [read_file(plan, None, previous) for plan, previous in batch.files]
    staging.add((read.plan.cursor.path, read.rows) for read in reads if read.rows)
    keys = {key for read in reads for key in map(_price_key, read.rows)}
    reads = [replace(read, rows=[], staged_rows=len(read.rows)) for read in reads]
    return _BatchRead(reads, staging.path, keys)


_worker: dict[str, Any] = {}
"""A worker process's staging file and work list, set by the pool initializer."""


@dataclass(frozen=True, slots=True)
class _WorkList:
    """Batches that every parsing process claims from, one at a time, front first.

    A process claims its next batch only when it is ready to start it, so no
    batch waits in one process's queue while another sits idle; as the batches
    are sorted largest first, the processes finish within one small batch of
    each other. Inherited by the workers through ``fork``.
    """

    batches: list[_Batch]
    claimed: Any
    """A shared ``multiprocessing.Value``: how many batches were claimed."""

    def claim(self) -> _Batch | None:
        """The next unclaimed batch, or None when all are taken."""
        with self.claimed.get_lock():
            index: int = self.claimed.value
            if index >= len(self.batches):
                return None
            self.claimed.value = index + 1
        return self.batches[index]


def _init_worker(staging_dir: Path, work: _WorkList) -> None:
    gc.disable()  # parsing allocates much but makes no reference cycles: nothing to collect
    price_loader.forget_in_child()
    _worker["staging"] = StagingFile(staging_dir)
    _worker["work"] = work


def _read_claimed_in_worker() -> _BatchRead | None:
    """Claim the next batch and stage it; None when none was left."""
    batch = _worker["work"].claim()
    return None if batch is None else _stage_batch(batch, _worker["staging"])


def _commit_reads(reads: list[_FileRead], ledger: Ledger) -> _BatchReport:
    """Commit one batch of reads in one transaction."""
    report = _BatchReport()
    results = _readable(reads, ledger, report)
    report.requests_written = ledger.commit_files(results)
    return report


def _readable(reads: list[_FileRead], ledger: Ledger, report: _BatchReport) -> list[FileResult]:
    """The reads that succeeded, as results; failures are recorded as file errors."""
    results: list[FileResult] = []
    for read in reads:
        report.planned_bytes += _new_bytes(read.plan)
        if read.cursor is None:
            report.errors.append(read.error)
            ledger.record_file_error(read.plan.cursor.path, read.plan.cursor.source, read.error)
            continue
        results.append(read.result())
        report.files_read += 1
        report.bytes_read += read.cursor.offset - read.plan.cursor.offset
    return results


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
) -> list[tuple[ReadPlan, StoredFile | None]]:
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
            plans.append((plan, known))
            summary.restarted_files += plan.restarted
    if track_missing:
        present = {path for path, _source in files}
        gone = [p for p, f in stored.items() if p not in present and not f.missing]
        back = [p for p, f in stored.items() if p in present and f.missing]
        if gone or back:
            ledger.mark_missing(gone, back)
        summary.missing_files = sum(1 for p in stored if p not in present)
    return plans


def _reprice_if_needed(ledger: Ledger) -> None:
    """Re-price every request when the installed price database changed."""
    version = price_database_version()
    if not ledger.needs_repricing(version):
        return
    book = _price_book({})
    ledger.set_costs((book.cost(record), record.dedup_key) for record in ledger.all_requests())
    ledger.save_prices(version, book.new_schedules)


def _ingest(
    ledger: Ledger,
    plans: list[tuple[ReadPlan, StoredFile | None]],
    summary: IngestSummary,
    *,
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
) -> None:
    if not plans:
        return
    version = price_database_version()
    cached = ledger.price_cache(version)
    batches = _batches(plans)
    total_bytes = sum(batch.new_bytes for batch in batches)
    tracker = _Progress(summary, total_bytes, progress)
    workers = _worker_count(jobs, total_bytes, len(batches))
    if workers > 1:
        new_schedules = _ingest_staged(ledger, batches, cached, workers, tracker)
    else:
        new_schedules = _ingest_batches(ledger, batches, cached, tracker)
    if new_schedules:
        ledger.save_prices(version, new_schedules)


@dataclass(slots=True)
class _Progress:
    """Adds batch reports to the summary and tells the caller how far the pass is."""

    summary: IngestSummary
    total_bytes: int
    callback: Callable[[int, int], None] | None
    done_bytes: int = 0

    def add(self, report: _BatchReport) -> None:
        self.done_bytes += report.planned_bytes
        self.summary.files_read += report.files_read
        self.summary.bytes_read += report.bytes_read
        self.summary.requests_written += report.requests_written
        self.summary.errors.extend(report.errors)
        if self.callback is not None:
            self.callback(self.done_bytes, self.total_bytes)


def _ingest_batches(
    ledger: Ledger, batches: list[_Batch], cached: ScheduleCache, tracker: _Progress
) -> ScheduleCache:
    """Read, price and commit batch by batch in this process (the incremental path)."""
    book = _price_book(cached)
    with ledger.bulk_load() if tracker.total_bytes >= BULK_MIN_BYTES else nullcontext():
        for batch in batches:
            tracker.add(_commit_reads(_read_batch(batch, book).reads, ledger))
    return book.new_schedules


def _ingest_staged(
    ledger: Ledger,
    batches: list[_Batch],
    cached: ScheduleCache,
    workers: int,
    tracker: _Progress,
) -> ScheduleCache:
    """A large backlog: parse in several processes into staging files, then merge once.

    One transaction commits everything at the end, so a process killed mid-load
    leaves the ledger as it was, and the next run starts the load again. Only
    this process prices, as it merges: the others never load the price database.
    """
    staging_dir = ledger.path.parent / "staging"
    clear_stale(staging_dir)
    own = StagingFile(staging_dir)
    staged = {own.path}
    results: list[FileResult] = []
    price_keys: set[PriceKey] = set()
    book = _price_book(cached)
    loader = price_loader.active()
    report = _BatchReport()
    try:
        for batch_read in _read_in_processes(batches, cached, workers, own):
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
            results += _readable(batch_read.reads, ledger, report)
            report.requests_written = sum(r.staged_rows for r in batch_read.reads)
            tracker.add(report)
            report = _BatchReport()
        own.close()
        cost = book.cost_sql(price_keys)
        with ledger.rollback_journal(), ledger.bulk_load():
            ledger.commit_staged(results, sorted(staged), cost)
    finally:
        own.close()
        for path in staged:
            path.unlink(missing_ok=True)
    return book.new_schedules


def _read_in_processes(
    batches: list[_Batch], cached: ScheduleCache, workers: int, own: StagingFile
) -> Iterator[_BatchRead]:
    """Parse every batch in ``workers`` processes, this one included."""
    context = multiprocessing.get_context("fork")
    work = _WorkList(batches, context.Value("i", 0))
    pool = context.Pool(workers - 1, initializer=_init_worker, initargs=(own.path.parent, work))
    collecting = gc.isenabled()
    gc.disable()  # parsing allocates much but makes no reference cycles: nothing to collect
    try:
        warm_up = None if cached or price_loader.active() else _load_prices
        yield from _shared_work(pool, work, own, in_flight=2 * (workers - 1), warm_up=warm_up)
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        if collecting:
            gc.enable()
        pool.join()


def _load_prices() -> None:
    """Import the price database, which only this process needs (it prices as it merges).

    Done once the workers are forked and busy, so none of them waits for it or
    inherits it, and no process forks after importing it.
    """
    import genai_prices.data  # noqa: F401


def _price_book(cached: ScheduleCache) -> PriceBook:
    """A price book that builds missing schedules through the price helper, if one runs."""
    loader = price_loader.active()
    return PriceBook(cached, build=None if loader is None else loader.build)


def price_database_version() -> str:
    """The installed genai-prices version: cached schedules are only valid for it.

    Found from the package's dist-info directory name without importing either
    genai-prices or importlib.metadata (both slow), which the warm path cannot afford.
    """
    import importlib.util

    spec = importlib.util.find_spec("genai_prices")
    if spec is not None and spec.origin:
        site = os.path.dirname(os.path.dirname(spec.origin))
        for name in os.listdir(site):
            if name.startswith("genai_prices-") and name.endswith(".dist-info"):
                return name.removeprefix("genai_prices-").removesuffix(".dist-info")
    from importlib.metadata import version

    return version("genai-prices")


def _new_bytes(plan: ReadPlan) -> int:
    return max(plan.stat.st_size - plan.cursor.offset, 0)


def _batches(plans: list[tuple[ReadPlan, StoredFile | None]]) -> list[_Batch]:
    """Group files into batches of about BATCH_BYTES, largest files first."""
    ordered = sorted(plans, key=lambda item: _new_bytes(item[0]), reverse=True)
    batches: list[_Batch] = []
    current: list[tuple[ReadPlan, StoredFile | None]] = []
    size = 0
    for item in ordered:
        current.append(item)
        size += _new_bytes(item[0])
        if size >= BATCH_BYTES or len(current) >= BATCH_FILES:
            batches.append(_Batch(current))
            current, size = [], 0
    if current:
        batches.append(_Batch(current))
    return batches


def _shared_work(
    pool: Any,
    work: _WorkList,
    own: StagingFile,
    in_flight: int,
    warm_up: Callable[[], None] | None = None,
) -> Iterator[_BatchRead]:
    """Parse batches in the pool and in this process, yielding each as it is ready.

    Pool tasks claim their batch when they start, and ``in_flight`` tasks are
    kept queued so a worker never waits for this process to hand it work. This
    process parses a batch itself whenever no worker result is waiting, after
    running ``warm_up`` once the first tasks are queued.
    """
    pending: deque[Any] = deque()
    exhausted = False
    while not exhausted or pending:
        while not exhausted and len(pending) < in_flight:
            pending.append(pool.apply_async(_read_claimed_in_worker))
        if warm_up is not None:
            warm_up()
            warm_up = None
        if pending and (pending[0].ready() or exhausted):
            batch_read = pending.popleft().get()
            exhausted = exhausted or batch_read is None
            if batch_read is not None:
                yield batch_read
            continue
        batch = work.claim()
        if batch is None:
            exhausted = True
        else:
            yield _stage_batch(batch, own)


def backlog_is_large(roots: Iterable[LogRoot]) -> bool:
    """Whether the transcripts under ``roots`` hold enough bytes for parallel parsing to pay
    (the dashboard then reads a first backlog in a process of its own)."""
    total = 0
    for path, _source in _discover(roots, IngestSummary()):
        try:
            total += os.stat(path).st_size
        except OSError:
            continue
    return total >= _parallel_min_bytes()


def _parallel_min_bytes() -> int:
    configured = os.environ.get("TOKENBUDDY_PARALLEL_MIN_MB", "")
    try:
        return int(float(configured) * 1024 * 1024) if configured else PARALLEL_MIN_BYTES
    except ValueError:
        return PARALLEL_MIN_BYTES


def _worker_count(jobs: int | None, total_bytes: int, batches: int) -> int:
    """Parsing processes, this one included: several only for a large backlog, if fork is safe."""
    if jobs is not None and jobs <= 1:
        return 1
    if total_bytes < _parallel_min_bytes() or batches < 2:
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if threading.active_count() > 1:
        return 1
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(jobs or 2, available or 1, batches))
