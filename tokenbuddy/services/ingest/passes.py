"""One ingest pass: discover, plan, then read, price and commit the new bytes."""

from __future__ import annotations

import multiprocessing
import os
import threading
from contextlib import nullcontext
from typing import TYPE_CHECKING

from tokenbuddy.services import price_loader
from tokenbuddy.services.ingest import staged
from tokenbuddy.services.ingest.chat_stores import sync_cursor
from tokenbuddy.services.ingest.pricing import (
    ScheduleCache,
    price_book,
    price_database_version,
    reprice_if_needed,
)
from tokenbuddy.services.ingest.reads import Batch, commit_reads, group_batches, read_batch
from tokenbuddy.services.ingest.summary import IngestSummary, Progress
from tokenbuddy.sources import registry
from tokenbuddy.sources.discovery import LogRoot, transcript_files
from tokenbuddy.sources.tailer import NotRegularFileError, ReadPlan, plan_document, plan_read
from tokenbuddy.store.ledger import Ledger, StoredFile
from tokenbuddy.store.staging import clear_stale, staging_dir

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

PARALLEL_MIN_BYTES = 32 * 1024 * 1024
"""Below this much new data, worker processes cost more than they save
(``TOKENBUDDY_PARALLEL_MIN_MB`` overrides it)."""
BULK_MIN_BYTES = 64 * 1024 * 1024
"""From this much new data on, the time index is rebuilt after the load, not kept up."""


def sync(
    ledger: Ledger,
    roots: Iterable[LogRoot],
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IngestSummary:
    """Bring ``ledger`` up to date with every transcript and chat store under ``roots``."""
    summary = IngestSummary()
    clear_stale(staging_dir(ledger.path))
    roots = list(roots)
    files = discover_files(roots, summary)
    plans = plan_reads(ledger, files, summary)
    reprice_if_needed(ledger)
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
        if source.documents is not None:
            document = document_of(path, source.documents.companions)
            if source.documents.is_document(document):
                transcripts.append((document, name))
        elif source.reads_files:
            transcripts.append((path, name))
        else:
            root = source.watch.root_of(path)
            store_roots[root] = LogRoot(name, root, "watch")
    plans = plan_reads(ledger, list(dict.fromkeys(transcripts)), summary, track_missing=False)
    reprice_if_needed(ledger)
    _ingest(ledger, plans, summary, jobs=1, progress=None)
    sync_cursor(ledger, store_roots.values(), summary)
    ledger.refresh_rollup()
    return summary


def document_of(path: str, companions: tuple[str, ...]) -> str:
    """The document a written file stands for: a SQLite database for its ``-wal``."""
    for suffix in companions:
        if path.endswith(suffix):
            return path.removesuffix(suffix)
    return path


def discover_files(roots: Iterable[LogRoot], summary: IngestSummary) -> list[tuple[str, str]]:
    """(path, source) of every transcript under ``roots``, each once."""
    files: list[tuple[str, str]] = []
    seen: set[str] = set()
    for root in roots:
        for path in transcript_files(root, summary.errors):
            if path not in seen:
                seen.add(path)
                files.append((path, root.source))
    return files


def plan_reads(
    ledger: Ledger,
    files: list[tuple[str, str]],
    summary: IngestSummary,
    *,
    track_missing: bool = True,
) -> list[tuple[ReadPlan, StoredFile | None]]:
    """What to read of each file that changed; with ``track_missing``, files known to the
    ledger but no longer found are marked missing (and found again, unmarked)."""
    stored = ledger.files()
    summary.files_seen = len(files)
    plans = []
    for path, source in files:
        known = stored.get(path)
        cursor = known.cursor if known and not known.error else None
        documents = registry.source(source).documents
        try:
            if documents is None:
                plan = plan_read(path, source, cursor)
            else:
                plan = plan_document(path, source, cursor, documents.companions)
        except NotRegularFileError as odd:
            summary.not_regular.append(f"{path} ({odd.kind})")
            continue
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
    batches = group_batches(plans)
    total_bytes = sum(batch.new_bytes for batch in batches)
    tracker = Progress(summary, total_bytes, progress)
    workers = _worker_count(jobs, total_bytes, len(batches))
    if workers > 1:
        new_schedules = staged.ingest_staged(ledger, batches, cached, workers, tracker)
    else:
        new_schedules = _ingest_batches(ledger, batches, cached, tracker)
    if new_schedules:
        ledger.save_prices(version, new_schedules)


def _ingest_batches(
    ledger: Ledger, batches: list[Batch], cached: ScheduleCache, tracker: Progress
) -> ScheduleCache:
    """Read, price and commit batch by batch in this process (the incremental path)."""
    book = price_book(cached)
    with ledger.bulk_load() if tracker.total_bytes >= BULK_MIN_BYTES else nullcontext():
        for batch in batches:
            tracker.add(commit_reads(read_batch(batch, book).reads, ledger))
    return book.new_schedules


def backlog_is_large(roots: Iterable[LogRoot]) -> bool:
    """Whether the transcripts under ``roots`` hold enough bytes for parallel parsing to pay
    (the dashboard then reads a first backlog in a process of its own)."""
    total = 0
    for path, _source in discover_files(roots, IngestSummary()):
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
