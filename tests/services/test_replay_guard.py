"""The guard tried over generated logs, through the service: a ``claude -p`` loop at night,
and the figures it judges against what ``status.json`` holds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import environ_for
from tests.guard_trials import try_guard
from tests.incidents import broken_cache_incident, scripted_loop_incident
from tokenbuddy.core import guard as policy
from tokenbuddy.core.alerts import AlertEngine, Thresholds
from tokenbuddy.core.guard_figures import alert_entry, hook_view
from tokenbuddy.core.guard_replay import GuardLift, GuardReplay
from tokenbuddy.services.budget import BudgetSettings
from tokenbuddy.services.ingest import sync
from tokenbuddy.services.replay import guard_trial, ingest, resolve_targets
from tokenbuddy.services.snapshot import build_snapshot
from tokenbuddy.services.status_file import status_payload
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.store.events import EventStream
from tokenbuddy.store.ledger import Ledger
from tokenbuddy.store.settings import Settings, StatuslineSettings

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_a_claude_p_loop_at_night_is_stopped_within_35_minutes_of_its_start(
    tmp_path: Path, seed: int
) -> None:
    start = scripted_loop_incident(tmp_path / "incident", START, seed=seed)
    tried = try_guard(tmp_path / "incident", guard_trial(Settings(), zone=UTC), tmp_path)
    first = tried.blocks[0]
    assert first.at_ms >= ms(start), "nothing is stopped during the day's work"
    assert first.rule == "unattended_spend" and first.entrypoint == "sdk-cli"
    assert first.at_ms - ms(start) <= 35 * 60_000
    night = tried.spend(ms(start))
    assert tried.spend(ms(start), first.at_ms) < 0.1 * night
    # every later run of the loop is stopped at its start, all night: nobody typed
    assert not [o for o in tried.outcomes if isinstance(o, GuardLift)]
    later = [b for b in tried.blocks if b.at_ms > first.at_ms + 2 * 60_000]
    assert later and {b.event for b in later} == {policy.USER_PROMPT_SUBMIT}
    assert tried.tally.stopped_usd["unattended_spend"] > 0.8 * night


def test_the_replayed_figures_are_judged_as_status_json_would_be(tmp_path: Path) -> None:
    """A minute after a broken cache's last request, the figures the replay rebuilt and
    the ones a ledger update writes to ``status.json`` hold the same warnings, spend and
    sessions, and the policy judges them alike."""
    claude = tmp_path / "claude"
    broken_cache_incident(claude, START)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync(ledger, log_roots(environ_for(claude, tmp_path / "none"), tmp_path))
        (last_ms,) = ledger.db.execute("SELECT MAX(ts_ms) FROM requests").fetchone()
        now_ms = int(last_ms) + 60_000
        snapshot = build_snapshot(ledger, now_ms, ZoneInfo("UTC"), BudgetSettings())
        written = status_payload(snapshot, {}, StatuslineSettings())
    assert [alert_entry(a) for a in snapshot.alerts] == written["alerts"]
    watching = Settings.model_validate({"guard": {"block_on_critical": False}})
    trial = guard_trial(watching, zone=UTC)  # stops nothing: the logs as they are
    guard = GuardReplay(AlertEngine(Thresholds(), zone=UTC), trial)
    with Ledger(tmp_path / "scratch.sqlite3") as scratch:
        ingest(scratch, resolve_targets([str(claude)]))
        for event in EventStream(scratch):
            guard.feed(event)
    view = hook_view(now_ms, guard.figures, guard.engine.active(now_ms), trial.settings)
    assert {a["kind"] for a in written["alerts"]} == {"cache_collapse", "spend_spike"}
    assert view["alerts"] == written["alerts"]
    assert (view["today_usd"], view["cycle_usd"]) == pytest.approx(
        (written["today_usd"], written["cycle_usd"])
    )
    assert view["sessions"] == pytest.approx(written["sessions"])
    blocking = {**view["guard"], "settings": {**trial.settings, "block_on_critical": True}}
    (session,) = written["sessions"]
    judged = [
        policy.evaluate(
            {**figures, "guard": blocking},
            session_id=session,
            entrypoint="cli",
            event=policy.PRE_TOOL_USE,
            now_ms=now_ms,
        )
        for figures in (view, written)
    ]
    assert [[t.rule for t in trips] for trips in judged] == [["critical_alert"]] * 2


def test_the_guard_options_replace_the_configured_limits() -> None:
    configured = Settings.model_validate({"guard": {"mode": "off", "hard_cap_usd": 400}})
    trial = guard_trial(
        configured, zone=UTC, daily_cap_usd=60, scripted_session_limit_usd=0, refresh_lag_s=30
    )
    assert trial.settings == {
        "mode": "block",
        "hard_cap_usd": 400.0,
        "daily_cap_usd": 60.0,
        "scripted_session_limit_usd": None,
        "block_on_critical": True,
    }
    assert trial.refresh_lag_ms == 30_000
