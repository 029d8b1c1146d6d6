"""Alerts already announced (``announced_alerts``), kept so that a restarted dashboard does
not ring again for a warning the user has seen.

One row per (alert kind, session id; empty for alerts about no session), replaced by
each new announcement. Each write commits on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from tokenbuddy.store.ledger import Ledger


class Announcement(NamedTuple):
    """The last announcement of one alert."""

    severity: str
    magnitude: float
    at_ms: int


def last_announcement(ledger: Ledger, kind: str, session_id: str) -> Announcement | None:
    """The last announcement of the ``kind`` alert about ``session_id``; None if never."""
    row = ledger.db.execute(
        "SELECT severity, magnitude, at_ms FROM announced_alerts WHERE kind = ? AND session_id = ?",
        (kind, session_id),
    ).fetchone()
    return None if row is None else Announcement._make(row)


def record_announcement(ledger: Ledger, kind: str, session_id: str, shown: Announcement) -> None:
    """Remember that the ``kind`` alert about ``session_id`` was announced as ``shown``."""
    ledger.db.execute(
        "INSERT OR REPLACE INTO announced_alerts VALUES (?, ?, ?, ?, ?)",
        (kind, session_id, *shown),
    )
