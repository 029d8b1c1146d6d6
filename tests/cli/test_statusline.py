"""The Claude Code status line: formatting, never breaking the prompt, speed hygiene, install."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from tokenbuddy.cli.statusline import fast_dirs, parse_json
from tokenbuddy.cli.statusline_install import install, settings_file, uninstall
from tokenbuddy.cli.statusline_render import clean, render
from tokenbuddy.core.money import brief_dollars
from tokenbuddy.errors import ConfigError
from tokenbuddy.store.paths import app_paths

NOW_MS = 1_795_000_000_000
STATUS: dict[str, Any] = {
    "version": 1,
    "updated_ms": NOW_MS - 1000,
    "today_usd": 41.1,
    "cycle_usd": 157.5,
    "cap_usd": 250.0,
    "used_ratio": 0.63,
    "days_to_cap": 9.2,
    "burn_usd_per_hour": 12.84,
    "cache_hit_ratio_today": 0.94,
    "windows": [
        {
            "source": "claude-code",
            "window_minutes": 10080,
            "used_percent": 12.0,
            "resets_at_ms": NOW_MS + 86_400_000,
        }
    ],
    "alerts": [
        {"kind": "spend_spike", "severity": "warning", "rank": 1, "session_id": None},
        {"kind": "cache_collapse", "severity": "critical", "rank": 2, "session_id": "s1"},
        {"kind": "unattended_loop", "severity": "critical", "rank": 2, "session_id": "other"},
    ],
    "sessions": {"s1": 3.42},
    "transcripts": {},
    "statusline": {
        "segments": [
            "session",
            "today",
            "burn",
            "cap",
            "cache",
            "five_hour",
            "seven_day",
            "warning",
        ],
        "separator": " · ",
        "prefix": "⚡ ",
        "color": True,
    },
}
STDIN = {
    "session_id": "s1",
    "cost": {"total_cost_usd": 9.99},
    "rate_limits": {"five_hour": {"used_percentage": 41.2, "resets_at": NOW_MS // 1000 + 600}},
}


def test_every_segment_plain() -> None:
    line = render(STDIN, STATUS, color=False, now_ms=NOW_MS)
    assert line == (
        "⚡ $3.42 sess · $41.1 today · $12.8/h · cap 63% (9d left) · cache 94% · 5h 41% · "
        "7d 12% · ⚠ cache collapse"
    )


def test_colours_mark_only_what_needs_attention() -> None:
    status = {**STATUS, "used_ratio": 0.85, "days_to_cap": 2.0}
    stdin = {**STDIN, "rate_limits": {"five_hour": {"used_percentage": 93}}}
    line = render(stdin, status, color=True, now_ms=NOW_MS)
    assert "\x1b[31mcap 85% (2d left)\x1b[0m" in line
    assert "\x1b[31m5h 93%\x1b[0m" in line
    assert "\x1b[31m⚠ cache collapse\x1b[0m" in line
    assert "$3.42 sess" in line and "\x1b[31m$" not in line
    tmux = render(stdin, status, color=True, now_ms=NOW_MS, dialect="tmux")
    assert "#[fg=red]5h 93%#[default]" in tmux and "\x1b" not in tmux


@pytest.mark.parametrize(
    ("status", "stdin", "expected"),
    [
        ({}, {"cost": {"total_cost_usd": 1.5}}, "⚡ $1.50 sess · reading logs…"),
        ({**STATUS, "sessions": {}}, STDIN, "⚡ $9.99 sess"),
        ({**STATUS, "cap_usd": None}, {}, "⚡ $41.1 today"),
        ({**STATUS, "used_ratio": 1.2}, {}, "cap 120% reached"),
        ({**STATUS, "days_to_cap": None}, {}, "cap 63% · cache"),
        ({**STATUS, "alerts": [STATUS["alerts"][2]]}, STDIN, "7d 12%"),
        (
            {**STATUS, "statusline": {"segments": ["today"], "prefix": "\x1b[2J$ "}},
            {},
            "$ $41.1 today",
        ),
    ],
)
def test_segments_degrade_gracefully(
    status: dict[str, Any], stdin: dict[str, Any], expected: str
) -> None:
    line = render(stdin, status, color=False, now_ms=NOW_MS)
    assert expected in line
    assert "\x1b" not in line


def test_another_sessions_warning_is_not_shown() -> None:
    status = {**STATUS, "alerts": [STATUS["alerts"][2]]}
    assert "⚠" not in render(STDIN, status, color=False, now_ms=NOW_MS)


def test_money_is_short() -> None:
    assert [brief_dollars(v) for v in (0.004, 3.421, 12.84, 128.4, 4321.0)] == [
        "$0.00",
        "$3.42",
        "$12.8",
        "$128",
        "$4,321",
    ]


def test_clean_drops_escape_sequences_and_controls() -> None:
    hostile = "a\x1b[31mred\x1b[0m\x1b]8;;https://x\x07link\x1b]8;;\x07\x07b\tc\u202e"
    assert clean(hostile) == "aredlinkbc"


def test_parse_json_matches_the_standard_library(shared_fixtures: Path) -> None:
    sample = (shared_fixtures / "claude-statusline" / "statusline-test.json").read_text()
    assert parse_json(sample) == json.loads(sample)
    assert parse_json('  {"a": [1, 2.5, null, true, "\\u00e9"]}\n') == {
        "a": [1, 2.5, None, True, "é"]
    }
    with pytest.raises(ValueError, match="extra data"):
        parse_json('{"a": 1} trailing')


@pytest.mark.parametrize("home", [True, False])
def test_fast_dirs_agree_with_platformdirs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, home: bool
) -> None:
    if not home:
        monkeypatch.delenv("TOKENBUDDY_HOME", raising=False)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xc"))
        monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xs"))
    paths = app_paths()
    assert fast_dirs() == (str(paths.cache_dir), str(paths.state_dir))


# -- as Claude Code runs it ----------------------------------------------------------------


def run_statusline(stdin: bytes, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tokenbuddy", "statusline", *args],
        input=stdin,
        capture_output=True,
        env=env or os.environ,
        timeout=20,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 1
    return lines[0]


@pytest.mark.parametrize(
    "stdin",
    [b"", b"not json at all", b'{"session_id": 5, "cost": "x"', b"[1, 2]", b"\xff\xfe\x00"],
)
def test_bad_input_prints_a_neutral_line_and_exits_0(
    isolated_environment: Path, stdin: bytes
) -> None:
    line = run_statusline(stdin, "--no-color")
    assert line.startswith("⚡")
    assert "Traceback" not in line and "Error" not in line


def test_malformed_json_is_logged_in_the_state_dir(isolated_environment: Path) -> None:
    assert run_statusline(b'{"session_id": ') == "⚡ tokenbuddy"
    log = app_paths().statusline_log.read_text()
    assert "ValueError: the input on stdin is not JSON (at character 15); it began" in log
    assert run_statusline(b"garbage") == "⚡ tokenbuddy"
    assert "not JSON (at character 0); it began 'garbage'" in app_paths().statusline_log.read_text()
    assert run_statusline(b'{"model" "x"}') == "⚡ tokenbuddy"
    log = app_paths().statusline_log.read_text()
    assert "not JSON (Expecting ':' delimiter at line 1 column 10)" in log
    assert "SystemError" not in log and "Scanner" not in log
    assert run_statusline(b"[1, 2]") == "⚡ tokenbuddy"
    assert "is a JSON list, not the object" in app_paths().statusline_log.read_text()


def test_the_real_sample_gives_a_line(isolated_environment: Path, shared_fixtures: Path) -> None:
    sample = (shared_fixtures / "claude-statusline" / "statusline-test.json").read_bytes()
    env = {**os.environ, "NO_COLOR": "1"}
    line = run_statusline(sample, env=env)
    assert line.startswith("⚡ ")
    assert "\x1b" not in line


def wait_for(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_a_live_session_is_ingested_in_the_background_then_shown(
    isolated_environment: Path,
) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.incidents import broken_cache_incident

    root = isolated_environment / "claude"
    broken_cache_incident(root, datetime.now(UTC) - timedelta(minutes=45))
    (transcript,) = root.rglob("*.jsonl")
    stdin = {
        "session_id": transcript.stem,
        "transcript_path": str(transcript),
        "cost": {"total_cost_usd": 0.01},
        "rate_limits": {"five_hour": {"used_percentage": 55, "resets_at": int(time.time()) + 900}},
    }
    first = run_statusline(orjson.dumps(stdin), "--no-color")
    assert "reading logs…" in first and "5h 55%" in first
    status_file = app_paths().status_file
    wait_for(lambda: status_file.exists() and _session_known(status_file, transcript.stem))
    second = run_statusline(orjson.dumps(stdin), "--no-color")
    ledger = sqlite3.connect(app_paths().ledger)
    cost = ledger.execute("SELECT TOTAL(cost_usd) FROM requests").fetchone()[0]
    assert f"{brief_dollars(cost)} sess" in second
    assert "⚠ cache collapse" in second
    windows = ledger.execute("SELECT window_minutes, used_percent FROM rate_limits").fetchall()
    assert windows == [(300, 55.0)]


def _session_known(status_file: Path, session_id: str) -> bool:
    try:
        return session_id in orjson.loads(status_file.read_bytes())["sessions"]
    except (OSError, orjson.JSONDecodeError, KeyError):
        return False


def test_the_line_comes_back_at_once_while_an_ingest_holds_the_ledger(
    isolated_environment: Path,
) -> None:
    from tokenbuddy.store.ledger import Ledger

    paths = app_paths()
    paths.ensure()
    Ledger(paths.ledger).close()
    holder = sqlite3.connect(paths.ledger, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        line = run_statusline(orjson.dumps({"session_id": "x", "cost": {"total_cost_usd": 2}}))
        elapsed = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "$2.00 sess" in line
    assert elapsed < 10, "the status line must not wait for the ledger"


def test_concurrent_runs_are_safe(isolated_environment: Path) -> None:
    stdin = orjson.dumps({"session_id": "x", "cost": {"total_cost_usd": 1}})
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tokenbuddy", "statusline", "--no-color"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(8)
    ]
    outputs = [p.communicate(stdin, timeout=30) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert all(out.decode().startswith("⚡ $1.00 sess") and not err for out, err in outputs)


# -- install / uninstall -------------------------------------------------------------------


def claude_settings(tmp_path: Path, content: dict[str, Any] | None) -> Path:
    path = tmp_path / "claude" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is not None:
        path.write_bytes(orjson.dumps(content))
    return path


def test_install_merges_keeps_other_keys_backs_up_and_uninstall_restores_nothing(
    isolated_environment: Path,
) -> None:
    paths = app_paths()
    paths.ensure()
    path = claude_settings(isolated_environment, {"model": "sonnet", "hooks": {"Stop": []}})
    message = install(path, paths, force=False)
    assert "installed" in message
    settings = orjson.loads(path.read_bytes())
    assert settings["model"] == "sonnet" and settings["hooks"] == {"Stop": []}
    assert settings["statusLine"]["type"] == "command"
    command = settings["statusLine"]["command"]
    assert "tokenbuddy.cli.statusline" in command
    shell = subprocess.run(
        command, shell=True, input=b'{"cost": {"total_cost_usd": 4}}', capture_output=True,
        env=os.environ, timeout=20, check=True,
    )  # fmt: skip
    assert shell.stdout.decode().startswith("⚡ $4.00 sess"), "Claude Code runs it in a shell"
    assert list(path.parent.glob("settings.json.tokenbuddy-backup-*"))
    assert "already installed" in install(path, paths, force=False)
    uninstall(path, paths)
    assert orjson.loads(path.read_bytes()) == {"model": "sonnet", "hooks": {"Stop": []}}


def test_a_different_status_line_is_refused_unless_forced_and_comes_back(
    isolated_environment: Path,
) -> None:
    paths = app_paths()
    paths.ensure()
    theirs = {"type": "command", "command": "~/.claude/my-line.sh", "padding": 1}
    path = claude_settings(isolated_environment, {"statusLine": theirs, "theme": "dark"})
    with pytest.raises(ConfigError, match="--force"):
        install(path, paths, force=False)
    assert orjson.loads(path.read_bytes())["statusLine"] == theirs
    install(path, paths, force=True)
    assert "tokenbuddy" in orjson.loads(path.read_bytes())["statusLine"]["command"]
    uninstall(path, paths)
    assert orjson.loads(path.read_bytes()) == {"statusLine": theirs, "theme": "dark"}


def test_invalid_settings_json_is_refused_untouched(isolated_environment: Path) -> None:
    paths = app_paths()
    paths.ensure()
    path = claude_settings(isolated_environment, None)
    path.write_text('{"model": "sonnet",,}')
    with pytest.raises(ConfigError, match="not valid JSON"):
        install(path, paths, force=False)
    assert path.read_text() == '{"model": "sonnet",,}'


def test_settings_file_honours_claude_config_dir(tmp_path: Path) -> None:
    environ = {"CLAUDE_CONFIG_DIR": f"{tmp_path / 'work'},{tmp_path / 'other'}"}
    assert settings_file(environ, tmp_path) == tmp_path / "work" / "settings.json"
    environ = {"CLAUDE_CONFIG_DIR": str(tmp_path / "work" / "projects")}
    assert settings_file(environ, tmp_path) == tmp_path / "work" / "settings.json"
    assert settings_file({}, tmp_path) == tmp_path / ".claude" / "settings.json"


def test_install_command_line(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tokenbuddy.cli.main import main

    os.environ["CLAUDE_CONFIG_DIR"] = str(isolated_environment / "cc")
    assert main(["statusline", "--install"]) == 1
    assert "cc does not exist, so Claude Code does not run from there" in capsys.readouterr().err
    assert not (isolated_environment / "cc").exists()
    (isolated_environment / "cc").mkdir()
    assert main(["statusline", "--install"]) == 0
    assert "installed" in capsys.readouterr().out
    assert (isolated_environment / "cc" / "settings.json").exists()
    assert main(["statusline", "--uninstall"]) == 0
    assert orjson.loads((isolated_environment / "cc" / "settings.json").read_bytes()) == {}


def test_install_says_when_other_config_dirs_were_left_alone(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tokenbuddy.cli.main import main

    first, second = isolated_environment / "one", isolated_environment / "two"
    first.mkdir()
    second.mkdir()
    os.environ["CLAUDE_CONFIG_DIR"] = f"{first},{second}"
    assert main(["statusline", "--install"]) == 0
    out = capsys.readouterr().out
    assert "1 more dir(s); only the first was changed" in out
    assert (first / "settings.json").exists() and not (second / "settings.json").exists()


@pytest.mark.parametrize("text", ['{"a": 1', "[1, 2", '{"a" 1}', '{"a": [1, }'])
def test_parse_json_says_malformed_json_is_not_json(text: str) -> None:
    code = (
        "from tokenbuddy.fast_json import parse_json\n"
        f"try:\n    parse_json({text!r})\nexcept ValueError as error:\n    print(error)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("not JSON"), "json is not loaded in a fresh interpreter"
    with pytest.raises(ValueError):  # json's own error here, as pytest has loaded json
        parse_json(text)


def test_the_guard_segment_shows_this_sessions_latest_block_until_an_allow() -> None:
    def line(*decisions: dict[str, Any]) -> str:
        status = {**STATUS, "guard": {"decisions": list(decisions)}}
        status["statusline"] = {**STATUS["statusline"], "segments": ["guard"]}
        return render(STDIN, status, color=False, now_ms=NOW_MS)

    block = {"decision": "block", "session_id": "s1", "rule": "hard_cap", "ts_ms": NOW_MS - 5000}
    assert line(block) == "⚡ ⛔ guard: hard cap"
    assert line({**block, "decision": "warn", "rule": "unattended_spend"}) == "⚡ guard: unattended"
    assert line({**block, "session_id": "other"}) == "⚡ "
    assert line({**block, "ts_ms": NOW_MS - 11 * 60_000}) == "⚡ "
    allow = {"decision": "allow", "session_id": "", "ts_ms": NOW_MS - 1000}
    assert line(allow, block) == "⚡ "
    assert line({**allow, "session_id": "other"}, block) == "⚡ ⛔ guard: hard cap"


def test_the_default_segments_agree_with_the_settings() -> None:
    from tokenbuddy.cli.statusline_render import DEFAULT_SEGMENTS
    from tokenbuddy.store.settings import StatuslineSettings

    assert list(DEFAULT_SEGMENTS) == StatuslineSettings().segments


def test_a_changed_cap_is_not_shown_stale(isolated_environment: Path) -> None:
    from tokenbuddy.cli.statusline import current_cap

    config = isolated_environment / "config.toml"
    config.write_text("monthly_cap_usd = 100\n")
    snapshot = {
        "version": 1, "cap_usd": 100.0, "used_ratio": 0.5, "cycle_usd": 50.0,
        "days_to_cap": 9.0,
        "guard": {"config_file": str(config), "config_mtime_ns": config.stat().st_mtime_ns},
    }  # fmt: skip
    assert current_cap(snapshot, {}) == (snapshot, False)
    shown, changed = current_cap(snapshot, {"TOKENBUDDY_MONTHLY_CAP_USD": "200"})
    assert changed and shown["cap_usd"] == 200.0 and shown["used_ratio"] == 0.25
    assert shown["days_to_cap"] is None
    config.write_text("monthly_cap_usd = 400\n")
    os.utime(config, ns=(1, 1))
    shown, changed = current_cap(snapshot, {})
    assert changed and shown["cap_usd"] is None
