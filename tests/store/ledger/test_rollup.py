"""The rollup always equals a direct aggregation of the requests."""

from __future__ import annotations

import random

from tokenbuddy.store.ledger import Ledger

from .builders import BASE_MS, HOUR_MS, commit, direct_by_bucket, record, rollup_by_bucket


def test_rollup_follows_a_request_that_moves_bucket(ledger: Ledger) -> None:
    """The final copy of a request can carry another timestamp than the partial one."""
    commit(ledger, "/a", record("k", BASE_MS, 3), record("other", BASE_MS, 7))
    commit(ledger, "/b", record("k", BASE_MS + 30 * 24 * HOUR_MS, 250))
    assert rollup_by_bucket(ledger) == direct_by_bucket(ledger)
    assert sum(n for _, n, _ in rollup_by_bucket(ledger).values()) == 2


def test_rollup_equals_direct_aggregation_under_random_commits(ledger: Ledger) -> None:
    rng = random.Random(3)
    for batch in range(30):
        records = [
            record(
                f"k{rng.randint(0, 60)}",
                BASE_MS + rng.randint(0, 400) * 15 * 60_000,
                rng.randint(1, 500),
                session_id=rng.choice(["s1", "s2"]),
                is_sidechain=rng.random() < 0.3,
            )
            for _ in range(rng.randint(1, 12))
        ]
        commit(ledger, f"/f{batch}", *records)
        assert rollup_by_bucket(ledger) == direct_by_bucket(ledger)
