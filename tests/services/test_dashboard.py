"""The dashboard service on a real ledger and generated transcripts, without Textual."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from tests.conftest import environ_for
from tests.incidents import Session
from tokenbuddy.core.alerts import Thresholds
from tokenbuddy.core.spans import SPANS
from tokenbuddy.core.units import DAY_MS
from tokenbuddy.services.budget import BudgetSettings
from tokenbuddy.services.dashboard import DashboardService
from tokenbuddy.services.guard import GuardSetup
from tokenbuddy.services.team_sync import SyncOptions
from tokenbuddy.sources.discovery import LogRoot, log_roots
from tokenbuddy.store.settings import StatuslineSettings, VendorSettings

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


@dataclass
class Settings:
    """What the service reads, with nothing of the TUI's configuration."""

    ledger_path: Path
    roots: list[LogRoot]
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    thresholds: Thresholds = field(default_factory=Thresholds)
    refresh_seconds: float = 0.05
    status_file: Path | None = None
    statusline: StatuslineSettings | None = None
    guard: GuardSetup | None = None
    vendors: VendorSettings | None = None
    team: SyncOptions | None = None

    def clock(self) -> float:
        return NOW.timestamp()


def session_log(claude: Path, responses: int, *, seed: int = 1) -> Session:
    """A transcript of ``responses`` prompt-and-response turns ending a minute before NOW."""
    session = Session(claude, "checkout", random.Random(seed))
    moment = NOW - timedelta(minutes=responses + 1)
    for _ in range(responses):
        session.prompt(moment)
        moment += timedelta(seconds=30)
        session.response(moment)
        moment += timedelta(seconds=30)
    session.write()
    return session


def service_for(tmp_path: Path, **changes: object) -> DashboardService:
    roots = log_roots(environ_for(tmp_path / "claude", tmp_path / "codex"), tmp_path)
    settings = Settings(tmp_path / "ledger.sqlite3", roots)
    for name, value in changes.items():
        setattr(settings, name, value)
    return DashboardService(settings)


def test_catch_up_reads_the_logs_and_the_snapshot_shows_them(tmp_path: Path) -> None:
    session_log(tmp_path / "claude", 4)
    status_file = tmp_path / "cache" / "status.json"
    service = service_for(
        tmp_path, status_file=status_file, statusline=StatuslineSettings(segments=["today"])
    )
    seen: list[tuple[int, int]] = []
    summary = service.catch_up(lambda done, total: seen.append((done, total)))
    assert summary is not None and summary.errors == [] and summary.files_read == 1
    assert seen and seen[-1][0] == seen[-1][1] > 0
    snapshot = service.snapshot()
    assert snapshot.total_requests == 4
    assert [s.requests for s in snapshot.sessions] == [4]
    payload = orjson.loads(status_file.read_bytes())
    assert payload["today_usd"] == pytest.approx(snapshot.today.cost_usd)
    assert payload["statusline"]["segments"] == ["today"]


def test_read_changes_ingests_appended_lines_and_ignores_other_paths(tmp_path: Path) -> None:
    session = session_log(tmp_path / "claude", 2)
    service = service_for(tmp_path)
    service.catch_up(lambda done, total: None)
    written = len(session.lines)
    session.response(NOW - timedelta(seconds=10))
    path = session.write()
    service.read_changes([str(path), str(tmp_path / "elsewhere" / "notes.jsonl")])
    assert service.snapshot().total_requests == 3
    assert len(session.lines) > written


def test_session_detail_and_tips_come_from_the_ledger(tmp_path: Path) -> None:
    session = session_log(tmp_path / "claude", 3)
    service = service_for(tmp_path)
    service.catch_up(lambda done, total: None)
    detail = service.session_detail(session.session_id, None)
    assert detail is not None and len(detail.requests) == 3
    assert detail.summary.session_id == session.session_id
    assert service.session_detail("no-such-session", None) is None
    view = service.tips(SPANS[2])  # the last 30 days
    assert isinstance(view.tips, list)
    assert (view.window.until_ms - view.window.since_ms) // DAY_MS in (29, 30)


@pytest.fixture
def large_backlog(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any backlog is large enough for the backlog process."""
    monkeypatch.setenv("TOKENBUDDY_PARALLEL_MIN_MB", "0")


@pytest.mark.usefixtures("large_backlog")
def test_a_large_first_backlog_is_read_in_a_process_of_its_own(tmp_path: Path) -> None:
    session_log(tmp_path / "claude", 5)
    service = service_for(tmp_path)
    assert service.backlog.pays()
    summary = service.catch_up(lambda done, total: None)
    assert summary is not None and summary.errors == []
    process = service.backlog.process
    assert process is not None and process.returncode == 0
    assert not service.reading_backlog
    assert service.snapshot().total_requests == 5
    assert not service.backlog.pays(), "a ledger that holds files is no first load"


@pytest.mark.usefixtures("large_backlog")
def test_a_closed_service_starts_no_backlog_process_and_reads_nothing(tmp_path: Path) -> None:
    session_log(tmp_path / "claude", 2)
    service = service_for(tmp_path)
    service.close()
    assert service.catch_up(lambda done, total: None) is None
    assert service.backlog.process is None


def test_ingests_and_snapshots_from_several_threads_at_once(tmp_path: Path) -> None:
    session_log(tmp_path / "claude", 6)
    service = service_for(tmp_path)
    service.catch_up(lambda done, total: None)
    failures: list[BaseException] = []

    def work(step: int) -> None:
        try:
            service.sync() if step % 2 else service.snapshot()
        except BaseException as error:  # the thread's failure is the test's
            failures.append(error)

    threads = [threading.Thread(target=work, args=(step,)) for step in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert service.snapshot().total_requests == 6


def test_a_log_dir_that_appears_is_noticed_by_the_watcher_check(tmp_path: Path) -> None:
    service = service_for(tmp_path)
    watcher = service.start_watcher(lambda paths: None)
    try:
        assert not service.has_new_roots(watcher)
        (tmp_path / "claude" / "projects").mkdir(parents=True)
        assert service.has_new_roots(watcher)
    finally:
        watcher.stop()


def test_the_vendors_view_without_credentials(tmp_path: Path) -> None:
    session_log(tmp_path / "claude", 1)
    service = service_for(tmp_path, vendors=VendorSettings())
    service.catch_up(lambda done, total: None)
    assert service.poll_vendors({"anthropic": None}, agent_active=False) is None
    view = service.vendor_view({"anthropic": None}, "no keyring")
    assert view.now_ms == int(NOW.timestamp() * 1000)
    assert view.credentials == {} and view.notice == "no keyring"
    assert view.reconciliation.rows == ()
