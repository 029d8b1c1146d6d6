"""Subscription-window readings read back: the latest of each window, and its history."""

from __future__ import annotations

from pathlib import Path

from tokenbuddy.store import rate_limits
from tokenbuddy.store.ledger import Ledger
from tokenbuddy.store.rate_limits import LatestReading

from .ledger.builders import BASE_MS, HOUR_MS

RESET = BASE_MS + 5 * HOUR_MS


def _readings(ledger: Ledger) -> None:
    rows = [
        ("codex", BASE_MS, 300, 10.0, RESET, "plus"),
        ("codex", BASE_MS + HOUR_MS, 300, 30.0, RESET, "plus"),
        ("codex", BASE_MS + HOUR_MS, 10080, 5.0, None, "plus"),
        ("claude-code", BASE_MS, 300, 50.0, RESET, ""),
    ]
    ledger.db.executemany("INSERT INTO rate_limits VALUES (?, ?, ?, ?, ?, ?)", rows)


def test_the_latest_reading_of_each_window_in_source_and_length_order(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert rate_limits.latest_readings(ledger) == []
        _readings(ledger)
        assert rate_limits.latest_readings(ledger) == [
            LatestReading("claude-code", 300, BASE_MS, 50.0, RESET, ""),
            LatestReading("codex", 300, BASE_MS + HOUR_MS, 30.0, RESET, "plus"),
            LatestReading("codex", 10080, BASE_MS + HOUR_MS, 5.0, None, "plus"),
        ]


def test_a_windows_readings_since_a_time_for_the_same_reset(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        _readings(ledger)
        assert sorted(rate_limits.window_readings(ledger, "codex", 300, BASE_MS, RESET)) == [
            (BASE_MS, 10.0),
            (BASE_MS + HOUR_MS, 30.0),
        ]
        assert rate_limits.window_readings(ledger, "codex", 300, BASE_MS + 1, RESET) == [
            (BASE_MS + HOUR_MS, 30.0)
        ]
        assert rate_limits.window_readings(ledger, "codex", 300, BASE_MS, RESET + 1) == []
        assert rate_limits.window_readings(ledger, "codex", 10080, 0, None) == [
            (BASE_MS + HOUR_MS, 5.0)
        ]
