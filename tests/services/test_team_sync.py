"""Team sync on this machine, no server needed: the days it would send, when it tries
again, and when it stays off."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.team.conftest import NOW_MS, TODAY
from tokenbuddy.services.team_sync import BACKOFF_CAP_S, backoff_delay_s, daily_rows
from tokenbuddy.store.ledger import Ledger
from tokenbuddy.team.aggregates import fingerprint


def _rollup(path: Path, rows: list[tuple[Any, ...]]) -> Ledger:
    ledger = Ledger(path)
    ledger.db.executemany(
        "INSERT INTO usage_rollup VALUES (?,?,?,?,?,?,?,?,?,?,0,?,0,0,0,0,0)", rows
    )
    return ledger


def test_daily_rows_fold_buckets_into_local_days_without_sessions_or_paths(
    tmp_path: Path,
) -> None:
    bucket = NOW_MS // 900_000  # 15:00 UTC on TODAY
    late = bucket + 38  # 00:30 UTC the next day: still TODAY in New York
    rows = [
        (bucket, "claude-code", "/home/me/acme", "s1", "m", 1, 2, 3, 4, 0.5, 1),
        (bucket + 1, "claude-code", "/home/me/acme", "s2", "m", 1, 2, 3, 4, 0.25, 2),
        (late, "claude-code", "/home/me/other", "s3", "m", 1, 1, 1, 1, 1.0, 1),
    ]  # fmt: skip
    with _rollup(tmp_path / "ledger.sqlite3", rows) as db:
        utc = daily_rows(db, ZoneInfo("UTC"), TODAY, share_projects=False)
        new_york = daily_rows(db, ZoneInfo("America/New_York"), TODAY, share_projects=True)
    assert [(r.day, r.project, r.requests) for r in utc] == [
        (TODAY, "", 3),
        (date(2026, 11, 21), "", 1),
    ]
    assert {(r.day, r.project, r.cost_usd) for r in new_york} == {
        (TODAY, "acme", 0.75),
        (TODAY, "other", 1.0),
    }
    assert "s1" not in repr(new_york) and "/home" not in repr(new_york)
    assert fingerprint(utc[:1]) != fingerprint(utc[1:]) and fingerprint([]) == fingerprint([])


def test_backoff_doubles_to_a_cap_with_jitter() -> None:
    assert backoff_delay_s(1, 0.0) == 15.0
    assert backoff_delay_s(1, 0.999) == pytest.approx(30.0, rel=0.01)
    assert backoff_delay_s(3, 0.0) == 60.0
    assert backoff_delay_s(40, 0.999) <= BACKOFF_CAP_S
    assert backoff_delay_s(1, 0.0, permanent=True) == BACKOFF_CAP_S / 2


def test_sync_is_off_until_joined_and_while_paused_by_the_setting() -> None:
    from dataclasses import replace

    from tokenbuddy.services.team_sync import SyncOptions, sync_once
    from tokenbuddy.store.paths import app_paths
    from tokenbuddy.store.settings import Settings, TeamSettings

    paths = app_paths()
    paths.ensure()
    settings = Settings(team=TeamSettings(sync=False, soft_limit_usd=20))
    options = SyncOptions.from_settings(paths, settings, ZoneInfo("UTC"))
    assert options.soft_limit_usd == 20 and options.state_path.parent == paths.data_dir
    assert sync_once(options, now_ms=NOW_MS).status == "off"
    assert sync_once(replace(options, enabled=True), now_ms=NOW_MS).status == "off"  # not joined
