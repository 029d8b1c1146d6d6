"""Re-pricing: a new price database re-prices every stored request."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokenbuddy.store.ledger import Ledger


def test_every_request_is_repriced_when_the_price_database_changes(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    import orjson

    from tests.conftest import environ_for
    from tokenbuddy.services.ingest import sync
    from tokenbuddy.services.report import build_report
    from tokenbuddy.sources.discovery import log_roots

    claude = tmp_path / "claude"
    transcript = claude / "projects" / "-p" / "s1.jsonl"
    transcript.parent.mkdir(parents=True)
    line = {
        "type": "assistant",
        "timestamp": "2026-11-20T10:00:00Z",
        "sessionId": "s1",
        "requestId": "r1",
        "message": {
            "id": "m1",
            "model": "claude-haiku-4-5",
            "usage": {"input_tokens": 0, "output_tokens": 1_000_000},
        },
    }
    transcript.write_bytes(orjson.dumps(line) + b"\n")
    roots = log_roots(environ_for(claude, tmp_path / "codex"), tmp_path)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    sync(ledger, roots)
    utc = ZoneInfo("UTC")
    assert build_report(ledger, "daily", zone=utc)["totals"]["cost_usd"] == pytest.approx(5.0)

    ledger.db.execute("UPDATE requests SET cost_usd = 0")
    ledger.db.execute("UPDATE meta SET value = '0.0.1' WHERE key = 'price_database'")
    ledger.db.execute("DELETE FROM price_cache")
    sync(ledger, roots)
    assert build_report(ledger, "daily", zone=utc)["totals"]["cost_usd"] == pytest.approx(5.0)
