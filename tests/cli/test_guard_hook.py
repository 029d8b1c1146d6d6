"""The guard hook as Claude Code runs it: a process fed the documented JSON on stdin.

The figures come from the real writers (``tokenbuddy status`` over a generated history,
with ``[guard]`` set through ``TOKENBUDDY_GUARD__*``); the warnings a detector would
raise are put into the status file where a test needs one.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.incidents import OPUS, Session, working_session
from tokenbuddy.cli.guard_hook import EVERY_ROOT_LOCK, REFRESH_LOCK, _busy
from tokenbuddy.cli.guard_install import LAUNCHER
from tokenbuddy.cli.main import main
from tokenbuddy.store import guard_files
from tokenbuddy.store.paths import app_paths

HOOK = [sys.executable, "-c", LAUNCHER]
"""What ``tokenbuddy guard --install`` writes into settings.json, as argv."""


def pre_tool_use(session_id: str, tool: str = "Bash") -> dict[str, Any]:
    """A PreToolUse input as the hooks reference documents it."""
    return {
        "session_id": session_id,
        "transcript_path": f"/home/dev/.claude/projects/-home-dev-shop/{session_id}.jsonl",
        "cwd": "/home/dev/shop",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": {"command": "npm test", "description": "Run the tests"},
        "tool_use_id": "toolu_01ABC123",
    }


def user_prompt(session_id: str) -> dict[str, Any]:
    """A UserPromptSubmit input as the hooks reference documents it."""
    return {
        "session_id": session_id,
        "transcript_path": f"/home/dev/.claude/projects/-home-dev-shop/{session_id}.jsonl",
        "cwd": "/home/dev/shop",
        "permission_mode": "default",
        "hook_event_name": "UserPromptSubmit",
        "prompt": "Write a function to calculate Fibonacci numbers",
    }


def hook(stdin: dict[str, Any] | bytes, *, entrypoint: str | None = "cli") -> bytes:
    """Run the hook; it must exit 0 with nothing on stderr. Returns its stdout."""
    env = dict(os.environ)
    env.pop("CLAUDE_CODE_ENTRYPOINT", None)
    if entrypoint is not None:
        env["CLAUDE_CODE_ENTRYPOINT"] = entrypoint
    data = stdin if isinstance(stdin, bytes) else orjson.dumps(stdin)
    result = subprocess.run(HOOK, input=data, capture_output=True, env=env, timeout=20, check=False)
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    return result.stdout


def denied(stdout: bytes) -> str:
    """The reason of a PreToolUse deny, checking the documented shape."""
    output = orjson.loads(stdout)
    specific = output["hookSpecificOutput"]
    assert specific["hookEventName"] == "PreToolUse"
    assert specific["permissionDecision"] == "deny"
    return str(specific["permissionDecisionReason"])


def prompt_blocked(stdout: bytes) -> str:
    """The reason of a UserPromptSubmit block, checking the documented shape."""
    output = orjson.loads(stdout)
    assert set(output) == {"decision", "reason"} and output["decision"] == "block"
    return str(output["reason"])


def journal() -> list[dict[str, Any]]:
    path = Path(guard_files.journal_path(str(app_paths().state_dir)))
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def guard_log() -> str:
    path = app_paths().state_dir / guard_files.LOG
    return path.read_text() if path.exists() else ""


@pytest.fixture
def history(isolated_environment: Path) -> Session:
    """A person's Opus session of the last 40 minutes (a few dollars, healthy cache)."""
    session = Session(isolated_environment / "claude", "shop", random.Random(5), model=OPUS)
    working_session(session, datetime.now(UTC) - timedelta(minutes=40), 35)
    session.write()
    return session


@pytest.fixture
def publish(
    history: Session, publish_logs: Callable[..., dict[str, Any]]
) -> Callable[..., dict[str, Any]]:
    """:func:`publish_logs` over :func:`history`."""
    return publish_logs


@pytest.fixture
def publish_logs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., dict[str, Any]]:
    """Set ``[guard]`` and write the figures as ``tokenbuddy status`` does; returns them."""

    def run(**guard: object) -> dict[str, Any]:
        for key, value in guard.items():
            monkeypatch.setenv(f"TOKENBUDDY_GUARD__{key.upper()}", str(value))
        assert main(["status", "--json"]) == 0
        capsys.readouterr()
        return orjson.loads(app_paths().status_file.read_bytes())  # type: ignore[no-any-return]

    return run


