"""The monitor keeps the detectors level with the ledger and remembers what it announced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import orjson

from tests.conftest import environ_for
from tests.incidents import broken_cache_incident, scripted_loop_incident
from tokenbuddy.core.alerts import PromptEvent, Thresholds
from tokenbuddy.services.budget import BudgetSettings
from tokenbuddy.services.ingest import sync
from tokenbuddy.services.monitor import Monitor, subscription_windows
from tokenbuddy.services.snapshot import build_snapshot
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.store.events import EventStream
from tokenbuddy.store.ledger import Ledger

if TYPE_CHECKING:
    from pathlib import Path

UTC_ZONE = ZoneInfo("UTC")
START = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def incident_ledger(tmp_path: Path) -> tuple[Ledger, datetime]:
    broken_at = broken_cache_incident(tmp_path / "claude", START)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    sync(ledger, log_roots(environ_for(tmp_path / "claude", tmp_path / "none"), tmp_path))
    return ledger, broken_at


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_a_restart_does_not_announce_the_same_warning_again(tmp_path: Path) -> None:
    ledger, broken_at = incident_ledger(tmp_path)
    now = ms(broken_at + timedelta(minutes=10))
    first = Monitor(UTC_ZONE, BudgetSettings(), Thresholds()).catch_up(ledger, now)
    assert ("cache_collapse", "critical") in {(a.kind, a.severity) for a in first.announce}
    again = Monitor(UTC_ZONE, BudgetSettings(), Thresholds()).catch_up(ledger, now + 60_000)
    assert again.active, "the condition still holds"
    assert again.announce == []


def test_a_reader_that_does_not_record_leaves_announcements_to_the_dashboard(
    tmp_path: Path,
) -> None:
    ledger, broken_at = incident_ledger(tmp_path)
    now = ms(broken_at + timedelta(minutes=10))
    quiet = Monitor(UTC_ZONE, BudgetSettings(), Thresholds(), record_announcements=False)
    assert quiet.catch_up(ledger, now).announce == []
    assert ledger.db.execute("SELECT COUNT(*) FROM announced_alerts").fetchone()[0] == 0
    loud = Monitor(UTC_ZONE, BudgetSettings(), Thresholds()).catch_up(ledger, now)
    assert loud.announce


def test_the_monitor_picks_up_what_is_committed_after_it_started(tmp_path: Path) -> None:
    broken_at = broken_cache_incident(tmp_path / "claude", START)
    (transcript,) = (tmp_path / "claude").rglob("*.jsonl")
    lines = transcript.read_bytes().splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if _at(line) >= broken_at)
    transcript.write_bytes(b"".join(lines[:cut]))
    roots = log_roots(environ_for(tmp_path / "claude", tmp_path / "none"), tmp_path)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    sync(ledger, roots)
    monitor = Monitor(UTC_ZONE, BudgetSettings(), Thresholds())
    assert monitor.catch_up(ledger, ms(broken_at)).active == []
    transcript.write_bytes(b"".join(lines))
    sync(ledger, roots)
    later = monitor.catch_up(ledger, ms(broken_at + timedelta(minutes=10)))
    assert [(a.kind, a.severity) for a in later.announce if a.kind == "cache_collapse"] == [
        ("cache_collapse", "critical")
    ]
    assert monitor.engine.tracked_sessions == 1


def _at(line: bytes) -> datetime:
    stamp = orjson.loads(line)["timestamp"]
    return datetime.fromisoformat(stamp)


def test_a_snapshot_carries_the_projection_basis_and_the_active_warnings(tmp_path: Path) -> None:
    ledger, broken_at = incident_ledger(tmp_path)
    now = ms(broken_at + timedelta(minutes=10))
    budget = BudgetSettings(monthly_cap_usd=100.0)
    snapshot = build_snapshot(ledger, now, UTC_ZONE, budget)
    assert snapshot.cap is not None and snapshot.projection.cap_usd == 100.0
    assert snapshot.projection.spent_usd == snapshot.cycle_totals.cost_usd
    assert "today's spend so far" in snapshot.projection.basis.describe()
    kinds = {a.kind for a in snapshot.alerts}
    assert {"cache_collapse", "cap_trajectory"} <= kinds
    assert snapshot.announce == (), "a one-off snapshot announces nothing"


def test_subscription_windows_take_the_latest_reading_and_its_growth(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    base = ms(START)
    resets = base + 3 * 3_600_000
    rows = [
        ("codex", base, 300, 20.0, resets, "plus"),
        ("codex", base + 1_800_000, 300, 30.0, resets, "plus"),
        ("codex", base + 3_600_000, 300, 40.0, resets, "plus"),
        ("codex", base + 3_600_000, 10080, 12.0, base + 5 * 86_400_000, "plus"),
        ("codex", base - 86_400_000, 300, 90.0, base - 70_000_000, "plus"),
    ]
    ledger.db.executemany("INSERT INTO rate_limits VALUES (?, ?, ?, ?, ?, ?)", rows)
    windows = subscription_windows(ledger, base + 3_600_000)
    assert [(w.label, w.projection.used_percent) for w in windows] == [
        ("Codex 5h", 40.0),
        ("Codex 7d", 12.0),
    ]
    five_hour = windows[0].projection
    assert five_hour.percent_per_hour == 20.0
    assert five_hour.full_at_ms is None, "80% at the reset: it does not fill up"
    assert five_hour.percent_at_reset == 40.0 + 20.0 * 2
    assert subscription_windows(ledger, resets + 1) == tuple(
        w for w in windows if w.window_minutes == 10080
    )


def test_a_window_filling_before_its_reset_is_a_warning_and_a_full_one_critical(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    base = ms(START)
    resets = base + 4 * 3_600_000
    rows = [
        ("claude-code", base, 300, 30.0, resets, ""),
        ("claude-code", base + 1_800_000, 300, 60.0, resets, ""),
        ("claude-code/Opus", base + 1_800_000, 10080, 100.0, base + 86_400_000, ""),
    ]
    ledger.db.executemany("INSERT INTO rate_limits VALUES (?, ?, ?, ?, ?, ?)", rows)
    now = base + 1_800_000
    result = Monitor(UTC_ZONE, BudgetSettings(), Thresholds()).catch_up(ledger, now)
    windows = {a.project: a for a in result.active if a.kind == "subscription_window"}
    assert set(windows) == {"Claude 5h", "Claude Opus 7d"}
    assert windows["Claude 5h"].severity == "warning"
    assert "fills in 40 min, before it resets in 3 h 30 min" in windows["Claude 5h"].message
    assert windows["Claude Opus 7d"].severity == "critical"
    assert len(result.announce) == 2, "two windows, two announcements"


def test_the_event_stream_says_which_agent_wrote_each_event(tmp_path: Path) -> None:
    ledger, _ = incident_ledger(tmp_path)
    events = list(EventStream(ledger))
    assert any(isinstance(e, PromptEvent) for e in events)
    assert {e.source for e in events} == {"claude-code"}


def test_a_scripted_loop_is_projected_to_the_morning_in_the_users_zone(tmp_path: Path) -> None:
    start = scripted_loop_incident(tmp_path / "claude", START)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    sync(ledger, log_roots(environ_for(tmp_path / "claude", tmp_path / "none"), tmp_path))
    now = ms(start + timedelta(minutes=31))
    berlin = Monitor(ZoneInfo("Europe/Berlin"), BudgetSettings(), Thresholds())
    (alert,) = [a for a in berlin.catch_up(ledger, now).active if a.kind == "unattended_spend"]
    # 23:31 UTC is 00:31 in Berlin: 08:00 there is under 8 hours away
    assert alert.severity == "critical"
    assert alert.message.endswith("by 08:31, 8 h from now at this rate")
    assert alert.project == "/home/dev/src/nightly-report"
