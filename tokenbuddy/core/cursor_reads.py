"""What one read of one of Cursor's ``state.vscdb`` files found.

The reader (:mod:`tokenbuddy.sources.cursor_local`) fills these in; the ledger
(:mod:`tokenbuddy.store.cursor`) writes them and keeps each database's
:class:`DbStat`, so an unchanged database is not read again. Plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenbuddy.core.records import UsageRecord


@dataclass(frozen=True, slots=True)
class DbStat:
    """What identifies one version of a database and its WAL on disk."""

    size: int
    mtime_ns: int
    wal_size: int
    wal_mtime_ns: int


@dataclass(slots=True)
class ComposerRead:
    """One conversation re-read because its ``lastUpdatedAt`` moved."""

    composer_id: str
    last_updated_ms: int
    version: str
    bubbles: int = 0
    records: list[UsageRecord] = field(default_factory=list)
    estimated_tokens: int = 0
    """Requests whose counts come from conversation-level figures, not their bubbles."""

    @property
    def unknown_tokens(self) -> int:
        """Requests whose bubbles recorded no tokens."""
        return sum(1 for record in self.records if record.total_tokens == 0)


@dataclass(slots=True)
class DbRead:
    """What one read of one ``state.vscdb`` found."""

    path: str
    stat: DbStat
    composers: int = 0
    """Conversations the database holds (read or not)."""
    changed: list[ComposerRead] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    """``composerData _v=<n>`` and ``bubble _v=<n>`` counts of the values read."""
    skipped: dict[str, int] = field(default_factory=dict)
    read_mode: str = ""
    """``read-only`` or ``copy`` (the file was busy)."""
    error: str = ""

    def count(self, table: dict[str, int], key: str) -> None:
        """Add one to ``table[key]``."""
        table[key] = table.get(key, 0) + 1
