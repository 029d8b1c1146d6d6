"""The dashboard's spend figures: the request count, burn windows and bucket costs."""

from __future__ import annotations

from pathlib import Path

from tokenbuddy.core.metrics import BurnRate
from tokenbuddy.store import spend
from tokenbuddy.store.ledger import Ledger

from .ledger.builders import BASE_MS, HOUR_MS, commit, record

BUCKET_MS = 900_000


def test_the_rollup_counts_every_request(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert spend.request_total(ledger) == 0
        commit(ledger, "/a", record("k1", BASE_MS, 10), record("k2", BASE_MS + HOUR_MS, 20))
        assert spend.request_total(ledger) == 2


def test_a_burn_window_ends_at_now_and_leaves_out_its_start(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        commit(ledger, "/a", record("k1", BASE_MS, 10), record("k2", BASE_MS + 60_000, 20))
        first, second = 10 + 10 + 100 + 1000, 10 + 20 + 100 + 1000
        assert spend.burn_rate(ledger, BASE_MS + 60_000, 60_000) == BurnRate(60_000, 20.0, second)
        assert spend.burn_rate(ledger, BASE_MS + 59_999, 60_000) == BurnRate(60_000, 10.0, first)
        assert spend.burn_rate(ledger, BASE_MS - 1, 60_000) == BurnRate(60_000, 0.0, 0)


def test_bucket_costs_start_at_the_bucket_holding_since(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        commit(
            ledger,
            "/a",
            record("k1", BASE_MS, 10),
            record("k2", BASE_MS + 1, 20),
            record("k3", BASE_MS + HOUR_MS, 40),
        )
        assert sorted(spend.bucket_costs(ledger, BASE_MS + BUCKET_MS - 1)) == [
            (BASE_MS, 30.0),
            (BASE_MS + HOUR_MS, 40.0),
        ] and sorted(spend.bucket_costs(ledger, BASE_MS + BUCKET_MS)) == [(BASE_MS + HOUR_MS, 40.0)]
