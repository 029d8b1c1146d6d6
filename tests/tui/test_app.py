"""Driving the dashboard with Pilot: sessions, chart, help, empty state, progress, live updates."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from textual.widgets import DataTable, Label, Sparkline, Static, TabbedContent

from tests.tui.pilot import NOW, frozen_demo, loaded, over_logs, until
from tokenbuddy.tui.app import TokenBuddyApp
from tokenbuddy.tui.messages import IngestProgressed
from tokenbuddy.tui.screens import HelpScreen, SessionScreen
from tokenbuddy.tui.widgets import BreakdownTables, EmptyState, SessionsTable, SpendChart


def label_text(app: TokenBuddyApp, selector: str) -> str:
    return str(app.query_one(selector, Label).render())


async def test_dashboard_shows_figures_and_opens_a_session(tmp_path: Path) -> None:
    app = TokenBuddyApp(frozen_demo(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert app.snapshot is not None and app.snapshot.total_requests > 0
        assert label_text(app, "#today").startswith("Today $")
        table = app.query_one(SessionsTable)
        assert table.row_count == len(app.snapshot.sessions) + len(app.snapshot.loops) > 0
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, SessionScreen), pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        assert screen.detail.summary.session_id == app.snapshot.sessions[0].session_id
        assert screen.query_one("#timeline").row_count == len(screen.detail.requests)  # type: ignore[attr-defined]
        await pilot.press("c", "b")
        chart = app.query_one(SpendChart)
        assert not chart.daily, "dashboard keys must not act behind the session screen"
        assert app.query_one("#main", TabbedContent).active == "sessions-tab"
        await pilot.press("escape")
        assert not isinstance(app.screen, SessionScreen)
        await pilot.press("c")
        assert chart.daily


async def test_chart_steps_through_its_periods(tmp_path: Path) -> None:
    app = TokenBuddyApp(frozen_demo(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        sparkline = app.query_one("#chart", Sparkline)
        assert len(list(sparkline.data or [])) == 24
        # NOW is Nov 20: the cycle from Nov 1 has 20 days; the demo history is 30 days old.
        expected = [
            (7, "Per day over the last 7 days"),
            (30, "Per day over the last 30 days"),
            (90, "Per day over the last 90 days"),
            (20, "Per day over this cycle (since Nov 1, 2026)"),
            (30, "Per day over all time (since Oct 22, 2026)"),
            (24, "Per hour over the last 24 h"),
        ]
        for bars, title in expected:
            await pilot.press("c")
            await until(lambda n=bars: len(list(sparkline.data or [])) == n, pilot, what=title)
            assert label_text(app, "#chart-title").startswith(title)
        days = app.query_one(SpendChart)
        assert not days.daily
        await pilot.press("b")
        assert app.query_one("#main", TabbedContent).active == "breakdown-tab"
        assert "today" in label_text(app, "#breakdown-title")
        await pilot.press("b")
        assert app.query_one(BreakdownTables).shown_period == "cycle"


async def test_chart_axis_follows_the_mode(tmp_path: Path) -> None:
    app = TokenBuddyApp(frozen_demo(tmp_path, zone=ZoneInfo("UTC")))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        axis = label_text(app, "#chart-axis")
        assert axis.split() == ["18:00", "00:00", "06:00", "12:00", "now"]  # NOW is 15:30 UTC
        await pilot.press("c")
        assert label_text(app, "#chart-axis").split()[-1] == "today"


async def test_breakdown_keeps_cost_and_cache_in_view_when_narrow(tmp_path: Path) -> None:
    def columns(app: TokenBuddyApp) -> list[str]:
        table = app.query_one("#by-project", DataTable)
        return [str(column.label) for column in table.columns.values()]

    app = TokenBuddyApp(frozen_demo(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("b")
        await pilot.pause()
        assert columns(app) == ["Project", "Cost", "Cache"]
        rows = app.query_one("#by-project", DataTable).row_count
        assert rows > 0
        await pilot.resize_terminal(120, 36)
        breakdown = app.query_one(BreakdownTables)
        assert app.snapshot is not None
        breakdown.on_resize()
        breakdown.show(app.snapshot)  # a snapshot before the columns switch: no mismatch
        await pilot.pause()
        await pilot.pause()
        assert columns(app) == ["Project", "Cost", "Share", "Reqs", "Cache"]
        table = app.query_one("#by-project", DataTable)
        assert table.row_count == rows
        widths = {str(c.label): c.content_width for c in table.columns.values()}
        assert widths["Project"] > len("Project"), "columns fit their content after a resize"


async def test_help_screen_opens_and_closes(tmp_path: Path) -> None:
    app = TokenBuddyApp(frozen_demo(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_empty_state_says_where_it_looked_and_how_to_point_elsewhere(
    tmp_path: Path,
) -> None:
    environ = {"CLAUDE_CONFIG_DIR": str(tmp_path / "nothing"), "CODEX_HOME": str(tmp_path / "none")}
    config = over_logs(tmp_path, environ, "empty.sqlite3")
    app = TokenBuddyApp(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        empty = app.query_one(EmptyState)
        assert empty.display
        text = str(empty.render())
        assert "CLAUDE_CONFIG_DIR" in text and "CODEX_HOME" in text
        assert str(tmp_path / "nothing") in text and "not found" in text


def progress_seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The (done, total) of every ingest progress message the app handles from now on."""
    seen: list[tuple[int, int]] = []
    original = TokenBuddyApp.on_ingest_progressed

    def spy(self: TokenBuddyApp, message: IngestProgressed) -> None:
        seen.append((message.done, message.total))
        original(self, message)

    monkeypatch.setattr(TokenBuddyApp, "on_ingest_progressed", spy)
    return seen


