"""Requests and human prompts read back in time order, as the runaway detectors take them.

:class:`EventStream` merges two cursors lazily, so warming the detectors up on a
week of history never holds that week in memory.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from tokenbuddy.core.alerts import PromptEvent, RequestEvent
from tokenbuddy.store.ledger import COUNTED

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from tokenbuddy.store.ledger import Ledger

_REQUEST_COLUMNS = (
    "rowid, ts_ms, session_id, project, model, cost_usd, input_tokens,"
    " cache_write_5m_tokens + cache_write_1h_tokens, cache_read_tokens, output_tokens,"
    " is_sidechain, agent_id, entrypoint, source"
)


def _request_events(rows: Iterable[tuple[object, ...]]) -> Iterator[tuple[int, RequestEvent]]:
    """(rowid, event) for rows selected with ``_REQUEST_COLUMNS``."""
    for (
        rowid, ts, sid, project, model, cost, inp, writes, reads, out, side, agent, started, source
    ) in rows:  # fmt: skip
        event = RequestEvent(
            int(ts),  # type: ignore[call-overload]
            str(sid),
            str(project),
            str(model),
            None if cost is None else float(cost),  # type: ignore[arg-type]
            int(inp),  # type: ignore[call-overload]
            int(writes),  # type: ignore[call-overload]
            int(reads),  # type: ignore[call-overload]
            int(out),  # type: ignore[call-overload]
            bool(side),
            str(agent),
            entrypoint=str(started),
            source=str(source),
        )
        yield int(rowid), event  # type: ignore[call-overload]


class EventStream:
    """Counted requests and prompts merged in time order, streamed from two cursors.

    Requests come after ``after_rowid`` and from ``since_ms`` on; prompts from
    ``prompts_since_ms`` on. After iteration, :attr:`last_rowid` is the highest
    request rowid seen.
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        after_rowid: int = 0,
        since_ms: int = 0,
        prompts_since_ms: int = 0,
    ) -> None:
        self.last_rowid = after_rowid
        db = ledger.db
        self._requests = db.execute(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE rowid > ? AND ts_ms >= ?"
            f" AND {COUNTED} ORDER BY ts_ms",
            (after_rowid, since_ms),
        )
        self._prompts = db.execute(
            "SELECT ts_ms, session_id, source FROM prompts WHERE ts_ms >= ? ORDER BY ts_ms",
            (prompts_since_ms,),
        )

    def __iter__(self) -> Iterator[RequestEvent | PromptEvent]:
        prompts = (
            PromptEvent(int(ts), str(sid), source=str(source)) for ts, sid, source in self._prompts
        )
        return heapq.merge(prompts, self._tracked_requests(), key=_event_order)

    def _tracked_requests(self) -> Iterator[RequestEvent]:
        for rowid, event in _request_events(self._requests):
            self.last_rowid = max(self.last_rowid, rowid)
            yield event


def _event_order(event: RequestEvent | PromptEvent) -> tuple[int, bool]:
    """Time order; a prompt sorts before a request of the same millisecond (asked first)."""
    return (event.ts_ms, isinstance(event, RequestEvent))
