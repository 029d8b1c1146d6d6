"""Why a query found nothing: the roots looked at, the filters, and the ledger's span."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tokenbuddy.core.file_cursor import FileCursor
from tokenbuddy.core.pricing import PriceBook
from tokenbuddy.core.records import UsageRecord
from tokenbuddy.services.empty_result import explain_empty
from tokenbuddy.sources.discovery import LogRoot
from tokenbuddy.store.ledger import FileResult, Ledger, request_row

ZONE = ZoneInfo("UTC")


def ms(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)


def call(key: str, day: str, project: str = "/home/dev/shop") -> UsageRecord:
    return UsageRecord(
        key, "claude-code", ms(day), "s1", project, "claude-sonnet-4-5",
        1000, 100, 0, 0, 0, 0, 0, "", "", False, "", "", "", None, 0.0,
    )  # fmt: skip


def filled(tmp_path: Path, *records: UsageRecord) -> Ledger:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    rows = [request_row(record, PriceBook().cost(record)) for record in records]
    cursor = FileCursor(str(tmp_path / "claude" / "projects" / "p" / "s1.jsonl"), "claude-code")
    ledger.commit_files([FileResult(cursor, rows, [], 5, {}, {}, False)])
    ledger.refresh_rollup()
    return ledger


@pytest.fixture
def history(tmp_path: Path) -> Ledger:
    return filled(tmp_path, call("a", "2026-03-02T10:00"), call("b", "2026-04-19T08:00"))


def test_a_since_past_the_data_names_the_newest_request(history: Ledger) -> None:
    lines = explain_empty(history, [], zone=ZONE, since_ms=ms("2026-11-01T00:00"))
    assert lines == ["nothing since 2026-11-01; the newest request is from 2026-04-19"]


def test_an_until_before_the_data_names_the_oldest_request(history: Ledger) -> None:
    lines = explain_empty(history, [], zone=ZONE, until_ms=ms("2026-02-01T00:00"))
    assert lines == ["nothing until 2026-01-31; the oldest request is from 2026-03-02"]


def test_a_gap_between_requests_names_the_span(history: Ledger) -> None:
    lines = explain_empty(
        history, [], zone=ZONE, since_ms=ms("2026-03-10T00:00"), until_ms=ms("2026-03-12T00:00")
    )
    assert lines == [
        "nothing from 2026-03-10 to 2026-03-11; the requests run from 2026-03-02 to 2026-04-19"
    ]


def test_a_project_nobody_worked_on_is_named(history: Ledger) -> None:
    lines = explain_empty(history, [], zone=ZONE, project="webshop")
    assert lines == ["no project path contains 'webshop'"]
    assert explain_empty(history, [], zone=ZONE, project="SHOP") == []


def test_a_source_without_requests_lists_where_it_was_looked_for(
    history: Ledger, tmp_path: Path
) -> None:
    codex = LogRoot("codex", tmp_path / "codex" / "sessions", "CODEX_HOME")
    lines = explain_empty(history, [codex], zone=ZONE, source="codex")
    assert lines[0] == "no Codex requests in the ledger"
    assert lines[1].endswith("codex/sessions (from CODEX_HOME) does not exist")


def test_a_config_dir_one_level_too_high_suggests_the_agent_home(tmp_path: Path) -> None:
    ledger = filled(tmp_path)
    (tmp_path / "me" / ".claude" / "projects").mkdir(parents=True)
    root = LogRoot("claude-code", tmp_path / "me" / "projects", "CLAUDE_CONFIG_DIR")
    lines = explain_empty(ledger, [root], zone=ZONE)
    assert lines[0] == "no requests in the ledger"
    assert lines[1] == (
        f"{tmp_path}/me/projects (from CLAUDE_CONFIG_DIR) does not exist"
        f" (did you mean {tmp_path}/me/.claude?)"
    )


def test_a_config_dir_one_level_too_low_suggests_the_agent_home(tmp_path: Path) -> None:
    ledger = filled(tmp_path)
    project = tmp_path / ".claude" / "projects" / "-home-dev-shop"
    project.mkdir(parents=True)
    root = LogRoot("claude-code", project / "projects", "CLAUDE_CONFIG_DIR")
    (line,) = explain_empty(ledger, [root], zone=ZONE)[1:]
    assert line.endswith(f"(did you mean {tmp_path}/.claude?)")


def test_an_empty_config_dir_and_absent_defaults_are_both_said(tmp_path: Path) -> None:
    ledger = filled(tmp_path)
    (tmp_path / "work" / "projects").mkdir(parents=True)
    roots = [
        LogRoot("claude-code", tmp_path / "work" / "projects", "CLAUDE_CONFIG_DIR"),
        LogRoot("gemini-cli", tmp_path / "home" / ".gemini" / "tmp", "default"),
    ]
    lines = explain_empty(ledger, roots, zone=ZONE)
    assert (
        lines[1] == f"no Claude Code logs under {tmp_path}/work/projects (from CLAUDE_CONFIG_DIR)"
    )
    assert lines[2] == "no agent logs where the agents keep them: ~/.gemini/tmp"


def test_logs_read_without_a_request_are_told_apart_from_no_logs(tmp_path: Path) -> None:
    ledger = filled(tmp_path)
    root = LogRoot("claude-code", tmp_path / "claude" / "projects", "CLAUDE_CONFIG_DIR")
    (tmp_path / "claude" / "projects").mkdir(parents=True)
    (line,) = explain_empty(ledger, [root], zone=ZONE)[1:]
    where = f"{tmp_path}/claude/projects (from CLAUDE_CONFIG_DIR)"
    assert line == f"the Claude Code logs under {where} hold no requests"