async def test_first_ingest_reports_progress_then_hides_the_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tokenbuddy.services.ingest.reads.BATCH_FILES", 3)
    seen = progress_seen(monkeypatch)
    app = TokenBuddyApp(frozen_demo(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert seen, "the backlog ingest posted no progress"
        assert seen[-1][0] == seen[-1][1] > 0
        assert not app.query_one("#ingest-progress").display


async def test_a_large_first_backlog_is_read_in_a_process_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backlog process (parallel parsing, as on the command line) gives the same
    figures as reading in the dashboard's thread, with progress along the way."""
    seen = progress_seen(monkeypatch)
    results = {}
    for name, threshold in (("apart", "0"), ("in-thread", "100000")):
        monkeypatch.setenv("TOKENBUDDY_PARALLEL_MIN_MB", threshold)
        app = TokenBuddyApp(frozen_demo(tmp_path / name))
        async with app.run_test(size=(80, 24)) as pilot:
            await loaded(pilot)
            assert app.snapshot is not None
            results[name] = (app.snapshot.total_requests, app.snapshot.cycle_totals)
            process = app.service.backlog.process
            if name == "apart":
                assert process is not None and process.returncode == 0
                assert seen and seen[-1][0] == seen[-1][1] > 0
            else:
                assert process is None
    assert results["apart"] == results["in-thread"]
    assert results["apart"][0] > 0


async def test_a_failing_backlog_process_is_said_and_the_thread_reads_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKENBUDDY_PARALLEL_MIN_MB", "0")
    monkeypatch.setattr("tokenbuddy.services.backlog.spec", lambda ledger, roots: "not json")
    messages: list[str] = []
    original = TokenBuddyApp.notify

    def spy(self: TokenBuddyApp, message: str, *args: Any, **kwargs: Any) -> None:
        messages.append(str(message))
        original(self, message, *args, **kwargs)

    monkeypatch.setattr(TokenBuddyApp, "notify", spy)
    app = TokenBuddyApp(frozen_demo(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert app.snapshot is not None and app.snapshot.total_requests > 0
        await pilot.pause()
    assert any("separate process failed" in m for m in messages), messages


def assistant_line(number: int, cwd: str, moment: datetime) -> bytes:
    record = {
        "type": "assistant",
        "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "sessionId": "live-session",
        "cwd": cwd,
        "requestId": f"req_live_{number}",
        "message": {
            "id": f"msg_live_{number}",
            "model": "claude-sonnet-4-5",
            "usage": {"input_tokens": 10, "output_tokens": 2000, "cache_read_input_tokens": 50_000},
        },
    }
    return orjson.dumps(record) + b"\n"


def live_app(tmp_path: Path) -> tuple[Path, datetime, TokenBuddyApp]:
    """A followed transcript holding one request a minute ago, and the app watching it."""
    claude = tmp_path / "claude"
    transcript = claude / "projects" / "-home-dev-live" / "live-session.jsonl"
    transcript.parent.mkdir(parents=True)
    moment = datetime.fromtimestamp(NOW - 60, UTC)
    transcript.write_bytes(assistant_line(0, "/home/dev/live", moment))
    environ = {"CLAUDE_CONFIG_DIR": str(claude), "CODEX_HOME": str(tmp_path / "codex")}
    config = over_logs(tmp_path, environ, "live.sqlite3", live=True)
    return transcript, moment, TokenBuddyApp(config)


async def test_lines_appended_while_running_show_up_live(tmp_path: Path) -> None:
    transcript, moment, app = live_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await until(lambda: app._watcher is not None, pilot)
        before = label_text(app, "#today")
        assert app.snapshot is not None and app.snapshot.total_requests == 1
        with transcript.open("ab") as handle:
            handle.write(b"".join(assistant_line(n, "/home/dev/live", moment) for n in (1, 2, 3)))
        await until(lambda: app.snapshot is not None and app.snapshot.total_requests == 4, pilot)
        await pilot.pause()
        assert label_text(app, "#today") != before
        table = app.query_one(SessionsTable)
        assert str(table.get_row_at(0)[5]) == "4"


async def test_text_from_logs_is_never_markup_or_terminal_escapes(tmp_path: Path) -> None:
    claude = tmp_path / "claude"
    transcript = claude / "projects" / "-x" / "s.jsonl"
    transcript.parent.mkdir(parents=True)
    hostile = "/home/dev/[bold red]pwn[link=https:x]y\x1b[31mred\x07"
    moment = datetime.fromtimestamp(NOW - 60, UTC)
    transcript.write_bytes(assistant_line(0, hostile, moment))
    environ = {"CLAUDE_CONFIG_DIR": str(claude), "CODEX_HOME": str(tmp_path / "codex")}
    config = over_logs(tmp_path, environ, "hostile.sqlite3")
    app = TokenBuddyApp(config)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        project_cell = app.query_one(SessionsTable).get_row_at(0)[0]
        shown = project_cell.plain
        assert "[bold red]pwn[link=https:x]y?[31mred?" in shown
        assert "\x1b" not in shown and "\x07" not in shown
        assert not project_cell.spans or all(s.style == "bold" for s in project_cell.spans)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, SessionScreen), pilot)
        title = str(app.screen.query_one("#session-title", Label).render())
        assert "[bold red]pwn" in title and "\x1b" not in title


async def test_a_failing_ingest_is_reported_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("tokenbuddy.services.dashboard.sync", broken)
    app = TokenBuddyApp(frozen_demo(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: bool(app._notifications), pilot)
        assert any("disk on fire" in n.message for n in app._notifications)
        assert app.is_running


def test_environment_is_isolated() -> None:
    assert os.environ["TZ"] == "UTC"


async def test_a_log_dir_created_after_start_is_followed_after_a_rescan(tmp_path: Path) -> None:
    claude = tmp_path / "claude"
    environ = {"CLAUDE_CONFIG_DIR": str(claude), "CODEX_HOME": str(tmp_path / "codex")}
    config = over_logs(tmp_path, environ, "late.sqlite3", live=True)
    app = TokenBuddyApp(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await until(lambda: app._watcher is not None, pilot)
        transcript = claude / "projects" / "-home-dev-late" / "late.jsonl"
        transcript.parent.mkdir(parents=True)
        moment = datetime.fromtimestamp(NOW - 60, UTC)
        transcript.write_bytes(assistant_line(0, "/home/dev/late", moment))
        await pilot.press("r")
        await until(lambda: app.snapshot is not None and app.snapshot.total_requests == 1, pilot)
        await until(lambda: any(r.path == claude / "projects" for r in app._watcher.roots), pilot)
        with transcript.open("ab") as handle:
            handle.write(assistant_line(1, "/home/dev/late", moment))
        await until(lambda: app.snapshot is not None and app.snapshot.total_requests == 2, pilot)


async def test_a_warning_appears_while_a_broken_cache_session_is_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A healthy Opus session is followed live; then its cache breaks and a critical warning
    shows up in the panel, rings the bell, and opens the session on enter."""
    import random

    from tests.incidents import OPUS_41, Session
    from tokenbuddy.tui.widgets import WarningsPanel

    claude = tmp_path / "claude"
    session = Session(claude, "checkout", random.Random(5), model=OPUS_41, context=60_000)
    start = datetime.fromtimestamp(NOW - 20 * 60, UTC)
    moment = start
    for _ in range(12):
        session.prompt(moment)
        moment += timedelta(seconds=40)
        session.response(moment)
    transcript = session.write()
    healthy_lines = len(session.lines)
    environ = {"CLAUDE_CONFIG_DIR": str(claude), "CODEX_HOME": str(tmp_path / "codex")}
    rings: list[str] = []
    config = over_logs(tmp_path, environ, "live.sqlite3", live=True, desktop_notifications=False)
    app = TokenBuddyApp(config)
    monkeypatch.setattr(app, "bell", lambda: rings.append("bell"))
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await until(lambda: app._watcher is not None, pilot)
        panel = app.query_one(WarningsPanel)
        assert app.snapshot is not None and app.snapshot.alerts == ()
        assert not panel.display
        while moment < datetime.fromtimestamp(NOW, UTC):
            moment += timedelta(seconds=30)
            session.response(moment, broken=True)
        with transcript.open("ab") as handle:
            handle.write(b"".join(session.lines[healthy_lines:]))
        await until(lambda: app.snapshot is not None and bool(app.snapshot.alerts), pilot)
        await pilot.pause()
        kinds = {(a.kind, a.severity, a.session_id) for a in app.snapshot.alerts}
        assert ("cache_collapse", "critical", session.session_id) in kinds
        assert panel.display and panel.option_count == len(app.snapshot.alerts)
        assert "CRITICAL" in str(panel.get_option_at_index(0).prompt)
        assert rings == ["bell"]
        assert any("cache" in n.message.lower() for n in app._notifications)
        await pilot.press("w")
        assert app.focused is panel and panel.highlighted == 0
        target = next(i for i, a in enumerate(app.snapshot.alerts) if a.kind == "cache_collapse")
        for _ in range(target):
            await pilot.press("down")
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, SessionScreen), pilot)
        assert app.screen.detail.summary.session_id == session.session_id  # type: ignore[attr-defined]


async def test_the_dashboard_keeps_the_status_line_snapshot_current(tmp_path: Path) -> None:
    from tokenbuddy.store.settings import StatuslineSettings

    claude = tmp_path / "claude"
    transcript = claude / "projects" / "-home-dev-live" / "live-session.jsonl"
    transcript.parent.mkdir(parents=True)
    moment = datetime.fromtimestamp(NOW - 60, UTC)
    transcript.write_bytes(b"".join(assistant_line(n, "/home/dev/live", moment) for n in range(3)))
    status_file = tmp_path / "cache" / "status.json"
    config = over_logs(
        tmp_path,
        {"CLAUDE_CONFIG_DIR": str(claude)},
        "live.sqlite3",
        status_file=status_file,
        statusline=StatuslineSettings(segments=["today"]),
    )
    app = TokenBuddyApp(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        payload = orjson.loads(status_file.read_bytes())
        # Three Sonnet 4.5 requests of 10 input, 2,000 output and 50,000 cache-read tokens
        # at $3, $15 and $0.30 per million: 3 x $0.04503.
        assert payload["today_usd"] == pytest.approx(0.13509)
        assert payload["sessions"] == {"live-session": pytest.approx(0.13509)}
        assert payload["statusline"]["segments"] == ["today"]
        assert payload["alerts"] == []


async def test_tips_are_computed_and_shown_on_their_tab(tmp_path: Path) -> None:
    app = TokenBuddyApp(frozen_demo(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await until(lambda: app.tips is not None, pilot)
        assert app.tips, "the demo history has savings to find"
        ids = [tip.id for tip in app.tips]
        assert "cache-health" in ids
        savings = [tip.saving_usd_per_month for tip in app.tips]
        assert savings == sorted(savings, reverse=True)
        teaser = label_text(app, "#top-tip")
        assert app.tips[0].title in teaser and "/mo" in teaser
        await pilot.press("t")
        assert app.query_one("#main", TabbedContent).active == "tips-tab"
        body = str(app.query_one("#tips-body", Static).render())
        assert all(tip.title in body for tip in app.tips)


async def test_an_open_session_follows_new_requests(tmp_path: Path) -> None:
    transcript, moment, app = live_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await until(lambda: app._watcher is not None, pilot)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, SessionScreen), pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        timeline = screen.query_one("#timeline", DataTable)
        assert timeline.row_count == 1
        with transcript.open("ab") as handle:
            handle.write(b"".join(assistant_line(n, "/home/dev/live", moment) for n in (1, 2)))
        await until(lambda: timeline.row_count == 3, pilot)
        assert app.screen is screen, "refreshed in place, not pushed again"
        assert timeline.cursor_row == 2, "the cursor follows the newest request"
        assert "over 3 requests" in str(screen.query_one("#session-figures", Label).render())


async def test_the_chosen_theme_is_remembered(tmp_path: Path) -> None:
    state = tmp_path / "state" / "ui.json"
    app = TokenBuddyApp(frozen_demo(tmp_path / "one", ui_state=state))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        app.theme = "nord"
        await pilot.pause()
    assert orjson.loads(state.read_bytes()) == {"theme": "nord"}
    again = TokenBuddyApp(frozen_demo(tmp_path / "two", ui_state=state))
    async with again.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert again.theme == "nord"


def guarded_demo(tmp_path: Path, **guard: Any) -> Any:
    """The frozen demo publishing its figures with a guard (``[guard]`` as given)."""
    from tokenbuddy.services.guard import GuardSetup
    from tokenbuddy.store.settings import GuardSettings, StatuslineSettings

    return frozen_demo(
        tmp_path / "demo",
        status_file=tmp_path / "cache" / "status.json",
        statusline=StatuslineSettings(),
        guard=GuardSetup(GuardSettings(**guard), tmp_path / "state", tmp_path / "config.toml"),
    )


async def test_the_guard_line_shows_what_it_stops_and_g_lifts_it(tmp_path: Path) -> None:
    from tokenbuddy.store import guard_files
    from tokenbuddy.tui.widgets import GuardLine

    app = TokenBuddyApp(guarded_demo(tmp_path, mode="block", hard_cap_usd=50.0))
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await until(lambda: app.guard is not None, pilot, what="the guard's state")
        line = app.query_one(GuardLine)
        shown = str(line.render())
        assert line.display and line.has_class("-blocking")
        assert "GUARD  stops every session: cycle spend $" in shown
        assert "reached hard_cap_usd $50.00 (+1 more: tokenbuddy guard) · g allows" in shown
        await pilot.press("g")
        await until(lambda: app.guard is not None and not app.guard.blocking, pilot)
        shown = str(line.render())
        assert "lifted for every session until 16:00: it would stop every session" in shown
        assert not line.has_class("-blocking")
    state = str(tmp_path / "state")
    (allowed,) = guard_files.read_allows(state)
    assert allowed["until_ms"] == int(NOW * 1000) + 30 * 60_000
    records, _ = guard_files.read_journal(guard_files.journal_path(state))
    assert [r["decision"] for r in records] == ["allow"]


async def test_without_a_tripped_rule_the_guard_line_and_key_stay_hidden(tmp_path: Path) -> None:
    from tokenbuddy.tui.widgets import GuardLine

    # The demo's broken-cache session is critical: block_on_critical off leaves nothing.
    config = guarded_demo(tmp_path, mode="block", hard_cap_usd=100_000.0, block_on_critical=False)
    app = TokenBuddyApp(config)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await until(lambda: app.guard is not None, pilot, what="the guard's state")
        assert not app.query_one(GuardLine).display
        assert app.check_action("allow_guard", ()) is False
        await pilot.press("g")
        await pilot.pause()
        assert not (tmp_path / "state" / "guard-allow.json").exists()
