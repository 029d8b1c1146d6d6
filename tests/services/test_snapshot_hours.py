"""The hourly chart follows the local clock, even in zones with a half-hour offset."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import orjson

from tests.conftest import environ_for
from tokenbuddy.services.budget import BudgetSettings
from tokenbuddy.services.ingest import sync
from tokenbuddy.services.snapshot import build_snapshot
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.store.ledger import Ledger

if TYPE_CHECKING:
    from pathlib import Path


def line(number: int, when: str) -> bytes:
    record = {
        "type": "assistant",
        "timestamp": when,
        "sessionId": "s1",
        "cwd": "/home/dev/app",
        "requestId": f"req_{number}",
        "message": {
            "id": f"msg_{number}",
            "model": "claude-sonnet-4-5-20250929",
            "usage": {"input_tokens": 1000 * number, "output_tokens": 0},
        },
    }
    return orjson.dumps(record) + b"\n"


def test_hours_are_local_hours_in_a_half_hour_zone(tmp_path: Path) -> None:
    claude = tmp_path / "claude"
    path = claude / "projects" / "-home-dev-app" / "s1.jsonl"
    path.parent.mkdir(parents=True)
    # 15:40 and 16:10 in Kolkata (UTC+5:30): the same UTC hour, two local hours.
    path.write_bytes(line(1, "2026-11-20T10:10:00Z") + line(2, "2026-11-20T10:40:00Z"))
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    sync(ledger, log_roots(environ_for(claude, tmp_path / "codex"), tmp_path))
    now_ms = int(datetime(2026, 11, 20, 11, 29, tzinfo=UTC).timestamp() * 1000)  # 16:59 IST
    snapshot = build_snapshot(ledger, now_ms, ZoneInfo("Asia/Kolkata"), BudgetSettings())
    hourly = snapshot.hourly_usd
    assert hourly[-1] > 0 and hourly[-2] > 0, "16:00–17:00 and 15:00–16:00 IST"
    assert hourly[-1] == 2 * hourly[-2], "the second request (2x the tokens) is the later hour"
    assert sum(hourly[:-2]) == 0
    assert sum(hourly) == snapshot.today.cost_usd
