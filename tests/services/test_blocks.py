"""Blocks from the ledger: the report's list and the dashboard's active block."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest

from tokenbuddy.core.file_cursor import FileCursor
from tokenbuddy.core.pricing import PriceBook
from tokenbuddy.core.records import UsageRecord
from tokenbuddy.services.blocks import current_block, usage_blocks
from tokenbuddy.store.ledger import FileResult, Ledger, request_row


def ms(when: str) -> int:
    return int(datetime.fromisoformat(when).replace(tzinfo=UTC).timestamp() * 1000)


def call(key: str, when: str, source: str = "claude-code") -> UsageRecord:
    return UsageRecord(
        key, source, ms(when), "s1", "/home/dev/shop", "claude-sonnet-4-5",
        1000, 100, 0, 0, 0, 0, 0, "", "", False, "", "", "", None, 0.0,
    )  # fmt: skip


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    # Steady use every 2 hours for 3 days: no 5-hour pause, so the active block's start
    # depends on requests far older than a day.
    times = [f"2026-04-{day:02d}T{hour:02d}:10" for day in (1, 2, 3) for hour in range(0, 24, 2)]
    records = [call(f"r{i}", when) for i, when in enumerate(times)]
    records.append(call("codex", "2026-04-03T23:00", source="codex"))
    opened = Ledger(tmp_path / "ledger.sqlite3")
    rows = [request_row(record, PriceBook().cost(record)) for record in records]
    opened.commit_files(
        [FileResult(FileCursor("/logs/x", "claude-code"), rows, [], 5, {}, {}, False)]
    )
    opened.refresh_rollup()
    return opened


def test_the_active_block_matches_the_one_built_from_the_whole_history(ledger: Ledger) -> None:
    now = ms("2026-04-03T22:30")
    whole = usage_blocks(ledger)
    active = current_block(ledger, now)
    assert active is not None
    assert active.start_ms == whole[-1].start_ms
    assert active.block.requests == whole[-1].requests
    assert active.cost_usd == pytest.approx(whole[-1].cost_usd)
    assert active.start_ms == ms("2026-04-03T18:00")
    assert active.projected_cost_usd > active.cost_usd


def test_blocks_tile_the_history_and_honour_the_bounds(ledger: Ledger) -> None:
    blocks = usage_blocks(ledger)
    assert sum(block.requests for block in blocks) == 36
    assert all(b.start_ms >= a.end_ms for a, b in pairwise(blocks))
    later = usage_blocks(ledger, since_ms=ms("2026-04-03T00:00"))
    assert later and all(block.start_ms >= ms("2026-04-03T00:00") for block in later)
    assert usage_blocks(ledger, source="codex")[0].requests == 1


def test_no_block_is_active_once_its_five_hours_are_over(ledger: Ledger) -> None:
    assert current_block(ledger, ms("2026-04-03T23:00")) is None
    assert current_block(ledger, ms("2026-04-04T03:59"), source="codex") is not None
    assert current_block(ledger, ms("2026-04-04T04:00"), source="codex") is None


def add(ledger: Ledger, *records: UsageRecord) -> None:
    rows = [request_row(record, PriceBook().cost(record)) for record in records]
    log = FileCursor(f"/logs/{records[0].dedup_key}", "claude-code")
    ledger.commit_files([FileResult(log, rows, [], 1, {}, {}, False)])


def test_the_active_block_read_from_the_last_one_equals_one_read_from_the_chain_s_head(
    ledger: Ledger,
) -> None:
    """The dashboard asks on every snapshot; the next answer starts from the block it last
    found, and must be what a read from the chain's head gives: as the chain grows into a
    new block, and when a late log puts a request before the chain's head."""
    from tokenbuddy.services import blocks

    assert current_block(ledger, ms("2026-04-03T20:30")) is not None
    add(ledger, call("n1", "2026-04-03T22:40"), call("n2", "2026-04-04T00:10"))
    grown = current_block(ledger, ms("2026-04-04T00:30"))
    blocks._LAST_ACTIVE.clear()
    assert grown is not None and grown == current_block(ledger, ms("2026-04-04T00:30"))
    assert grown.start_ms == ms("2026-04-04T00:00")
    add(ledger, call("late", "2026-03-31T22:30"))  # the chain now opens 1 h 40 min earlier
    reshaped = current_block(ledger, ms("2026-04-04T00:30"))
    blocks._LAST_ACTIVE.clear()
    assert reshaped == current_block(ledger, ms("2026-04-04T00:30"))
    assert reshaped is not None and reshaped.start_ms == ms("2026-04-03T22:00")
