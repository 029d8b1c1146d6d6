"""``tokenbuddy replay``: the detectors over generated incidents, real logs and every path form."""

from __future__ import annotations

import random
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import environ_for
from tests.incidents import (
    OPUS,
    OPUS_41,
    Session,
    broken_cache_incident,
    overnight_loop_incident,
    scripted_loop_incident,
    spend_spike_incident,
    working_session,
)
from tokenbuddy.cli.main import main
from tokenbuddy.services.ingest import sync
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.store.ledger import Ledger

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SEEDS = (1, 2, 3)


def replay(capsys: pytest.CaptureFixture[str], *paths: Path | str) -> list[dict[str, Any]]:
    """The warnings ``replay --json`` prints for ``paths``."""
    assert main(["replay", "--json", *map(str, paths)]) == 0
    return [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]


def replay_with_summary(
    capsys: pytest.CaptureFixture[str], *paths: Path | str
) -> tuple[list[dict[str, Any]], str]:
    assert main(["replay", "--json", *map(str, paths)]) == 0
    captured = capsys.readouterr()
    return [orjson.loads(line) for line in captured.out.splitlines()], captured.err


def moment(alert: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(alert["at"])


def first(alerts: list[dict[str, Any]], kind: str, severity: str | None = None) -> datetime:
    """When the first ``kind`` warning (of ``severity``, if given) fired."""
    times = [
        moment(a)
        for a in alerts
        if a["kind"] == kind and (severity is None or a["severity"] == severity)
    ]
    assert times, f"no {kind} {severity or ''} warning in {alerts}"
    return min(times)


def assert_quiet_before(alerts: list[dict[str, Any]], start: datetime) -> None:
    """No warning of any kind during the healthy lead-in."""
    early = [(a["at"], a["kind"], a["message"]) for a in alerts if moment(a) < start]
    assert early == []


def spend_between(claude_dir: Path, ledger_path: Path, start: datetime, end: datetime) -> float:
    """Dollars the requests from ``start`` to ``end`` cost, from a ledger of the same logs."""
    ledger_path.parent.mkdir(parents=True, exist_ok=True)
    with Ledger(ledger_path) as ledger:
        sync(ledger, log_roots(environ_for(claude=claude_dir), ledger_path.parent))
        (total,) = ledger.db.execute(
            "SELECT COALESCE(SUM(cost_usd), 0) FROM requests WHERE ts_ms BETWEEN ? AND ?",
            (int(start.timestamp() * 1000), int(end.timestamp() * 1000)),
        ).fetchone()
    return float(total)


@pytest.mark.parametrize("model", [OPUS_41, OPUS])
@pytest.mark.parametrize("seed", SEEDS)
def test_broken_cache_is_critical_within_five_minutes_and_twenty_dollars(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], model: str, seed: int
) -> None:
    claude = tmp_path / "incident"
    start = broken_cache_incident(claude, START, seed=seed, model=model)
    alerts = replay(capsys, claude)
    assert_quiet_before(alerts, start)
    fired = first(alerts, "cache_collapse", "critical")
    assert fired - start <= timedelta(minutes=5)
    assert spend_between(claude, tmp_path / "spend" / "ledger.sqlite3", start, fired) < 20


@pytest.mark.parametrize("seed", SEEDS)
def test_spend_spike_is_flagged_within_ten_minutes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: int
) -> None:
    start = spend_spike_incident(tmp_path / "incident", START, seed=seed)
    alerts = replay(capsys, tmp_path / "incident")
    assert_quiet_before(alerts, start)
    assert first(alerts, "spend_spike") - start <= timedelta(minutes=10)


@pytest.mark.parametrize("seed", SEEDS)
def test_overnight_loop_is_flagged_within_an_hour_of_the_last_prompt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: int
) -> None:
    last_prompt = overnight_loop_incident(tmp_path / "incident", START, seed=seed)
    alerts = replay(capsys, tmp_path / "incident")
    assert_quiet_before(alerts, last_prompt)
    assert first(alerts, "unattended_loop") - last_prompt <= timedelta(minutes=60)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_scripted_loop_at_night_is_critical_within_half_an_hour(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: int
) -> None:
    start = scripted_loop_incident(tmp_path / "incident", START, seed=seed)
    alerts = replay(capsys, tmp_path / "incident")
    assert_quiet_before(alerts, start)
    assert {a["kind"] for a in alerts} == {"unattended_spend"}, "4x a busy day: no spike"
    # announced with the first request after half an hour of it; runs start every ~90 s
    assert first(alerts, "unattended_spend", "critical") - start <= timedelta(minutes=31)


