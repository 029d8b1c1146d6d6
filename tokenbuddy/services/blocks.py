"""5-hour usage blocks from the ledger: ``report blocks`` and the active block.

:func:`current_block` is what the dashboard shows next to the 5h window when
Claude's own percentage is not known: it reads only the requests back to the last
5-hour pause, however long the history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenbuddy.core.blocks import BLOCK_MS, ActiveBlock, Block, active_block, build_blocks
from tokenbuddy.core.records import CLAUDE_CODE
from tokenbuddy.core.units import DAY_MS
from tokenbuddy.store.blocks import block_requests, request_times

if TYPE_CHECKING:
    from collections.abc import Callable
    from zoneinfo import ZoneInfo

    from tokenbuddy.store.ledger import Ledger


def usage_blocks(
    ledger: Ledger,
    *,
    source: str | None = CLAUDE_CODE,
    since_ms: int | None = None,
    until_ms: int | None = None,
) -> list[Block]:
    """Every block of ``source`` (Claude Code by default: the 5-hour windows are
    Claude's) that starts from ``since_ms`` and before ``until_ms``, oldest first.
    Blocks are built over the whole history, so a bound never cuts one in two."""
    blocks = build_blocks(block_requests(ledger, source))
    return [
        block
        for block in blocks
        if (since_ms is None or block.start_ms >= since_ms)
        and (until_ms is None or block.start_ms < until_ms)
    ]


_LAST_ACTIVE: dict[tuple[str, str | None], tuple[int, int]] = {}
"""(ledger path, source) -> (chain head, start of the block active then) of this process's
last :func:`current_block`. A dashboard asks on every snapshot; over a chain of requests
with no 5-hour pause for days, reading it from its head each time costs hundreds of ms,
and blocks from a known block start on come out the same."""


def current_block(
    ledger: Ledger, now_ms: int, *, source: str | None = CLAUDE_CODE
) -> ActiveBlock | None:
    """The active block at ``now_ms``: start, end, cost, burn rate and projected end
    cost; None when the last request is 5 hours old or more."""
    key = (str(ledger.path), source)
    known = _LAST_ACTIVE.get(key)
    if known is not None and known[1] <= now_ms and opens_chain(ledger, source, known[0]):
        head, start = known
    else:
        found = _chain_head(ledger, source, now_ms)
        if found is None:
            return None
        head = start = found
    active = active_block(build_blocks(block_requests(ledger, source, start, now_ms)), now_ms)
    if active is None:
        _LAST_ACTIVE.pop(key, None)
    else:
        _LAST_ACTIVE[key] = (head, active.block.start_ms)
    return active


def opens_chain(ledger: Ledger, source: str | None, head_ms: int) -> bool:
    """Whether the request at ``head_ms`` still opens its chain: no request of ``source``
    in the 5 hours before it (a log read late could have put one there)."""
    _, times = request_times(ledger, source, head_ms - BLOCK_MS + 1, head_ms - 1)
    return not times


def _chain_head(ledger: Ledger, source: str | None, now_ms: int) -> int | None:
    """The latest request up to ``now_ms`` that surely opens a block (its predecessor is
    5 hours older or there is none), looking back a day, then further as needed."""
    lookback = DAY_MS
    while True:
        before, times = request_times(ledger, source, now_ms - lookback, now_ms)
        if not times or now_ms - times[-1] >= BLOCK_MS:
            return None
        heads = [
            ts
            for previous, ts in zip([before, *times[:-1]], times, strict=True)
            if previous is None or ts - previous >= BLOCK_MS
        ]
        if heads:
            return heads[-1]
        lookback *= 4


def blocks_report(
    *,
    zone: ZoneInfo,
    source: str | None = CLAUDE_CODE,
    since_ms: int | None = None,
    until_ms: int | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Block], ActiveBlock | None, list[str]]:
    """Bring the ledger up to date, then its blocks from ``since_ms`` to ``until_ms``, the
    active one, and the problems met on the way (with why there are no blocks, if none)."""
    from tokenbuddy import clock
    from tokenbuddy.services.empty_result import explain_empty
    from tokenbuddy.services.session import open_session

    session = open_session(jobs=jobs, progress=progress)
    now_ms = clock.now_ms()
    with session.ledger:
        blocks = usage_blocks(session.ledger, source=source, since_ms=since_ms, until_ms=until_ms)
        active = active_block(blocks, now_ms) if blocks else None
        empty = (
            []
            if blocks
            else explain_empty(
                session.ledger,
                session.roots,
                zone=zone,
                since_ms=since_ms,
                until_ms=until_ms,
                source=source,
                missing_said=True,
            )
        )
    return blocks, active, [*session.problems, *session.summary.errors, *empty]
