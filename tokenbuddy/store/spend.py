"""Spend figures the dashboard reads besides the reports': the request count, trailing
burn windows and the spend per 15-minute bucket.

The count and the buckets come from ``usage_rollup``; burn windows are shorter than
a bucket, so they read ``requests`` through its time index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from tokenbuddy.core.metrics import BurnRate
from tokenbuddy.core.report import BUCKET_MS
from tokenbuddy.store.ledger import COUNTED

if TYPE_CHECKING:
    from tokenbuddy.store.ledger import Ledger


class BucketCost(NamedTuple):
    """The dollars of one 15-minute bucket."""

    start_ms: int
    cost_usd: float


def request_total(ledger: Ledger) -> int:
    """Every request the rollup counts."""
    return int(ledger.db.execute("SELECT TOTAL(requests) FROM usage_rollup").fetchone()[0])


def burn_rate(ledger: Ledger, now_ms: int, window_ms: int) -> BurnRate:
    """Counted spend and tokens in the ``window_ms`` up to ``now_ms``."""
    cost, tokens = ledger.db.execute(
        "SELECT TOTAL(cost_usd), TOTAL(input_tokens + output_tokens + cache_write_5m_tokens"
        " + cache_write_1h_tokens + cache_read_tokens) FROM requests"
        f" WHERE ts_ms > ? AND ts_ms <= ? AND {COUNTED}",
        (now_ms - window_ms, now_ms),
    ).fetchone()
    return BurnRate(window_ms, float(cost), int(tokens))


def bucket_costs(ledger: Ledger, since_ms: int) -> list[BucketCost]:
    """The dollars of each bucket from the one holding ``since_ms`` on, in no set order."""
    rows = ledger.db.execute(
        "SELECT bucket, TOTAL(cost_usd) FROM usage_rollup WHERE bucket >= ? GROUP BY 1",
        (since_ms // BUCKET_MS,),
    )
    return [BucketCost(int(bucket) * BUCKET_MS, float(cost)) for bucket, cost in rows]


def first_bucket_ms(ledger: Ledger) -> int | None:
    """Where the rollup's earliest bucket starts (None: an empty ledger); one step down
    its primary key."""
    bucket = ledger.db.execute("SELECT MIN(bucket) FROM usage_rollup").fetchone()[0]
    return None if bucket is None else int(bucket) * BUCKET_MS
