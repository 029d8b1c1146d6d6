"""The ``tokenbuddy`` command as a user runs it: version, reports, doctor, errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tokenbuddy import __version__
from tokenbuddy.cli.main import main

TOKEN_FIELDS = {
    "input_tokens",
    "output_tokens",
    "cache_creation_tokens",
    "cache_read_tokens",
    "cost_usd",
    "requests",
}


def write_session(root: Path, *records: dict[str, object], name: str = "s1") -> Path:
    path = root / "projects" / "-home-dev-shop" / f"{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as handle:
        for record in records:
            handle.write(orjson.dumps(record) + b"\n")
    return path


def assistant(
    msg: str,
    ts: str,
    *,
    model: str = "claude-sonnet-4-5-20250929",
    cwd: str = "/home/dev/shop",
    session: str = "s1",
    output: int = 100,
    entrypoint: str | None = None,
) -> dict[str, object]:
    started = {} if entrypoint is None else {"entrypoint": entrypoint}
    return {
        **started,
        "type": "assistant",
        "timestamp": ts,
        "sessionId": session,
        "cwd": cwd,
        "requestId": f"req_{msg}",
        "message": {
            "id": f"msg_{msg}",
            "model": model,
            "usage": {
                "input_tokens": 10,
                "output_tokens": output,
                "cache_creation_input_tokens": 1000,
                "cache_read_input_tokens": 9000,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": 1000,
                    "ephemeral_1h_input_tokens": 0,
                },
            },
        },
    }


@pytest.fixture
def claude_dir(isolated_environment: Path) -> Path:
    root = isolated_environment / "claude"
    write_session(
        root,
        assistant("a", "2026-11-20T23:30:00Z"),
        assistant("b", "2026-11-21T00:30:00Z", entrypoint="claude-desktop"),
        assistant("c", "2026-11-21T10:00:00Z", model="mystery-model-1", entrypoint="cli"),
    )
    scripted = assistant(
        "d", "2026-11-21T11:00:00Z", cwd="/srv/api", session="s2", entrypoint="sdk-cli"
    )
    write_session(root, scripted, name="s2")
    return root


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main([*argv, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    return json.loads(out)  # type: ignore[no-any-return]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"tokenbuddy {__version__}"


def test_daily_json_shape_and_local_days(
    claude_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = run_json(capsys, "report", "daily")
    assert set(report) == {
        "rows",
        "totals",
        "unpriced_models",
        "skipped_lines",
        "implausible_dates",
        "unknown_token_requests",
    }
    assert [row["date"] for row in report["rows"]] == ["2026-11-20", "2026-11-21"]  # type: ignore[index]
    for row in [*report["rows"], report["totals"]]:  # type: ignore[misc]
        assert set(row) >= TOKEN_FIELDS
    assert report["totals"]["requests"] == 4  # type: ignore[index]
    assert report["unpriced_models"] == {"mystery-model-1": 1}
    tokyo = run_json(capsys, "report", "daily", "--tz", "Asia/Tokyo")
    assert [row["date"] for row in tokyo["rows"]] == ["2026-11-21"]  # type: ignore[index]


def test_weekly_monthly_model_and_session_keys(
    claude_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_json(capsys, "report", "weekly")["rows"][0]["week"] == "2026-W47"  # type: ignore[index]
    assert run_json(capsys, "report", "monthly")["rows"][0]["month"] == "2026-11"  # type: ignore[index]
    models = {r["model"] for r in run_json(capsys, "report", "model")["rows"]}  # type: ignore[union-attr]
    assert models == {"claude-sonnet-4-5-20250929", "mystery-model-1"}
    sessions = run_json(capsys, "report", "session")["rows"]
    # The entrypoint is the first one a session's requests name: how it was started.
    assert {(r["session_id"], r["project"], r["entrypoint"]) for r in sessions} == {  # type: ignore[union-attr]
        ("s1", "/home/dev/shop", "claude-desktop"),
        ("s2", "/srv/api", "sdk-cli"),
    }


def test_filters(claude_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    since = run_json(capsys, "report", "daily", "--since", "2026-11-21")
    assert since["totals"]["requests"] == 3  # type: ignore[index]
    until = run_json(capsys, "report", "daily", "--until", "20261120")
    assert until["totals"]["requests"] == 1  # type: ignore[index]
    api = run_json(capsys, "report", "daily", "--project", "API")
    assert api["totals"]["requests"] == 1  # type: ignore[index]
    codex_only = run_json(capsys, "report", "daily", "--source", "codex")
    assert codex_only["rows"] == [] and codex_only["totals"]["requests"] == 0  # type: ignore[index]


def test_table_has_totals_row_and_unpriced_footer(
    claude_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "daily"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["Date", "Input"]
    total = next(line for line in lines if line.startswith("Total"))
    assert total.split()[-2] == "4"
    assert any("mystery-model-1 (1 request)" in line for line in lines)
    widths = {len(line) for line in lines[:5]}
    assert len(widths) == 1, "columns are aligned"


def test_log_text_with_escapes_is_not_printed_raw(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_session(
        isolated_environment / "claude",
        assistant("e", "2026-11-21T10:00:00Z", cwd="/x/\x1b[31mred"),
    )
    assert main(["report", "session"]) == 0
    assert "\x1b" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "daily", "--tz", "Mars/Olympus"], "unknown time zone"),
        (["report", "daily", "--since", "last week"], "--since expects a date"),
        (
            ["report", "daily", "--since", "2026-11-22", "--until", "2026-11-01"],
            "--since is after --until",
        ),
    ],
)
def test_bad_arguments_give_one_line_and_exit_1(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("tokenbuddy: ") and message in err and err.count("\n") == 1


def test_doctor_lists_roots_counts_and_paths(
    claude_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (claude_dir / "projects" / "-home-dev-shop" / "s1.jsonl").open("ab") as handle:
        handle.write(b"this is not json\n")
    report = run_json(capsys, "doctor")
    assert report["ledger"].endswith("ledger.sqlite3")  # type: ignore[union-attr]
    roots = {(r["source"], r["exists"]) for r in report["log_roots"]}  # type: ignore[union-attr]
    assert ("claude-code", True) in roots and ("codex", False) in roots
    assert report["lines_skipped"] == {"invalid JSON": 1}
    assert report["requests"] == 4
    agents = {row["source"]: row for row in report["agents"]}  # type: ignore[union-attr]
    assert list(agents)[:3] == ["claude-code", "codex", "cursor-local"]
    assert {"gemini-cli", "copilot", "opencode", "qwen-code", "cline"} <= set(agents)
    claude = agents["claude-code"]
    assert (claude["name"], claude["files"], claude["requests"]) == ("Claude Code", 2, 4)
    assert claude["lines_skipped"] == {"invalid JSON": 1}
    assert agents["copilot"]["requests"] == 0 and agents["copilot"]["lines_skipped"] == {}
    assert main(["doctor"]) == 0
    text = capsys.readouterr().out
    assert "invalid JSON" in text and "Log directories searched" in text
    assert "  Claude Code      2 files, 4 requests" in text
    assert "  Gemini CLI       nothing found" in text


def test_doctor_lists_a_file_that_cannot_be_read_once(
    claude_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = claude_dir / "projects" / "-home-dev-shop" / "gone.jsonl"
    broken.symlink_to(claude_dir / "nowhere.jsonl")
    for _ in range(2):  # this pass's error and the one stored by the last pass are one
        report = run_json(capsys, "doctor")
        assert report["errors"] == [f"cannot read {broken}: No such file or directory"]
        assert report["requests"] == 4


def test_a_tz_that_is_not_a_zone_name_is_said_not_ignored(
    claude_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")
    assert main(["report", "daily", "--json"]) == 0
    notices = [line for line in capsys.readouterr().err.splitlines() if "TZ=" in line]
    assert len(notices) == 1
    assert "TZ='CET-1CEST,M3.5.0,M10.5.0/3' is not a time zone name" in notices[0]
    assert "--tz" in notices[0]
    assert main(["report", "daily", "--json", "--tz", "Europe/Paris"]) == 0
    assert "TZ=" not in capsys.readouterr().err
    monkeypatch.setenv("TZ", "Europe/Paris")
    assert main(["status", "--json"]) == 0
    assert "TZ=" not in capsys.readouterr().err


def test_a_long_first_read_shows_progress_on_a_terminal_then_erases_it() -> None:
    from tokenbuddy.cli.progress import SHOW_PROGRESS_FROM_BYTES, TerminalProgress

    stream = io.StringIO()
    progress = TerminalProgress(stream)
    progress(10, 1000)  # a small, incremental pass: nothing
    assert stream.getvalue() == ""
    total = 2 * SHOW_PROGRESS_FROM_BYTES
    for done in (0, total // 4, total // 4, total // 2, total):
        progress(done, total)
    lines = stream.getvalue().split("\r")[1:]
    assert [line.removesuffix("\x1b[K") for line in lines] == [
        "tokenbuddy: reading 134 MB of logs: 0%",
        "tokenbuddy: reading 134 MB of logs: 25%",
        "tokenbuddy: reading 134 MB of logs: 50%",
        "tokenbuddy: reading 134 MB of logs: writing the ledger",
    ]
    progress.clear()
    assert stream.getvalue().endswith("\r\x1b[K") and not progress.shown


def test_report_shows_progress_only_on_a_terminal(
    claude_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokenbuddy.cli import progress

    assert main(["report", "daily", "--json"]) == 0
    assert "reading" not in capsys.readouterr().err  # not a terminal
    (claude_dir / "projects" / "-home-dev-shop" / "new.jsonl").write_bytes(
        (claude_dir / "projects" / "-home-dev-shop" / "s1.jsonl").read_bytes()
    )
    monkeypatch.setattr(progress, "terminal_progress_wanted", lambda stream: True)
    monkeypatch.setattr(progress, "SHOW_PROGRESS_FROM_BYTES", 0)
    assert main(["report", "daily", "--json"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("\rtokenbuddy: reading 0 MB of logs: writing the ledger\x1b[K\r\x1b[K")
    assert json.loads(out)["totals"]["requests"] == 4


def test_doctor_explains_where_to_point_when_nothing_is_found(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["doctor"]) == 0
    assert "CLAUDE_CONFIG_DIR" in capsys.readouterr().out


def test_python_dash_m_and_default_command(claude_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tokenbuddy", "report", "daily", "--json"],
        capture_output=True,
        text=True,
        env=os.environ,
        check=True,
    )
    assert json.loads(result.stdout)["totals"]["requests"] == 4


def test_the_command_exits_with_main_s_code_after_flushing_everything(claude_dir: Path) -> None:
    """``run`` skips the interpreter's teardown: output must still be complete, exit
    handlers must still run, and exit codes must be main's."""
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('exit handler ran', file=sys.stderr))\n"
        "from tokenbuddy.cli.main import run\n"
        "run()\n"
    )
    ok = subprocess.run(
        [sys.executable, "-c", script, "report", "session", "--json"],
        capture_output=True,
        env=os.environ,
        check=False,
    )
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["totals"]["requests"] == 4
    assert ok.stderr.decode().strip().endswith("exit handler ran")
    for arguments, code in ((["--since", "yesterday"], 1), (["--bogus"], 2)):
        bad = subprocess.run(
            [sys.executable, "-m", "tokenbuddy", "report", "daily", *arguments],
            capture_output=True,
            env=os.environ,
            check=False,
        )
        assert bad.returncode == code and b"Traceback" not in bad.stderr


