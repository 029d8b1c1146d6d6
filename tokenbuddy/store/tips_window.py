"""The requests and human prompts of a time window, as the tips take them.

The window is held in memory (two weeks of requests is tens of thousands of
small tuples at most); the ledger's columns map one to one onto
:class:`~tokenbuddy.core.records.UsageRecord` plus ``cost_usd``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenbuddy.core.records import PromptMark, UsageRecord
from tokenbuddy.core.tips import PricedRequest
from tokenbuddy.store.ledger import COUNTED

if TYPE_CHECKING:
    from tokenbuddy.store.ledger import Ledger

_RECORD_COLUMNS = ", ".join((*UsageRecord._fields, "cost_usd"))
_SIDECHAIN = UsageRecord._fields.index("is_sidechain")


def window_requests(ledger: Ledger, since_ms: int, until_ms: int) -> list[PricedRequest]:
    """Requests with ``since_ms <= ts_ms <= until_ms``, in time order, with their cost."""
    rows = ledger.db.execute(
        f"SELECT {_RECORD_COLUMNS} FROM requests WHERE ts_ms >= ? AND ts_ms <= ? AND {COUNTED}"
        " ORDER BY ts_ms",
        (since_ms, until_ms),
    )
    return [
        PricedRequest(
            UsageRecord._make(
                (*row[:_SIDECHAIN], bool(row[_SIDECHAIN]), *row[_SIDECHAIN + 1 : -1])
            ),
            None if row[-1] is None else float(row[-1]),
        )
        for row in rows
    ]


def window_prompts(ledger: Ledger, since_ms: int, until_ms: int) -> list[PromptMark]:
    """Human prompts with ``since_ms <= ts_ms <= until_ms``, in time order."""
    rows = ledger.db.execute(
        "SELECT source, session_id, ts_ms FROM prompts WHERE ts_ms >= ? AND ts_ms <= ?"
        " ORDER BY ts_ms",
        (since_ms, until_ms),
    )
    return [PromptMark(str(source), str(sid), int(ts)) for source, sid, ts in rows]
