"""Tips read from a real ledger: generated incident traces and the anonymised real logs."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from tests.conftest import environ_for
from tests.incidents import OPUS, Session, broken_cache_incident, working_session
from tokenbuddy.core.pricing import PriceBook
from tokenbuddy.core.tips import TIP_IDS, Tip
from tokenbuddy.services.ingest import sync
from tokenbuddy.services.tips import ledger_tips
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.store.ledger import Ledger
from tokenbuddy.store.tips_window import window_prompts, window_requests

if TYPE_CHECKING:
    from pathlib import Path

DAY_MS = 86_400_000
START = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def ingest(tmp_path: Path, claude: Path, codex: Path) -> Ledger:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    sync(ledger, log_roots(environ_for(claude, codex), tmp_path / "home"))
    return ledger


def tips(ledger: Ledger, since_ms: int, now_ms: int) -> list[Tip]:
    return ledger_tips(ledger, since_ms=since_ms, now_ms=now_ms, reprice=PriceBook().cost)


def assert_well_formed(found: list[Tip]) -> None:
    """Positive savings, ids from the stable set, each at most once, ranked by saving."""
    assert all(t.saving_usd_per_month > 0.01 and t.requests_counted > 0 for t in found)
    assert all(t.id in TIP_IDS for t in found)
    assert len({t.id for t in found}) == len(found)
    savings = [t.saving_usd_per_month for t in found]
    assert savings == sorted(savings, reverse=True)


def test_the_window_is_read_back_as_records_with_their_cost(tmp_path: Path) -> None:
    broken_cache_incident(tmp_path / "claude", START)
    ledger = ingest(tmp_path, tmp_path / "claude", tmp_path / "none")
    requests = window_requests(ledger, 0, ms(START + timedelta(days=1)))
    assert {p.record for p in requests} == set(ledger.all_requests())
    assert [p.record.ts_ms for p in requests] == sorted(p.record.ts_ms for p in requests)
    stored = dict(ledger.db.execute("SELECT dedup_key, cost_usd FROM requests"))
    assert all(p.cost_usd == stored[p.record.dedup_key] for p in requests)
    assert all(isinstance(p.record.is_sidechain, bool) for p in requests)
    assert window_requests(ledger, 0, ms(START) - 1) == []
    prompts = window_prompts(ledger, 0, ms(START + timedelta(days=1)))
    assert prompts and all(p.ts_ms >= ms(START) for p in prompts)


def test_a_broken_cache_on_opus_gets_cache_health_and_cheaper_model_tips(tmp_path: Path) -> None:
    broken_at = broken_cache_incident(tmp_path / "claude", START)
    ledger = ingest(tmp_path, tmp_path / "claude", tmp_path / "none")
    now = ms(broken_at + timedelta(hours=2))
    found = tips(ledger, now - 14 * DAY_MS, now)
    assert_well_formed(found)
    by_id = {t.id: t for t in found}
    assert by_id["cache-health"].saving_usd_in_window > 5, "30 min of full rewrites on Opus 4.1"
    assert "checkout-service" in by_id["cache-health"].evidence[1]
    assert "cheaper-model" in by_id
    assert "cache-ttl" not in by_id, "the trace writes only 5-minute cache"


def test_a_chat_like_opening_in_real_transcript_format_is_found(tmp_path: Path) -> None:
    session = Session(tmp_path / "claude", "notes", random.Random(7), model=OPUS)
    moment = START
    for _ in range(5):
        session.prompt(moment)
        moment += timedelta(seconds=40)
        session.response(moment)
        moment += timedelta(minutes=2)
    working_session(session, moment, 20)
    session.write()
    ledger = ingest(tmp_path, tmp_path / "claude", tmp_path / "none")
    now = ms(START + timedelta(hours=3))
    tip = {t.id: t for t in tips(ledger, now - 14 * DAY_MS, now)}["draft-in-free-chat"]
    assert tip.requests_counted == 5
    rows = ledger.db.execute("SELECT cost_usd FROM requests ORDER BY ts_ms LIMIT 5")
    assert tip.saving_usd_in_window == pytest.approx(sum(cost for (cost,) in rows))


# -- the real anonymised logs -----------------------------------------------------------------


@pytest.fixture
def fixture_ledger(tmp_path: Path, shared_fixtures: Path) -> Ledger:
    return ingest(tmp_path, shared_fixtures / "claude", shared_fixtures / "codex")


def last_request_ms(ledger: Ledger) -> int:
    return int(ledger.db.execute("SELECT MAX(ts_ms) FROM requests").fetchone()[0])


def test_real_logs_last_two_weeks(fixture_ledger: Ledger) -> None:
    now = last_request_ms(fixture_ledger) + 60_000
    found = tips(fixture_ledger, now - 14 * DAY_MS, now)
    assert_well_formed(found)
    by_id = {t.id: t for t in found}
    assert {"cheaper-model", "idle-context"} <= set(by_id)
    # 83 main-thread Opus replies of at most 300 output tokens in those two weeks,
    # counted by hand from the logs
    assert by_id["cheaper-model"].requests_counted == 83, "only Opus is moved to Sonnet"
    assert "subagent-share" not in by_id, "the subagents here already run on Haiku"
    assert "premium-modes" not in by_id, "no fast, US-only or long-context premium here"
    assert all(t.window_days == 14 for t in found)


def test_real_logs_since_april(fixture_ledger: Ledger) -> None:
    now = last_request_ms(fixture_ledger) + 60_000
    found = tips(fixture_ledger, ms(datetime(2026, 4, 1, tzinfo=UTC)), now)
    assert_well_formed(found)
    by_id = {t.id: t for t in found}
    ttl = by_id["cache-ttl"]
    # session 44ef5cbf wrote to the 1-hour cache in 19 requests, counted by hand from the logs
    assert ttl.requests_counted == 19, "the one session that never paused 5 minutes"
    assert "44ef5cbf" in ttl.evidence[1]


def test_codex_is_never_moved_to_a_claude_model(fixture_ledger: Ledger) -> None:
    now = last_request_ms(fixture_ledger) + 60_000
    since = ms(datetime(2026, 3, 28, tzinfo=UTC))
    found = {t.id: t for t in tips(fixture_ledger, since, now)}
    # The window holds 115 main-thread Opus replies of at most 300 output tokens and 73
    # such Codex replies, counted by hand from the logs: only the Opus ones are counted.
    assert found["cheaper-model"].requests_counted == 115
