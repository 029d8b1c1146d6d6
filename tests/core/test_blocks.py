"""5-hour blocks: where each starts and ends, what it holds, and the active one's pace."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tokenbuddy.core.blocks import BlockRequest, active_block, build_blocks


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def request(when: str, cost: float = 1.0, model: str = "claude-sonnet-4-5") -> BlockRequest:
    return BlockRequest(at(when), model, 10, 20, 30, 40, cost)


def starts(requests: list[BlockRequest]) -> list[str]:
    return [
        datetime.fromtimestamp(block.start_ms / 1000, UTC).strftime("%H:%M")
        for block in build_blocks(requests)
    ]


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        (["2026-04-01T09:47"], ["09:00"]),
        # 14:00 is exactly 5 hours after the 09:00 start: the next block
        (["2026-04-01T09:47", "2026-04-01T13:59", "2026-04-01T14:00"], ["09:00", "14:00"]),
        # a pause of 5 hours after the previous request opens a block, at its hour
        (["2026-04-01T09:10", "2026-04-01T14:10:00"], ["09:00", "14:00"]),
        # a pause under 5 hours stays in the block while the block lasts
        (["2026-04-01T09:10", "2026-04-01T13:50"], ["09:00"]),
        # steady use for 12 hours: blocks tile from the first hour
        ([f"2026-04-01T{hour:02d}:30" for hour in range(9, 21)], ["09:00", "14:00", "19:00"]),
    ],
)
def test_block_starts(times: list[str], expected: list[str]) -> None:
    assert starts([request(t) for t in times]) == expected


def test_a_block_sums_its_requests_and_counts_models() -> None:
    blocks = build_blocks(
        [
            request("2026-04-01T09:10", 1.5, "claude-opus-4-1"),
            request("2026-04-01T09:20", 0.25),
            request("2026-04-01T10:00", 0.25),
        ]
    )
    (block,) = blocks
    assert block.cost_usd == pytest.approx(2.0)
    assert block.requests == 3
    assert block.tokens == 3 * 100
    assert block.models == {"claude-opus-4-1": 1, "claude-sonnet-4-5": 2}
    assert block.end_ms - block.start_ms == 5 * 3_600_000


def test_the_active_block_projects_its_pace_to_its_end() -> None:
    blocks = build_blocks([request("2026-04-01T09:00", 2.0), request("2026-04-01T10:00", 2.0)])
    active = active_block(blocks, at("2026-04-01T11:00"))
    assert active is not None
    assert active.usd_per_hour == pytest.approx(4.0)
    assert active.tokens_per_minute == pytest.approx(200 / 60)
    assert active.remaining_ms == 3 * 3_600_000
    assert active.projected_cost_usd == pytest.approx(4.0 + 3 * 4.0)


def test_no_block_is_active_after_its_end_or_5_hours_after_its_last_request() -> None:
    blocks = build_blocks([request("2026-04-01T09:00")])
    assert active_block(blocks, at("2026-04-01T14:00")) is None
    one = active_block(blocks, at("2026-04-01T13:59"))
    assert one is not None and one.usd_per_hour is None and one.projected_cost_usd == 1.0
