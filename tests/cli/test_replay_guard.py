"""``tokenbuddy replay --guard``: when the guard would have blocked, on generated incidents,
real logs and bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import environ_for
from tests.incidents import broken_cache_incident, scripted_loop_incident
from tokenbuddy.cli.main import main
from tokenbuddy.services.ingest import sync
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.sources.tailer import ChunkReader
from tokenbuddy.store.ledger import Ledger

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BLOCK_KEYS = {
    "at",
    "decision",
    "rule",
    "rules",
    "event",
    "session_id",
    "project",
    "entrypoint",
    "message",
    "reason",
    "figures_at",
    "incident_start",
    "spend_since_start_usd",
}


def replay_guard(
    capsys: pytest.CaptureFixture[str], *args: Path | str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """The warnings and the blocks ``replay --guard --json`` prints, and its stderr."""
    assert main(["replay", "--guard", "--json", *map(str, args)]) == 0
    captured = capsys.readouterr()
    lines = [orjson.loads(line) for line in captured.out.splitlines()]
    blocks = [line for line in lines if "decision" in line]
    return [line for line in lines if "decision" not in line], blocks, captured.err


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def requests(claude: Path, ledger_path: Path) -> list[tuple[datetime, float]]:
    """(time, cost) of every request in the logs, in time order."""
    ledger_path.parent.mkdir(parents=True, exist_ok=True)
    with Ledger(ledger_path) as ledger:
        sync(ledger, log_roots(environ_for(claude=claude), ledger_path.parent))
        rows = ledger.db.execute("SELECT ts_ms, cost_usd FROM requests ORDER BY ts_ms").fetchall()
    return [(datetime.fromtimestamp(ts / 1000, UTC), float(cost)) for ts, cost in rows]


def crossing(timeline: list[tuple[datetime, float]], cap: float) -> Iterator[datetime]:
    """The request that takes the spend to ``cap``, then every later one."""
    spent = 0.0
    for when, cost in timeline:
        spent += cost
        if spent >= cap:
            yield when


def test_a_hard_cap_stops_the_first_call_after_it_is_reached(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claude = tmp_path / "incident"
    scripted_loop_incident(claude, START)  # a busy day of Opus work, then a loop
    later = crossing(requests(claude, tmp_path / "spend" / "ledger.sqlite3"), 50.0)
    reached, first_after = next(later), next(later)
    alerts, blocks, err = replay_guard(capsys, "--hard-cap", "50", "--refresh-lag", "0", claude)
    first = blocks[0]
    assert set(first) == BLOCK_KEYS and first["decision"] == "block"
    assert (first["rule"], first["rules"]) == ("hard_cap", ["hard_cap"])
    assert moment(first["incident_start"]) == reached
    # the call before the next request, or the prompt before it when one came between
    assert reached < moment(first["at"]) <= first_after
    assert first["figures_at"] == first["at"] and first["spend_since_start_usd"] == 0
    assert "reached hard_cap_usd $50.00" in first["message"]
    assert "tokenbuddy guard allow --for 30m" in first["reason"]
    assert alerts == [] and "Guard what-if" in err and "hard_cap" in err.splitlines()[-1]


def test_with_the_hooks_refresh_lag_the_cap_stops_a_call_within_minutes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claude = tmp_path / "incident"
    scripted_loop_incident(claude, START)  # a busy day of Opus work, then a loop
    reached = next(crossing(requests(claude, tmp_path / "spend" / "ledger.sqlite3"), 50.0))
    _alerts, blocks, err = replay_guard(capsys, "--hard-cap", "50", claude)
    first = blocks[0]
    assert moment(first["incident_start"]) == reached
    assert timedelta(0) < moment(first["at"]) - reached <= timedelta(minutes=3)
    assert moment(first["figures_at"]) > reached
    assert first["spend_since_start_usd"] < 2
    assert "would not have been (hard_cap $" in err


def test_nothing_is_blocked_before_an_incident_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A busy day then a ``claude -p`` loop: only the loop is stopped, and only once the
    unattended-spend warning is critical."""
    start = scripted_loop_incident(tmp_path / "incident", START)
    alerts, blocks, _err = replay_guard(capsys, tmp_path / "incident")
    critical = min(moment(a["at"]) for a in alerts if a["severity"] == "critical")
    assert blocks and {b["rule"] for b in blocks} == {"unattended_spend"}
    assert start + timedelta(minutes=30) <= critical <= min(moment(b["at"]) for b in blocks)
    assert all(moment(b["incident_start"]) >= critical for b in blocks)


