"""Typed read queries over the ledger's requests."""

from __future__ import annotations

from pathlib import Path

from tokenbuddy.store import queries
from tokenbuddy.store.ledger import Ledger

from .ledger.builders import BASE_MS, commit, record


def test_request_span_counts_requests_and_their_first_and_last_time(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert queries.request_span(ledger) == (0, None, None)
        commit(ledger, "/a", record("k1", BASE_MS + 5, 10), record("k2", BASE_MS, 20))
        assert queries.request_span(ledger) == (2, BASE_MS, BASE_MS + 5)
