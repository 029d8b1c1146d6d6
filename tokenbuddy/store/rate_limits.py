"""Subscription-window readings as the ledger keeps them (``rate_limits``): the latest one
of each window, and a window's recent history to tell how fast it fills.

Readings are written with the log reads that carry them (:mod:`.ledger.files`) and by
the vendor polls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from tokenbuddy.store.ledger import Ledger


class LatestReading(NamedTuple):
    """A window's most recent reading."""

    source: str
    window_minutes: int
    read_at_ms: int
    used_percent: float
    resets_at_ms: int | None
    plan: str | None


def latest_readings(ledger: Ledger) -> list[LatestReading]:
    """The latest reading of every (source, window length), in that order."""
    rows = ledger.db.execute(
        "SELECT source, window_minutes, MAX(ts_ms), used_percent, resets_at_ms, plan"
        " FROM rate_limits GROUP BY source, window_minutes ORDER BY source, window_minutes"
    )
    return list(map(LatestReading._make, rows))


def window_readings(
    ledger: Ledger, source: str, window_minutes: int, since_ms: int, resets_at_ms: int | None
) -> list[tuple[int, float]]:
    """(ts_ms, used_percent) of one window's readings since ``since_ms`` that name the same
    reset (None: none named), in no set order."""
    return ledger.db.execute(
        "SELECT ts_ms, used_percent FROM rate_limits WHERE source = ? AND window_minutes = ?"
        " AND ts_ms >= ? AND resets_at_ms IS ?",
        (source, window_minutes, since_ms, resets_at_ms),
    ).fetchall()
