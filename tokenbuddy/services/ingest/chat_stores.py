"""Reading the databases of chat-store sources (Cursor's local store) that changed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokenbuddy.core.pricing import PriceBook
from tokenbuddy.services.ingest.pricing import price_database_version
from tokenbuddy.services.ingest.summary import IngestSummary
from tokenbuddy.sources import registry
from tokenbuddy.sources.discovery import LogRoot
from tokenbuddy.store.ledger import Ledger

if TYPE_CHECKING:
    from collections.abc import Iterable


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

    stored = cursor_store.stored_dbs(ledger)
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
            cursor_store.watermarks(ledger, str(path)),
            cursor_store.projects(ledger),
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