def rewrite_status(change: Callable[[dict[str, Any]], None]) -> None:
    """Change the status file as a writer would have written it."""
    path = app_paths().status_file
    status = orjson.loads(path.read_bytes())
    change(status)
    path.write_bytes(orjson.dumps(status))


def critical(kind: str, session_id: str | None, *sessions: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "severity": "critical",
        "rank": 2,
        "session_id": session_id,
        "sessions": list(sessions),
        "message": "no human prompt for 4.2 h in 168 sessions of shop (sdk-cli): $34/h, "
        "$143 so far, $290 by 08:00",
    }


@pytest.fixture(autouse=True)
def no_refresh_left_running() -> Iterator[None]:
    """A test that makes the hook start a background refresh waits for it to end."""
    yield
    wait_for_background_refresh()


def wait_for_background_refresh() -> None:
    """Until no refresh the hook started is running (they write to this test's dirs)."""
    state = app_paths().state_dir
    deadline = time.monotonic() + 60
    while any(_busy(str(state / lock)) for lock in (EVERY_ROOT_LOCK, REFRESH_LOCK)) or list(
        state.glob("statusline-*.json") if state.exists() else []
    ):
        if time.monotonic() > deadline:
            raise AssertionError("a background refresh is still running")
        time.sleep(0.05)


# -- block ---------------------------------------------------------------------------------


