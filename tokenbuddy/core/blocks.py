"""Claude's 5-hour usage blocks, rebuilt from the requests as ccusage's ``blocks`` does.

A block starts at the UTC hour of its first request and runs 5 hours. A request 5
hours or more after the block's start, or 5 hours or more after the previous request,
opens the next block. The block holding ``now`` whose last request is under 5 hours
old is the active one: its burn rate runs from its first request to its last, and its
projected cost carries that rate to the block's end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from tokenbuddy.core.units import HOUR_MS, MINUTE_MS

if TYPE_CHECKING:
    from collections.abc import Iterable

BLOCK_MS = 5 * HOUR_MS
"""How long a block runs, and the pause that ends one early."""


class BlockRequest(NamedTuple):
    """What a block needs of one request."""

    ts_ms: int
    model: str
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    cost_usd: float
    """0 when the model has no known price."""


@dataclass(slots=True)
class Block:
    """One 5-hour block: [start_ms, end_ms) and the requests' sums."""

    start_ms: int
    first_ms: int
    last_ms: int
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = 0.0
    requests: int = 0
    models: dict[str, int] = field(default_factory=dict)
    """Requests per model, in first-seen order."""

    @property
    def end_ms(self) -> int:
        """When the block's 5 hours are over (exclusive)."""
        return self.start_ms + BLOCK_MS

    @property
    def tokens(self) -> int:
        """All tokens: input, output, cache writes and reads."""
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_write_tokens
            + self.cache_read_tokens
        )

    def add(self, request: BlockRequest) -> None:
        """Count one request in the block."""
        self.last_ms = request.ts_ms
        self.input_tokens += request.input_tokens
        self.output_tokens += request.output_tokens
        self.cache_write_tokens += request.cache_write_tokens
        self.cache_read_tokens += request.cache_read_tokens
        self.cost_usd += request.cost_usd
        self.requests += 1
        self.models[request.model] = self.models.get(request.model, 0) + 1

    def is_active(self, now_ms: int) -> bool:
        """Whether ``now`` falls in the block and its last request is under 5 hours old."""
        return self.start_ms <= now_ms < self.end_ms and now_ms - self.last_ms < BLOCK_MS


def hour_floor(ts_ms: int) -> int:
    """The start of the UTC hour holding ``ts_ms``."""
    return ts_ms - ts_ms % HOUR_MS


def opens_block(block: Block | None, ts_ms: int) -> bool:
    """Whether a request at ``ts_ms`` (not earlier than the block's last) starts a new one."""
    return block is None or ts_ms >= block.end_ms or ts_ms - block.last_ms >= BLOCK_MS


def build_blocks(requests: Iterable[BlockRequest]) -> list[Block]:
    """The blocks of ``requests``, given in time order, oldest first."""
    blocks: list[Block] = []
    current: Block | None = None
    for request in requests:
        if opens_block(current, request.ts_ms):
            current = Block(hour_floor(request.ts_ms), request.ts_ms, request.ts_ms)
            blocks.append(current)
        assert current is not None
        current.add(request)
    return blocks


@dataclass(frozen=True, slots=True)
class ActiveBlock:
    """The block in progress, its pace and where that pace takes it."""

    block: Block
    usd_per_hour: float | None
    """Cost from the first request to the last, per hour; None with one request."""
    tokens_per_minute: float | None
    projected_cost_usd: float
    """The cost so far plus ``usd_per_hour`` until the block's end."""
    remaining_ms: int

    @property
    def start_ms(self) -> int:
        """When the block started (a UTC hour)."""
        return self.block.start_ms

    @property
    def end_ms(self) -> int:
        """When the block ends."""
        return self.block.end_ms

    @property
    def cost_usd(self) -> float:
        """The block's cost so far."""
        return self.block.cost_usd


def active_block(blocks: list[Block], now_ms: int) -> ActiveBlock | None:
    """The active block among ``blocks`` (the latest one, if active) with its burn rate and
    projected end cost; None when no block is active at ``now_ms``."""
    if not blocks or not blocks[-1].is_active(now_ms):
        return None
    block = blocks[-1]
    remaining_ms = block.end_ms - now_ms
    elapsed_ms = block.last_ms - block.first_ms
    if elapsed_ms <= 0:
        return ActiveBlock(block, None, None, block.cost_usd, remaining_ms)
    per_hour = block.cost_usd * HOUR_MS / elapsed_ms
    per_minute = block.tokens * MINUTE_MS / elapsed_ms
    projected = block.cost_usd + per_hour * remaining_ms / HOUR_MS
    return ActiveBlock(block, per_hour, per_minute, projected, remaining_ms)
