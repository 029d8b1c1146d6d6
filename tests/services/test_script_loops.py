"""The scripted-loop incident through ingest, reports and the snapshot: a night of
``claude -p`` runs is one row of the sessions table, a person's day stays listed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import environ_for
from tests.incidents import scripted_loop_incident
from tokenbuddy.services.budget import BudgetSettings
from tokenbuddy.services.ingest import sync
from tokenbuddy.services.report import build_report
from tokenbuddy.services.snapshot import build_snapshot
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.store.ledger import Ledger

if TYPE_CHECKING:
    from collections.abc import Iterator

DAY = datetime(2026, 11, 10, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Ledger, datetime]]:
    """The incident's logs ingested once: (the ledger, when the script started)."""
    root = tmp_path_factory.mktemp("scripted-loop")
    script_at = scripted_loop_incident(root / "claude", DAY)
    with Ledger(root / "ledger.sqlite3") as ledger:
        sync(ledger, log_roots(environ_for(root / "claude", root / "none"), root))
        yield ledger, script_at


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_each_run_is_read_with_its_entrypoint(incident: tuple[Ledger, datetime]) -> None:
    ledger, script_at = incident
    rows = ledger.db.execute(
        "SELECT entrypoint, COUNT(DISTINCT session_id), MIN(ts_ms), MAX(ts_ms) FROM requests"
        " GROUP BY entrypoint ORDER BY entrypoint"
    ).fetchall()
    (person, day_sessions, _, day_end), (script, runs, night_start, _) = rows
    assert (person, day_sessions, script) == ("cli", 9, "sdk-cli")
    assert 8.5 * 3600 / 95 <= runs <= 8.5 * 3600 / 85 + 1  # a run every ~90 s
    assert day_end < ms(DAY + timedelta(hours=18, minutes=10)) < night_start
    assert night_start >= ms(script_at)
    report = build_report(ledger, "session", zone=UTC_ZONE)
    by_entrypoint: dict[str, int] = {}
    for row in report["rows"]:
        by_entrypoint[row["entrypoint"]] = by_entrypoint.get(row["entrypoint"], 0) + 1
    assert by_entrypoint == {"cli": 9, "sdk-cli": runs}


def test_the_night_is_one_scripted_row_and_the_day_stays_listed(
    incident: tuple[Ledger, datetime],
) -> None:
    ledger, script_at = incident
    now = script_at + timedelta(hours=8, minutes=32)  # the last run has just ended
    snapshot = build_snapshot(ledger, ms(now), UTC_ZONE, BudgetSettings())
    (loop,) = snapshot.loops
    runs = ledger.db.execute(
        "SELECT COUNT(DISTINCT session_id), TOTAL(cost_usd) FROM requests"
        " WHERE entrypoint = 'sdk-cli'"
    ).fetchone()
    assert (loop.source, loop.entrypoint, loop.project) == (
        "claude-code",
        "sdk-cli",
        "nightly-report",
    )
    assert len(loop.runs) == runs[0] and loop.cost_usd == pytest.approx(runs[1])
    assert loop.usd_per_hour == pytest.approx(34, rel=0.15)
    assert loop.active and all(run.scripted for run in loop.runs)
    assert [s.project for s in snapshot.sessions] == ["storefront"] * 9
    assert not any(s.scripted for s in snapshot.sessions)
    running = [s for s in snapshot.tracked_sessions if s.active]
    assert running and all(s.entrypoint == "sdk-cli" for s in running)
