"""An empty result says why: reports, ``status`` and ``tips`` on the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from tests.cli.test_commands import assistant, write_session
from tests.incidents import broken_cache_incident
from tokenbuddy.cli.main import main


@pytest.fixture
def april(isolated_environment: Path) -> Path:
    root = isolated_environment / "claude"
    write_session(
        root,
        assistant("a", "2026-04-18T10:00:00Z"),
        assistant("b", "2026-04-19T10:00:00Z"),
    )
    return root


def test_a_since_past_the_data_names_the_newest_request(
    april: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "daily", "--since", "2026-11-01"]) == 0
    err = capsys.readouterr().err
    assert "nothing since 2026-11-01; the newest request is from 2026-04-19" in err


def test_the_json_stays_one_object_and_the_reason_goes_to_stderr(
    april: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "session", "--project", "webshop", "--json"]) == 0
    captured = capsys.readouterr()
    assert orjson.loads(captured.out)["rows"] == []
    assert "no project path contains 'webshop'" in captured.err


def test_a_report_with_rows_explains_nothing(
    april: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "daily"]) == 0
    err = capsys.readouterr().err
    assert "nothing" not in err and "in the ledger" not in err


def test_a_config_dir_one_level_too_high_is_named(
    isolated_environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = isolated_environment / "me"
    write_session(home / ".claude", assistant("a", "2026-04-18T10:00:00Z"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home))
    assert main(["report", "daily"]) == 0
    err = capsys.readouterr().err
    assert "no requests in the ledger" in err
    assert f"{home}/projects (from CLAUDE_CONFIG_DIR) does not exist" in err
    assert f"(did you mean {home}/.claude?)" in err


def test_a_config_dir_one_level_too_low_is_named(
    isolated_environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    session = write_session(isolated_environment / "me", assistant("a", "2026-04-18T10:00:00Z"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(session.parent))
    assert main(["report", "daily", "--source", "claude-code"]) == 0
    err = capsys.readouterr().err
    assert "no Claude Code requests in the ledger" in err
    assert f"(did you mean {isolated_environment}/me?)" in err


def test_status_says_when_the_newest_request_was(
    april: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status"]) == 0
    err = capsys.readouterr().err
    assert "; the newest request is from 2026-04-19" in err


def test_tips_on_an_empty_home_say_where_they_looked(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tips"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("No tips for ")
    assert "no requests in the ledger" in captured.err
    assert "(from CLAUDE_CONFIG_DIR) does not exist" in captured.err


def test_tips_until_ends_the_window(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ended = datetime.now(UTC) - timedelta(days=40)
    broken_cache_incident(isolated_environment / "claude", ended)
    since = (ended - timedelta(days=13)).date().isoformat()
    until = ended.date().isoformat()
    assert main(["tips", "--json", "--since", since, "--until", until]) == 0
    tips = orjson.loads(capsys.readouterr().out)["tips"]
    assert "cache-health" in [t["id"] for t in tips]
    assert all(14 <= t["window_days"] <= 15 for t in tips)
    # without --until the same window stretches to today and thins the monthly saving
    assert main(["tips", "--json", "--since", since]) == 0
    stretched = orjson.loads(capsys.readouterr().out)["tips"]
    saving = {t["id"]: t["saving_usd_per_month"] for t in tips}
    assert all(t["saving_usd_per_month"] < saving[t["id"]] for t in stretched)


def test_skipped_lines_go_to_stderr_only_when_they_concern_the_query(
    april: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    transcript = next(april.rglob("*.jsonl"))
    with transcript.open("ab") as handle:
        handle.write(b'{"type": "assistant", "message": \n')
    assert main(["report", "daily"]) == 0
    captured = capsys.readouterr()
    assert "skipped" not in captured.out
    assert "1 log line skipped (see `tokenbuddy doctor` for why)" in captured.err
    # another agent's report, or a period after the file was last written, is not concerned
    assert main(["report", "daily", "--source", "codex"]) == 0
    assert "line skipped" not in capsys.readouterr().err
    later = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    assert main(["report", "daily", "--since", later]) == 0
    assert "line skipped" not in capsys.readouterr().err
