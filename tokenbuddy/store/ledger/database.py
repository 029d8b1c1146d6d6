"""The open ledger: one SQLite connection, and the methods the rest of tokenbuddy calls.

Each method hands its work to the module that owns the idea (:mod:`.schema`,
:mod:`.files`, :mod:`.bulk_merge`, :mod:`.rollup`, :mod:`.price_cache`) and wraps
the writes in one :class:`~tokenbuddy.transaction.Transaction`.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from typing import TYPE_CHECKING, Any

from tokenbuddy.errors import LedgerCorruptError, LedgerError, LedgerReadOnlyError
from tokenbuddy.sqlite_errors import ledger_error
from tokenbuddy.store.ledger import backups, bulk_merge, rollup, schema
from tokenbuddy.store.ledger import files as log_files
from tokenbuddy.store.ledger import price_cache as prices
from tokenbuddy.transaction import Transaction

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from contextlib import AbstractContextManager
    from datetime import date
    from pathlib import Path

    from tokenbuddy.core.pricing import PriceSchedule
    from tokenbuddy.core.records import RateLimitSnapshot, UsageRecord
    from tokenbuddy.store.ledger.files import FileResult, StoredFile


class Ledger:
    """An open ledger database. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """Open (creating, migrating) the ledger at ``path``; with ``read_only``, open an
        existing one as it is, for reports from a ledger that cannot be written."""
        self.path = path
        self.read_only = read_only
        try:
            if read_only:
                self._db = schema.open_read_only(path)
                return
            _create_private(path)
            self._db = _connected(path)
        except sqlite3.DatabaseError as error:
            raise ledger_error(f"the ledger at {path}", error) from error
        except OSError as error:
            kind = LedgerReadOnlyError if error.errno in _READ_ONLY_ERRNOS else LedgerError
            raise kind(f"cannot open the ledger at {path}: {error}") from error

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    @property
    def db(self) -> sqlite3.Connection:
        """The raw connection, for store's own query modules: callers outside store use
        those typed queries instead."""
        return self._db

    def integrity_problems(self) -> list[str]:
        """What ``PRAGMA quick_check`` finds wrong with the file; empty when it is sound."""
        try:
            return backups.quick_check(self._db)
        except sqlite3.DatabaseError as error:
            return [str(error)]

    def back_up(self, today: date) -> backups.Backup | None:
        """Take today's copy of the ledger unless it exists; None when it did.

        The copy is checked first: a damaged ledger raises :class:`LedgerCorruptError`
        instead of rotating a sound copy out.
        """
        directory = backups.backup_dir(self.path)
        if not backups.is_due(directory, today):
            return None
        problems = self.integrity_problems()
        if problems:
            raise LedgerCorruptError(
                f"the ledger at {self.path} failed its integrity check: {problems[0]}"
            )
        try:
            return backups.take(self._db, directory, today)
        except sqlite3.Error as error:
            raise ledger_error(f"the backup of the ledger in {directory}", error) from error
        except OSError as error:
            kind = LedgerReadOnlyError if error.errno in _READ_ONLY_ERRNOS else LedgerError
            raise kind(f"cannot back the ledger up in {directory}: {error.strerror}") from error

    def transaction(self) -> Transaction:
        """One write transaction, for callers that need several writes to land together."""
        return Transaction(self._db, error=LedgerError, subject="the ledger")

    def bulk_load(self) -> AbstractContextManager[None]:
        """Write a large backlog without maintaining the time index, then rebuild it."""
        return schema.without_indexes(self._db)

    def rollback_journal(self) -> AbstractContextManager[None]:
        """Write through a rollback journal instead of the WAL, then go back to WAL."""
        return schema.rollback_journal(self._db)

    # -- files ---------------------------------------------------------------------------

    def files(self) -> dict[str, StoredFile]:
        """Every file the ledger has read, by path."""
        return log_files.stored_files(self._db)

    def consumed_bytes(self, since_mtime_ns: int, limit: int) -> dict[str, int]:
        """Path -> bytes consumed of the files modified since ``since_mtime_ns``, most
        recently modified first, at most ``limit``."""
        return log_files.consumed_bytes(self._db, since_mtime_ns, limit)

    def commit_files(self, results: Iterable[FileResult]) -> int:
        """Write a batch of file reads in one transaction; returns the requests written."""
        with self.transaction():
            return log_files.commit_files(self._db, results)

    def commit_staged(
        self,
        results: Sequence[FileResult],
        staging: Sequence[Path],
        cost: tuple[str, Sequence[Any]],
    ) -> int:
        """Commit a bulk load whose records were written to staging files, in one transaction.

        ``results`` carry the cursors and counters (their ``rows`` are empty);
        each staging file holds a ``staging`` table of usage records plus the path
        of the file they came from. ``cost`` is the SQL expression (and its
        parameters) that prices a staged record (``tokenbuddy.core.price_sql.cost_sql``).
        Files whose cursor moved since planning (another process read them first) have their
        staged rows dropped. Returns the requests merged.
        """
        with bulk_merge.attached(self._db, staging) as schemas, self.transaction():
            return bulk_merge.merge(self._db, results, schemas, cost)

    def refresh_rollup(self) -> int:
        """Recompute the rollup for every bucket touched since the last refresh.

        Returns how many buckets were dirty.
        """
        if not rollup.has_dirty_buckets(self._db):
            return 0
        with self.transaction():
            return rollup.refresh_dirty_buckets(self._db)

    def record_rate_limits(self, snapshots: Iterable[RateLimitSnapshot]) -> None:
        """Store subscription-window readings reported outside the logs (the status line)."""
        with self.transaction():
            log_files.record_rate_limits(self._db, snapshots)

    def record_file_error(self, path: str, source: str, error: str) -> None:
        """Remember that ``path`` could not be read (shown by ``doctor``)."""
        with self.transaction():
            log_files.record_file_error(self._db, path, source, error)

    def mark_missing(self, gone: Iterable[str], back: Iterable[str] = ()) -> None:
        """Flag files that disappeared from disk (their requests stay) and unflag returned ones."""
        with self.transaction():
            log_files.mark_missing(self._db, gone, back)

    # -- prices --------------------------------------------------------------------------

    def price_cache(
        self, database_version: str
    ) -> dict[tuple[str, str, str], PriceSchedule | None]:
        """Cached price schedules, valid only for ``database_version`` of the price database."""
        return prices.load_schedules(self._db, database_version)

    def needs_repricing(self, database_version: str) -> bool:
        """True when requests were priced with another version of the price database."""
        return prices.needs_repricing(self._db, database_version)

    def save_prices(
        self,
        database_version: str,
        schedules: dict[tuple[str, str, str], PriceSchedule | None],
    ) -> None:
        """Add newly built schedules to the cache and note which database priced the ledger."""
        with self.transaction():
            prices.save_schedules(self._db, database_version, schedules)

    def all_requests(self) -> list[UsageRecord]:
        """Every list-priced request, for re-pricing after the price database changed."""
        return prices.list_priced_requests(self._db)

    def set_costs(self, costs: Iterable[tuple[float | None, str]]) -> None:
        """Replace the cost of requests, by dedup key."""
        with self.transaction():
            prices.set_costs(self._db, costs)


def _connected(path: Path) -> sqlite3.Connection:
    """A configured connection to the ledger at ``path``, migrated to this schema; closed
    again when any of that fails (a long-running dashboard must not leak them)."""
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        schema.configure(db)
        schema.migrate(db, path)
        schema.ensure_indexes(db)
    except BaseException:
        db.close()
        raise
    return db


_READ_ONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def _create_private(path: Path) -> None:
    """Create the ledger file readable by its owner only: it lists projects and sessions."""
    if not os.path.exists(path):
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