def test_the_hard_cap_stops_a_tool_call_with_the_numbers_and_how_to_resume(
    publish: Callable[..., dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    figures = publish(mode="block", hard_cap_usd=1)
    spent = f"${figures['cycle_usd']:,.2f}"
    reason = denied(hook(pre_tool_use("s-1")))
    assert reason.startswith(f"tokenbuddy guard stopped this tool call: cycle spend {spent} ")
    assert "reached hard_cap_usd $1.00" in reason
    assert "tokenbuddy guard allow --for 30m (or --session s-1 for this session only)" in reason
    (line,) = journal()
    assert (line["decision"], line["rule"], line["session_id"], line["tool"]) == (
        "block",
        "hard_cap",
        "s-1",
        "Bash",
    )
    status = publish()  # the next ledger writer imports the journal
    assert journal() == []
    assert status["guard"]["decisions"][0]["id"] == line["id"]
    assert main(["status", "--json"]) == 0
    shown = orjson.loads(capsys.readouterr().out)["guard"]
    assert shown["mode"] == "block" and shown["blocking"] is True
    assert shown["decisions"][0]["rule"] == "hard_cap"


def test_the_daily_cap_stops_a_prompt_in_the_documented_form(
    publish: Callable[..., dict[str, Any]],
) -> None:
    publish(mode="block", daily_cap_usd=0.5)
    reason = prompt_blocked(hook(user_prompt("s-1")))
    assert reason.startswith("tokenbuddy guard stopped this prompt: today's spend $")
    assert "reached daily_cap_usd $0.50" in reason and "guard allow" in reason
    assert journal()[0]["event"] == "UserPromptSubmit"


def test_below_every_limit_everything_goes_ahead(publish: Callable[..., dict[str, Any]]) -> None:
    publish(mode="block", hard_cap_usd=5000, daily_cap_usd=5000, scripted_session_limit_usd=500)
    assert hook(pre_tool_use("s-1")) == b""
    assert hook(user_prompt("s-1"), entrypoint="sdk-cli") == b""
    assert journal() == [] and guard_log() == ""


def test_a_critical_warning_stops_the_session_it_names_only(
    publish: Callable[..., dict[str, Any]], history: Session
) -> None:
    publish(mode="block")
    rewrite_status(lambda s: s.update(alerts=[critical("cache_collapse", history.session_id)]))
    reason = denied(hook(pre_tool_use(history.session_id)))
    assert "critical warning on this session: no human prompt for 4.2 h" in reason
    assert hook(pre_tool_use("another-session")) == b""
    assert prompt_blocked(hook(user_prompt(history.session_id)))


def test_person_wide_unattended_spend_stops_the_loops_next_iteration(
    publish: Callable[..., dict[str, Any]],
) -> None:
    publish(mode="block")
    rewrite_status(lambda s: s.update(alerts=[critical("unattended_spend", None, "it-1", "it-2")]))
    reason = prompt_blocked(hook(user_prompt("it-3"), entrypoint="sdk-cli"))
    assert "stopped this prompt: no human prompt for 4.2 h in 168 sessions of shop" in reason
    assert denied(hook(pre_tool_use("it-3"), entrypoint="sdk-cli"))
    assert denied(hook(pre_tool_use("it-1"), entrypoint="cli")), "named by the warning"
    assert hook(user_prompt("it-1"), entrypoint="cli") == b"", "a person typing goes ahead"
    assert hook(pre_tool_use("person"), entrypoint="cli") == b""


def test_a_claude_p_loop_found_by_the_detectors_is_stopped_at_its_next_run(
    isolated_environment: Path, publish_logs: Callable[..., dict[str, Any]]
) -> None:
    rng = random.Random(7)
    moment = datetime.now(UTC) - timedelta(minutes=45)
    while moment < datetime.now(UTC) - timedelta(seconds=30):  # claude -p every ~90 s
        run = Session(isolated_environment / "claude", "nightly-report", rng, model=OPUS,
                      context=92_000, entrypoint="sdk-cli")  # fmt: skip
        run.prompt(moment)
        call = moment + timedelta(seconds=5)
        run.response(call, broken=True)
        for _ in range(3):
            call += timedelta(seconds=10)
            run.response(call)
        run.write()
        moment += timedelta(seconds=90)
    figures = publish_logs(mode="block")
    (alert,) = [a for a in figures["alerts"] if a["kind"] == "unattended_spend"]
    assert alert["severity"] == "critical" and len(alert["sessions"]) >= 25
    reason = prompt_blocked(hook(user_prompt("the-next-run"), entrypoint="sdk-cli"))
    assert reason.startswith("tokenbuddy guard stopped this prompt: Unattended spend for ")
    assert denied(hook(pre_tool_use(alert["sessions"][-1]), entrypoint="sdk-cli"))
    assert hook(user_prompt("a-person"), entrypoint="cli") == b"", "a person typing goes ahead"


def test_the_scripted_session_limit_knows_claude_p_by_its_entrypoint(
    publish: Callable[..., dict[str, Any]], history: Session
) -> None:
    figures = publish(mode="block", scripted_session_limit_usd=0.5)
    spent = figures["sessions"][history.session_id]
    reason = denied(hook(pre_tool_use(history.session_id), entrypoint="sdk-cli"))
    assert f"this scripted session (sdk-cli) has spent ${spent:,.2f}" in reason
    assert hook(pre_tool_use(history.session_id), entrypoint="cli") == b""
    assert hook(pre_tool_use(history.session_id), entrypoint=None) == b""
    assert journal()[0]["entrypoint"] == "sdk-cli"


# -- warn, allow ---------------------------------------------------------------------------


def test_warn_mode_never_stops_and_tells_a_session_once(
    publish: Callable[..., dict[str, Any]],
) -> None:
    publish(mode="warn", hard_cap_usd=1)
    first = orjson.loads(hook(pre_tool_use("s-1")))
    assert set(first) == {"systemMessage"}
    assert first["systemMessage"].startswith("tokenbuddy guard (warn mode, nothing stopped): cycle")
    assert hook(pre_tool_use("s-1")) == b"", "already told"
    publish()  # imported: the figures now list the warning
    assert hook(user_prompt("s-1")) == b""
    assert set(orjson.loads(hook(user_prompt("s-2")))) == {"systemMessage"}
    assert [line["session_id"] for line in journal()] == ["s-2"]


def test_an_allow_lifts_blocks_until_it_expires(publish: Callable[..., dict[str, Any]]) -> None:
    publish(mode="block", hard_cap_usd=1)
    assert main(["guard", "allow", "--for", "30m"]) == 0
    assert hook(pre_tool_use("s-1")) == b""
    state = str(app_paths().state_dir)
    expired = [
        {**a, "until_ms": int(time.time() * 1000) - 1} for a in guard_files.read_allows(state)
    ]
    guard_files.write_allows(state, expired)
    assert denied(hook(pre_tool_use("s-1")))


def test_a_session_allow_lifts_that_session_only(publish: Callable[..., dict[str, Any]]) -> None:
    publish(mode="block", hard_cap_usd=1)
    assert main(["guard", "allow", "--session", "s-1", "--for", "2h"]) == 0
    assert hook(pre_tool_use("s-1")) == b""
    assert hook(user_prompt("s-1")) == b""
    assert denied(hook(pre_tool_use("s-2")))
    assert [line["decision"] for line in journal()] == ["allow", "block"]


# -- failing open --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stdin", "logged"),
    [
        (b"", "not JSON"),
        (b"garbage", "not JSON"),
        (b'{"session_id": "s-1", "hook_event_name": "PreToolUse"', "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b"\xff\xfe\x00{", "not JSON"),
        (b'{"session_id": "s-1", "hook_event_name": "Stop"}', "event 'Stop'"),
        (b'{"session_id": 5, "hook_event_name": "PreToolUse"}', "not a PreToolUse"),
    ],
)
def test_garbage_input_fails_open_and_is_logged(
    publish: Callable[..., dict[str, Any]], stdin: bytes, logged: str
) -> None:
    publish(mode="block", hard_cap_usd=1)
    assert hook(stdin) == b""
    assert logged in guard_log()
    assert journal() == []


def test_a_missing_status_file_fails_open_and_starts_a_refresh_of_every_root(
    history: Session,
) -> None:
    assert hook(pre_tool_use(history.session_id)) == b""
    assert "no figures yet" in guard_log()
    status_file = app_paths().status_file
    deadline = time.monotonic() + 60
    while not status_file.exists():
        assert time.monotonic() < deadline, "the refresh never wrote the figures"
        time.sleep(0.05)
    written = orjson.loads(status_file.read_bytes())
    assert history.session_id in written["sessions"], "every root was read, not one session"
    assert written["synced_ms"] == written["updated_ms"]


@pytest.mark.parametrize("content", [b"{not json", b'{"version": 1, "guard": ', b"\xff\xff"])
def test_a_corrupt_status_or_allow_file_fails_open(
    publish: Callable[..., dict[str, Any]], content: bytes
) -> None:
    publish(mode="block", hard_cap_usd=1)
    allows = Path(guard_files.allows_path(str(app_paths().state_dir)))
    allows.write_bytes(content)
    assert hook(pre_tool_use("s-1")) == b""
    assert "allow file" in guard_log()
    allows.unlink()
    app_paths().status_file.write_bytes(content)
    assert hook(pre_tool_use("s-1")) == b""
    assert "status.json is unreadable" in guard_log()


def test_a_hook_that_cannot_finish_in_time_lets_the_call_through(
    publish: Callable[..., dict[str, Any]],
) -> None:
    publish(mode="block", hard_cap_usd=1)
    status_file = app_paths().status_file
    status_file.unlink()
    os.mkfifo(status_file)  # opening it for reading waits for a writer forever
    started = time.monotonic()
    assert hook(pre_tool_use("s-1")) == b""
    assert time.monotonic() - started < 5
    assert "OutOfTime: the guard hook took over 2 s; the call went ahead" in guard_log()
    status_file.unlink()


def test_a_locked_ledger_does_not_hold_the_hook_up(
    publish: Callable[..., dict[str, Any]],
) -> None:
    publish(mode="block", hard_cap_usd=1)
    rewrite_status(lambda s: s.update(updated_ms=s["updated_ms"] - 3_600_000))  # old: refresh
    started_ms = int(time.time() * 1000)
    holder = sqlite3.connect(app_paths().ledger, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        reason = denied(hook(pre_tool_use("s-1")))
        elapsed = time.monotonic() - started
        lock = str(app_paths().state_dir / EVERY_ROOT_LOCK)
        deadline = time.monotonic() + 20
        while not _busy(lock):  # the refresh it started, waiting for the ledger
            assert time.monotonic() < deadline, "no refresh was started"
            time.sleep(0.05)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "reached hard_cap_usd $1.00" in reason
    assert elapsed < 1.5, f"the hook took {elapsed:.2f} s with the ledger locked"
    deadline = time.monotonic() + 60
    while orjson.loads(app_paths().status_file.read_bytes())["synced_ms"] < started_ms:
        assert time.monotonic() < deadline, "the refresh never finished once the ledger was free"
        time.sleep(0.05)