def test_a_reader_that_closes_the_pipe_early_gets_no_traceback(claude_dir: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "tokenbuddy", "report", "daily", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # like `| head -c 0`
        stderr = process.stderr.read()
        assert process.wait(timeout=60) != 0
    assert b"Traceback" not in stderr


STATUS_KEYS = {
    "now",
    "timezone",
    "today",
    "cycle",
    "cap",
    "projection",
    "burn",
    "cache_hit_ratio",
    "active_sessions",
    "windows",
    "warnings",
    "unpriced_models",
    "guard",
}


def test_status_json_has_every_documented_key_and_the_cap(
    claude_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKENBUDDY_MONTHLY_CAP_USD", "250")
    status = run_json(capsys, "status")
    assert set(status) == STATUS_KEYS
    assert status["cap"]["monthly_cap_usd"] == 250  # type: ignore[index]
    assert status["cap"]["soft_limit_usd"] == pytest.approx(200)  # type: ignore[index]
    basis = status["projection"]["basis"]  # type: ignore[index]
    assert set(basis) >= {"window_days", "usd_per_weekday", "usd_per_weekend_day", "description"}
    assert set(status["burn"]) == {"last_5m", "last_1h"}  # type: ignore[arg-type]
    assert status["warnings"] == []


def test_status_without_a_cap_says_how_to_set_one(
    claude_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "no cap: set monthly_cap_usd" in out
    assert "Warnings  none" in out


def test_status_lists_a_runaway_session_happening_now(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import time
    from datetime import UTC, datetime, timedelta

    from tests.incidents import broken_cache_incident

    root = isolated_environment / "claude"
    started = datetime.fromtimestamp(time.time(), UTC) - timedelta(minutes=50)
    broken_cache_incident(root, started)
    os.environ["CLAUDE_CONFIG_DIR"] = str(root)
    status = run_json(capsys, "status")
    warnings = status["warnings"]
    assert isinstance(warnings, list)
    kinds = {(w["kind"], w["severity"]) for w in warnings}
    assert ("cache_collapse", "critical") in kinds
    assert main(["status"]) == 0
    assert "CRITICAL  Cache hit ratio" in capsys.readouterr().out


def test_status_formats_for_bars(
    claude_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKENBUDDY_MONTHLY_CAP_USD", "100")
    assert main(["status", "--format", "plain"]) == 0
    plain = capsys.readouterr().out
    assert plain.startswith("⚡ ") and plain.count("\n") == 1 and "cap 0%" in plain
    assert main(["status", "--format", "tmux"]) == 0
    assert capsys.readouterr().out.startswith("⚡ ")
    assert main(["status", "--format", "waybar"]) == 0
    waybar = json.loads(capsys.readouterr().out)
    assert set(waybar) >= {"text", "tooltip", "class"}
    assert waybar["class"] == "ok" and waybar["text"].startswith("⚡ ")
    assert "Today" in waybar["tooltip"]
    assert main(["status", "--format", "json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == STATUS_KEYS


def test_status_json_and_a_bar_format_conflict(
    claude_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--json", "--format", "tmux"]) == 1
    assert "two different outputs" in capsys.readouterr().err


def test_bar_formats_are_served_from_the_status_line_snapshot(
    claude_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tokenbuddy import clock
    from tokenbuddy.store.paths import app_paths

    status_file = app_paths().status_file
    status_file.parent.mkdir(parents=True, exist_ok=True)
    now = clock.now_ms()
    snapshot = {
        "version": 1, "updated_ms": now, "synced_ms": now, "today_usd": 12.34,
        "cycle_usd": 50.0, "cap_usd": 200.0, "used_ratio": 0.25, "burn_usd_per_hour": 3.0,
        "alerts": [{"kind": "spend_spike", "severity": "warning", "rank": 2,
                    "session_id": None, "message": "spend at 5x"}],
    }  # fmt: skip
    status_file.write_text(json.dumps(snapshot))
    assert main(["status", "--format", "plain"]) == 0
    assert "$12.3 today" in capsys.readouterr().out
    assert not app_paths().ledger.exists(), "the logs and the ledger were left alone"
    assert main(["status", "--format=waybar"]) == 0
    waybar = json.loads(capsys.readouterr().out)
    assert waybar["class"] == "warning" and waybar["percentage"] == 25
    assert "⚠ spend at 5x" in waybar["tooltip"] and "of $200" in waybar["tooltip"]


def test_doctor_does_not_count_deleted_files(
    claude_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = run_json(capsys, "doctor")
    files = {r["source"]: r["files"] for r in report["log_roots"] if r["exists"]}  # type: ignore[union-attr]
    assert files["claude-code"] == 2
    (claude_dir / "projects" / "-home-dev-shop" / "s2.jsonl").unlink()
    report = run_json(capsys, "doctor")
    files = {r["source"]: r["files"] for r in report["log_roots"] if r["exists"]}  # type: ignore[union-attr]
    assert files["claude-code"] == 1
    assert report["requests"] == 4, "the deleted file's requests stay in the ledger"


def test_an_invalid_timezone_setting_falls_back_with_a_notice(
    claude_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKENBUDDY_TIMEZONE", "Nowhere/Zone")
    assert main(["report", "daily"]) == 0
    captured = capsys.readouterr()
    assert "unknown time zone 'Nowhere/Zone'" in captured.err and "instead" in captured.err
    assert "2026-11-21" in captured.out
    assert main(["tips"]) == 0
    assert "Nowhere/Zone" in capsys.readouterr().err
    assert main(["report", "daily", "--tz", "Nowhere/Zone"]) == 1  # asked for on the line