@pytest.mark.parametrize("source", ["claude", "codex"])
def test_real_logs_raise_no_critical_warning(
    shared_fixtures: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    alerts, summary = replay_with_summary(capsys, shared_fixtures / source)
    assert [a for a in alerts if a["severity"] == "critical"] == []
    requests = re.search(r"([\d,]+) requests", summary)
    assert requests is not None and int(requests[1].replace(",", "")) > 0


def test_claude_path_forms_give_the_same_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "claude-config"
    broken_cache_incident(config, START)
    (config / "history.jsonl").write_text("{not a transcript\n")
    transcript = next((config / "projects").rglob("*.jsonl"))
    forms = [config, config / "projects", transcript.parent, transcript]
    results = [replay_with_summary(capsys, form) for form in forms]
    alerts, summary = results[0]
    assert any(a["kind"] == "cache_collapse" for a in alerts)
    assert "1 file;" in summary and "0 lines skipped" in summary
    assert all(result == results[0] for result in results[1:])


def write_rollout(path: Path, start: datetime, minutes: int = 45) -> None:
    """A Codex rollout: one prompt, then a request a minute on gpt-5 with nobody watching."""

    def line(at: datetime, kind: str, payload: dict[str, Any]) -> bytes:
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return orjson.dumps({"timestamp": stamp, "type": kind, "payload": payload}) + b"\n"

    cwd = "/home/dev/src/codex-app"
    lines = [
        line(start, "session_meta", {"id": "019d0000-0000-7000-8000-00000000c0de", "cwd": cwd}),
        line(start, "turn_context", {"model": "gpt-5", "cwd": cwd}),
        line(start, "event_msg", {"type": "user_message", "message": "x" * 40}),
    ]
    totals = [0, 0, 0, 0, 0]
    for minute in range(1, minutes + 1):
        totals = [totals[0] + 60_000, totals[1] + 50_000, totals[2] + 2_000, totals[3] + 500, 0]
        totals[4] = totals[0] + totals[2]
        names = ("input_tokens", "cached_input_tokens", "output_tokens")
        usage = dict(zip((*names, "reasoning_output_tokens", "total_tokens"), totals, strict=True))
        info = {"total_token_usage": usage, "last_token_usage": usage}
        at = start + timedelta(minutes=minute)
        lines.append(line(at, "event_msg", {"type": "token_count", "info": info}))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(lines))


def test_codex_path_forms_give_the_same_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "codex-home"
    name = "rollout-2026-03-02T09-00-00-019d0000-0000-7000-8000-00000000c0de.jsonl"
    rollout = home / "sessions" / "2026" / "03" / "02" / name
    write_rollout(rollout, START)
    (home / "history.jsonl").write_text("{not a transcript\n")
    renamed = tmp_path / "copy" / "saved.jsonl"
    renamed.parent.mkdir()
    shutil.copy(rollout, renamed)
    forms = [home, home / "sessions", rollout, renamed]
    results = [replay_with_summary(capsys, form) for form in forms]
    alerts, summary = results[0]
    assert [a["kind"] for a in alerts] == ["unattended_loop"]
    assert alerts[0]["project"] == "/home/dev/src/codex-app"
    assert "45 requests, 1 prompts" in summary and "0 lines skipped" in summary
    assert all(result == results[0] for result in results[1:])


def test_several_paths_are_replayed_as_one_timeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claude = tmp_path / "claude-config"
    broken_cache_incident(claude, START)
    rollout = tmp_path / "codex" / "rollout-2026-03-02T09-00-00-x.jsonl"
    write_rollout(rollout, START + timedelta(minutes=20))
    alerts = replay(capsys, claude, rollout)
    assert {"cache_collapse", "unattended_loop"} <= {a["kind"] for a in alerts}
    assert [a["at"] for a in alerts] == sorted(a["at"] for a in alerts)


def test_missing_path_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path / "nowhere")]) != 0
    err = capsys.readouterr().err
    assert "no such file or directory" in err and "nowhere" in err
    assert "Traceback" not in err


def test_a_directory_without_transcripts_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["replay", str(tmp_path / "empty")]) != 0
    assert "no Claude Code or Codex transcripts" in capsys.readouterr().err


def test_malformed_lines_are_counted_in_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken_cache_incident(tmp_path / "claude", START)
    transcript = next((tmp_path / "claude").rglob("*.jsonl"))
    with transcript.open("ab") as handle:
        handle.write(b"{not json\n")
    alerts, summary = replay_with_summary(capsys, transcript)
    assert alerts
    assert "1 line skipped (invalid JSON: 1)" in summary


def test_text_output_keeps_terminal_escapes_from_logs_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = Session(
        tmp_path / "claude",
        "evil\x1b[31m[bold]",
        random.Random(7),
        model=OPUS_41,
        context=60_000,
        session_id="\x1b]0;pwned\x07-4b1c-a2f0-000000000000",
    )
    moment_ = working_session(session, START, 10)
    for _ in range(20):
        moment_ += timedelta(seconds=30)
        session.response(moment_, broken=True)
        session.tool_result(moment_ + timedelta(seconds=1))
    session.write()
    assert main(["replay", str(tmp_path / "claude")]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert any("cache_collapse" in line and "evil?[31m[bold]" in line for line in lines)
    assert "\x1b" not in captured.out + captured.err
    assert "\x07" not in captured.out + captured.err
    assert "warnings: " in captured.err


def test_user_thresholds_apply_and_no_ledger_is_left_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tokenbuddy").mkdir()
    (tmp_path / "tokenbuddy" / "config.toml").write_text("[alerts]\nloop_min_minutes = 40\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    rollout = tmp_path / "rollout-2026-03-02T09-00-00-x.jsonl"
    write_rollout(rollout, START)
    alerts = replay(capsys, rollout)
    assert first(alerts, "unattended_loop") - START == timedelta(minutes=41)
    assert list(scratch.iterdir()) == []
    assert not (tmp_path / "tokenbuddy" / "data").exists()
