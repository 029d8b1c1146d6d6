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


def test_model_buckets_sum_sessions_and_leave_projects_out_unless_asked(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        commit(
            ledger,
            "/a",
            record("k1", BASE_MS, 10, project="/x"),
            record("k2", BASE_MS + 1, 20, project="/y", session_id="s2"),
            record("k3", BASE_MS - 1, 40),
        )
        bucket = BASE_MS // 900_000
        sums = (20, 30, 200, 2000, 30.0, 2)
        assert list(queries.model_buckets(ledger, BASE_MS, with_projects=False)) == [
            queries.ModelBucket(bucket, "claude-code", "claude-sonnet-4-5", "", *sums)
        ]
        by_project = sorted(queries.model_buckets(ledger, BASE_MS, with_projects=True))
        assert [(row.project, row.requests, row.cost_usd) for row in by_project] == [
            ("/x", 1, 10.0),
            ("/y", 1, 20.0),
        ]
        assert len(list(queries.model_buckets(ledger, BASE_MS - 1, with_projects=False))) == 2
