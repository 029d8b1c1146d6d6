"""Recovering a damaged ledger: move it aside, restore the newest sound backup, re-read
the logs since, and say what came back and what did not.

The logs hold everything written since the backup, unless an agent deleted them
since (Claude Code removes transcripts after 30 days). The damaged file is read as
far as it still can be, per UTC day, and each day that holds fewer requests after the
recovery than before it is named: those could not be recovered.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from tokenbuddy.errors import LedgerCorruptError, LedgerError
from tokenbuddy.services.ingest import sync
from tokenbuddy.sqlite_errors import as_ledger_error, is_corruption
from tokenbuddy.store.ledger import Ledger, backups

Result = TypeVar("Result")

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path
    from typing import NoReturn

    from tokenbuddy.sources.discovery import LogRoot


@dataclass(frozen=True, slots=True)
class Recovery:
    """What a recovery did."""

    reason: str
    damaged: Path
    """Where the damaged ledger was moved (kept: it may hold days no log has any more)."""
    backup: backups.Backup | None
    requests: int
    """Requests in the ledger after the recovery."""
    requests_reread: int
    """Requests written by re-reading the logs since the backup."""
    lost_days: dict[str, int]
    """UTC day -> requests the damaged ledger held that the recovered one lacks."""
    damaged_readable: bool
    """Whether the damaged file could still be read to compare per day."""

    def message(self) -> str:
        """The recovery as a few lines for the user."""
        source = (
            f"restored the backup of {self.backup.day.isoformat()}"
            if self.backup is not None
            else "found no sound backup, so started a new ledger"
        )
        lines = [
            f"the ledger was damaged ({self.reason}).",
            f"  Moved it to {self.damaged}, {source} and re-read the logs since:"
            f" {self.requests_reread:,} requests re-read, {self.requests:,} in the ledger now.",
        ]
        if self.lost_days:
            days = ", ".join(f"{day} ({count:,})" for day, count in sorted(self.lost_days.items()))
            lines.append(f"  Days that could not be recovered (UTC, requests missing): {days}")
        elif self.damaged_readable:
            lines.append("  Every day the damaged ledger still showed was recovered.")
        else:
            lines.append(
                "  The damaged file could not be read to compare: days whose logs are gone"
                " since the backup may be incomplete."
            )
        return "\n".join(lines)


def recover(ledger_path: Path, roots: Iterable[LogRoot], reason: str) -> Recovery:
    """Move the damaged ledger aside, restore the newest sound backup, re-read the logs."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        damaged = backups.move_aside(ledger_path, stamp)
    except OSError as error:
        raise LedgerError(f"cannot move the damaged ledger {ledger_path} aside: {error}") from error
    before = backups.requests_per_day(damaged)
    try:
        backup = backups.restore(backups.backup_dir(ledger_path), ledger_path)
    except OSError as error:
        raise LedgerError(f"cannot restore the ledger's backup: {error}") from error
    with Ledger(ledger_path) as ledger:
        summary = sync(ledger, roots)
    after = backups.requests_per_day(ledger_path) or {}
    lost = {
        day: count - after.get(day, 0)
        for day, count in (before or {}).items()
        if after.get(day, 0) < count
    }
    return Recovery(
        reason,
        damaged,
        backup,
        sum(after.values()),
        summary.requests_written,
        lost,
        before is not None,
    )


def damage_in(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from, says the ledger file is damaged."""
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, LedgerCorruptError) or is_corruption(current):
            return True
        current = current.__cause__
    return False


def ledger_damaged(ledger_path: Path) -> bool:
    """Whether the ledger itself is damaged: a damaged file met on the way may be another
    database (an agent's store, the team sync state), and a sound ledger is never moved."""
    try:
        with Ledger(ledger_path) as ledger:
            return bool(ledger.integrity_problems())
    except LedgerCorruptError:
        return True
    except LedgerError:
        return False


def guarded(
    run: Callable[[], Result],
    ledger_path: Path,
    roots: Callable[[], Iterable[LogRoot]],
    notify: Callable[[str], None] = lambda text: print(f"tokenbuddy: {text}", file=sys.stderr),
) -> Result:
    """Run a command; when it meets a damaged ledger, recover it, say so, and run it again.

    A second failure is reported as it is: the recovery is tried once.
    """
    try:
        return run()
    except Exception as error:  # noqa: BLE001 - raised again unless it is the ledger's damage
        if not damage_in(error) or not ledger_damaged(ledger_path):
            _raise_translated(error)
        reason = _first_line(error)
    notify(recover(ledger_path, roots(), reason).message())
    try:
        return run()
    except Exception as error:
        if damage_in(error):
            raise LedgerError(f"the ledger is still damaged after recovery: {error}") from error
        _raise_translated(error)


def _raise_translated(error: Exception) -> NoReturn:
    """Raise ``error``, as a :class:`LedgerError` when SQLite raised it untranslated."""
    translated = as_ledger_error(error)
    if translated is None:
        raise error
    raise translated from error


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
