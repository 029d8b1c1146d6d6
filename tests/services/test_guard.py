"""The guard's part of status.json, its state, and allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from tests.conftest import environ_for
from tests.incidents import broken_cache_incident
from tokenbuddy.services.budget import BudgetSettings
from tokenbuddy.services.guard import GuardSetup, allow, guard_state
from tokenbuddy.services.ingest import sync
from tokenbuddy.services.snapshot import build_snapshot
from tokenbuddy.services.status_file import publish_status
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.store import guard_files
from tokenbuddy.store.ledger import Ledger
from tokenbuddy.store.settings import GuardSettings, StatuslineSettings

START = datetime(2026, 3, 8, 14, 0, tzinfo=UTC)
"""A Sunday afternoon in New York, the day its clocks went forward: a 23-hour day."""


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def publish(
    tmp_path: Path, zone: ZoneInfo, now: datetime, *, every_root: bool = True, **guard: object
) -> dict[str, object]:
    setup = GuardSetup(GuardSettings(**guard), tmp_path / "state", tmp_path / "config.toml")  # type: ignore[arg-type]
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync(ledger, log_roots(environ_for(tmp_path / "claude", tmp_path / "none"), tmp_path))
        snapshot = build_snapshot(ledger, ms(now), zone, BudgetSettings(cycle_start_day=5))
        return publish_status(
            ledger,
            snapshot,
            StatuslineSettings(),
            tmp_path / "cache" / "status.json",
            guard=setup,
            every_root=every_root,
        )


def test_the_guard_object_says_when_the_day_and_cycle_end_in_the_users_zone(
    tmp_path: Path,
) -> None:
    broken_cache_incident(tmp_path / "claude", START)
    zone = ZoneInfo("America/New_York")
    now = START + timedelta(hours=1)
    payload = publish(tmp_path, zone, now, mode="block", hard_cap_usd=50.0)
    guard = payload["guard"]
    assert isinstance(guard, dict)
    assert guard["settings"] == {
        "mode": "block",
        "hard_cap_usd": 50.0,
        "daily_cap_usd": None,
        "scripted_session_limit_usd": None,
        "block_on_critical": True,
    }
    assert guard["day_ends_ms"] == ms(datetime(2026, 3, 9, tzinfo=zone))
    assert guard["day_ends_ms"] - ms(datetime(2026, 3, 8, tzinfo=zone)) == 23 * 3_600_000
    assert guard["cycle_ends_ms"] == ms(datetime(2026, 3, 5, tzinfo=zone) + timedelta(days=31))
    assert guard["config_mtime_ns"] == 0 and guard["decisions"] == []
    assert payload["synced_ms"] == ms(now)
    on_disk = orjson.loads((tmp_path / "cache" / "status.json").read_bytes())
    assert on_disk["guard"] == guard


def test_a_one_session_refresh_keeps_when_every_root_was_last_read(tmp_path: Path) -> None:
    broken_cache_incident(tmp_path / "claude", START)
    first = publish(tmp_path, ZoneInfo("UTC"), START + timedelta(hours=1))
    later = START + timedelta(hours=2)
    second = publish(tmp_path, ZoneInfo("UTC"), later, every_root=False)
    assert second["synced_ms"] == first["synced_ms"] == ms(START + timedelta(hours=1))
    assert second["updated_ms"] == ms(later)


def test_publishing_imports_the_hooks_journal_and_lists_the_latest(tmp_path: Path) -> None:
    broken_cache_incident(tmp_path / "claude", START)
    now = START + timedelta(hours=1)
    for number in range(25):
        guard_files.append_decision(
            str(tmp_path / "state"),
            {"id": f"d{number}", "ts_ms": ms(now) - number, "decision": "block", "event": "x"},
        )
    payload = publish(tmp_path, ZoneInfo("UTC"), now)
    decisions = payload["guard"]["decisions"]  # type: ignore[index]
    assert len(decisions) == 20 and decisions[0]["id"] == "d0"
    assert not list((tmp_path / "state").glob("guard-journal*"))


def test_the_state_says_what_is_stopped_and_what_lifts_it(tmp_path: Path) -> None:
    broken_cache_incident(tmp_path / "claude", START)
    now = START + timedelta(hours=1)
    payload = publish(tmp_path, ZoneInfo("UTC"), now, mode="block", hard_cap_usd=1.0)
    state = guard_state(payload, tmp_path / "state", ms(now))
    assert state.mode == "block" and state.blocking
    (session,) = (tmp_path / "claude").rglob("*.jsonl")
    assert [(s.rule, s.scope) for s in state.standing] == [
        ("hard_cap", "every session"),
        ("critical_alert", f"session {session.stem}"),  # the broken cache
    ]
    assert state.standing[0].message.endswith("reached hard_cap_usd $1.00")
    assert state.standing[1].message.startswith("critical warning: Cache hit ratio")
    allow(tmp_path / "state", minutes=30, session_id="s-1", now_ms=ms(now))
    assert guard_state(payload, tmp_path / "state", ms(now)).blocking, "one session only"
    allow(tmp_path / "state", minutes=30, session_id=None, now_ms=ms(now))
    state = guard_state(payload, tmp_path / "state", ms(now))
    assert not state.blocking
    assert [(a.session_id, a.until_ms) for a in state.allows] == [
        ("s-1", ms(now) + 1_800_000),
        (None, ms(now) + 1_800_000),
    ]
    assert guard_state(payload, tmp_path / "state", ms(now) + 1_800_000).allows == []


def test_an_allow_is_recorded_and_drops_expired_ones(tmp_path: Path) -> None:
    state = tmp_path / "state"
    allow(state, minutes=1, session_id=None, now_ms=1_000)
    allow(state, minutes=90, session_id="s", now_ms=1_000 + 60_000)
    assert [a["session_id"] for a in guard_files.read_allows(str(state))] == ["s"]
    records, _ = guard_files.read_journal(guard_files.journal_path(str(state)))
    assert [(r["decision"], r["session_id"], r["until_ms"]) for r in records] == [
        ("allow", "", 61_000),
        ("allow", "s", 5_461_000),
    ]
    with pytest.raises(ValueError, match="1 minute to 7 days"):
        allow(state, minutes=0, session_id=None, now_ms=1_000)


def test_an_unreadable_allow_file_is_a_problem_and_replaced_by_the_next_allow(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    Path(guard_files.allows_path(str(state))).write_text("{broken")
    found = guard_state({"guard": {"settings": {"mode": "block"}}}, state, 0)
    assert found.allows == [] and "cannot be read" in found.problems[0]
    allow(state, minutes=5, session_id=None, now_ms=0)
    assert len(guard_files.read_allows(str(state))) == 1
