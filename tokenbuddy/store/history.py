"""Browsing every session in a date range, a page at a time.

Pages are cut in SQL (``LIMIT``/``OFFSET`` over the sessions of the range, latest
first) so the dashboard holds one page, whatever the number of sessions. Sums cover
the range only: a session that began before it counts from the range's start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from tokenbuddy.store.sessions import SESSION_COLUMNS, SessionTotals

if TYPE_CHECKING:
    from tokenbuddy.store.ledger import Ledger
    from tokenbuddy.store.queries import RequestFilter


class RangeTotals(NamedTuple):
    """How many sessions a range holds, and their dollars and requests."""

    sessions: int
    cost_usd: float
    requests: int


def session_page(
    ledger: Ledger, request_filter: RequestFilter, offset: int, limit: int
) -> list[SessionTotals]:
    """The sessions of the range, the latest started first, from the ``offset``-th on, at
    most ``limit``."""
    where, params = request_filter.where()
    rows = ledger.db.execute(
        f"SELECT {SESSION_COLUMNS} FROM usage_rollup{where} GROUP BY session_id, source"
        " ORDER BY MIN(first_ts_ms) DESC, session_id, source LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return list(map(SessionTotals._make, rows))


def range_totals(ledger: Ledger, request_filter: RequestFilter) -> RangeTotals:
    """The range's sessions counted, with their dollars and requests."""
    where, params = request_filter.where()
    count, cost, requests = ledger.db.execute(
        "SELECT COUNT(*), TOTAL(cost), TOTAL(requests) FROM (SELECT TOTAL(cost_usd) AS cost,"
        f" SUM(requests) AS requests FROM usage_rollup{where} GROUP BY session_id, source)",
        params,
    ).fetchone()
    return RangeTotals(int(count), float(cost), int(requests))


def newest_request_ms(ledger: Ledger) -> int | None:
    """When the ledger's latest request was made (None: an empty ledger); two steps down
    the rollup's primary key."""
    row = ledger.db.execute(
        "SELECT MAX(last_ts_ms) FROM usage_rollup"
        " WHERE bucket = (SELECT MAX(bucket) FROM usage_rollup)"
    ).fetchone()
    return None if row[0] is None else int(row[0])
