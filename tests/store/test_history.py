"""The history's pages: cut in SQL, the latest started first, with the range's totals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenbuddy.store import history
from tokenbuddy.store.ledger import Ledger
from tokenbuddy.store.queries import RequestFilter

from .ledger.builders import BASE_MS, HOUR_MS, commit, record

if TYPE_CHECKING:
    from pathlib import Path


def _sessions(ledger: Ledger, count: int) -> None:
    """``count`` one-request sessions an hour apart (the n-th costs n + 1 dollars: the
    builders price a request at its output tokens), in projects /a and /b by turns."""
    records = [
        record(
            f"k{n}",
            BASE_MS + n * HOUR_MS,
            1 + n,
            session_id=f"s{n:03d}",
            project="/a" if n % 2 else "/b",
        )
        for n in range(count)
    ]
    commit(ledger, "/log", *records)


def test_pages_cover_every_session_once_latest_started_first(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert history.session_page(ledger, RequestFilter(), 0, 10) == []
        assert history.newest_request_ms(ledger) is None
        _sessions(ledger, 25)
        pages = [history.session_page(ledger, RequestFilter(), start, 10) for start in (0, 10, 20)]
        ids = [row.session_id for page in pages for row in page]
        assert [len(page) for page in pages] == [10, 10, 5]
        assert ids == [f"s{n:03d}" for n in range(24, -1, -1)]
        assert history.range_totals(ledger, RequestFilter()) == history.RangeTotals(
            25, sum(1.0 + n for n in range(25)), 25
        )
        assert history.newest_request_ms(ledger) == BASE_MS + 24 * HOUR_MS


def test_a_range_and_a_project_narrow_the_pages_and_totals(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        _sessions(ledger, 25)
        # Hours 4 to 11, then only project /a of them (odd hours).
        window = RequestFilter(BASE_MS + 4 * HOUR_MS, BASE_MS + 12 * HOUR_MS)
        rows = history.session_page(ledger, window, 0, 100)
        assert [row.session_id for row in rows] == [f"s{n:03d}" for n in range(11, 3, -1)]
        only_a = RequestFilter(BASE_MS + 4 * HOUR_MS, BASE_MS + 12 * HOUR_MS, project="/A")
        assert [row.session_id for row in history.session_page(ledger, only_a, 0, 100)] == [
            "s011", "s009", "s007", "s005"
        ]  # fmt: skip
        assert history.range_totals(ledger, only_a).sessions == 4