def test_a_broken_cache_is_stopped_after_its_critical_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start = broken_cache_incident(tmp_path / "incident", START)
    alerts, blocks, _err = replay_guard(capsys, tmp_path / "incident")
    collapse = min(
        moment(a["at"])
        for a in alerts
        if a["kind"] == "cache_collapse" and a["severity"] == "critical"
    )
    first = blocks[0]
    assert first["rule"] == "critical_alert" and first["event"] == "PreToolUse"
    assert start < collapse <= moment(first["at"]) <= start + timedelta(minutes=6)
    assert start <= moment(first["incident_start"]) <= collapse
    assert "critical warning on this session: Cache hit ratio fell" in first["message"]


def test_text_output_says_it_is_a_what_if_and_what_the_agent_is_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken_cache_incident(tmp_path / "incident", START)
    assert main(["replay", "--guard", "--daily-cap", "40", str(tmp_path / "incident")]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith("Guard what-if (a replay enforces nothing)")
    assert "daily cap $40.00" in lines[0] and "refreshed once over 120 s old" in lines[0]
    blocked = [n for n, line in enumerate(lines) if "BLOCKED" in line]
    assert blocked, captured.out
    assert "since the warning at" in lines[blocked[0]]
    assert lines[blocked[0] + 1].startswith("    the agent is told: tokenbuddy guard stopped")
    assert any("released" in line and "no longer trips" in line for line in lines)
    assert "Guard: " in captured.err and "would not have been" in captured.err


@pytest.mark.parametrize("source", ["claude", "codex"])
def test_real_logs_are_never_blocked_with_the_default_limits(
    shared_fixtures: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    alerts, blocks, err = replay_guard(capsys, shared_fixtures / source)
    assert blocks == []
    assert [a for a in alerts if a["severity"] == "critical"] == []
    assert "Guard: 0 blocks" in err


def test_a_missing_path_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", "--guard", str(tmp_path / "nowhere")]) != 0
    err = capsys.readouterr().err
    assert "no such file or directory" in err and "nowhere" in err
    assert "Traceback" not in err


def test_an_unreadable_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the one transcript given fails (as a chmod 000 file does, but as root too)."""
    broken_cache_incident(tmp_path / "incident", START)
    transcript = next((tmp_path / "incident").rglob("*.jsonl"))

    def refuse(reader: ChunkReader) -> Iterator[bytes]:
        raise PermissionError(13, "Permission denied", reader.path)

    monkeypatch.setattr(ChunkReader, "__iter__", refuse)
    assert main(["replay", "--guard", str(transcript)]) != 0
    err = capsys.readouterr().err
    assert f"cannot read {transcript}: Permission denied" in err
    assert "1 unreadable" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--hard-cap", "50"], "--hard-cap goes with --guard"),
        (["--guard", "--daily-cap", "-5"], "argument --daily-cap: must be 0 or more, not -5"),
        (["--guard", "--refresh-lag", "nan"], "argument --refresh-lag: must be 0 or more"),
        (["--guard", "--hard-cap", "lots"], "argument --hard-cap: not a number: 'lots'"),
    ],
)
def test_guard_options_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    broken_cache_incident(tmp_path / "incident", START)
    code: int | str | None
    try:
        code = main(["replay", *args, str(tmp_path / "incident")])
    except SystemExit as exit_:  # argparse exits on what it cannot parse
        code = exit_.code
    assert code not in (0, None)
    captured = capsys.readouterr()
    assert said in captured.err and "Traceback" not in captured.err
    assert captured.out == ""
