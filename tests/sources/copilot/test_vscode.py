"""Copilot Chat in VS Code: documents rewritten whole, mutation logs replayed, a chat in two
workspaces counted once, requests without usage, AI credits, and the CLI end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sources.copilot import files as f
from tokenbuddy.cli.main import main
from tokenbuddy.core.records import COPILOT
from tokenbuddy.services.ingest import sync
from tokenbuddy.sources.copilot import vscode
from tokenbuddy.sources.discovery import LogRoot, log_roots
from tokenbuddy.store.ledger import Ledger

T0 = f.BASE_MS


def roots_of(user: Path) -> list[LogRoot]:
    environ = {"TOKENBUDDY_VSCODE_USER_DIR": str(user), "TOKENBUDDY_COPILOT_DIR": str(user / "no")}
    return [root for root in log_roots(environ, user.parent) if root.source == COPILOT]


def rows(ledger: Ledger) -> list[tuple[object, ...]]:
    query = (
        "SELECT dedup_key, model, project, input_tokens, output_tokens, reasoning_tokens,"
        " reported_cost_usd, billing_units, ts_ms FROM requests ORDER BY dedup_key"
    )
    return [tuple(row) for row in ledger.db.execute(query).fetchall()]


def test_documents_and_mutation_logs_count_each_request_once(tmp_path: Path) -> None:
    user = tmp_path / "User"
    chats = f.workspace(user, "abc", "file:///home/dev/my%20app")
    document = chats / "c1.json"
    document.write_text(json.dumps(f.chat("c1", f.request("r1", T0, 1_000, 10))))
    log = chats / "c2.jsonl"
    log.write_bytes(f.mutation_log(f.chat("c2", f.request("r2", T0, 0, 0))))
    roots = roots_of(user)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync(ledger, roots)
        assert len(rows(ledger)) == 1  # r2 has no usage yet
        answered = f.request("r2", T0, 2_000, 30, nano=3 * 10**8, details="GPT-5 • 0.33x")
        with log.open("ab") as handle:
            auto = f.request("r3", T0 + 9, 500, 5, model="copilot/auto")
            resolved = ["requests", 1, "result", "metadata", "resolvedModel"]
            handle.write(f.lines(
                {"kind": 1, "k": ["requests", 0, "result"], "v": answered["result"]},
                {"kind": 2, "k": ["requests"], "v": [auto]},
                {"kind": 1, "k": resolved, "v": "gpt-5-mini"},
            ))  # fmt: skip
        document.write_text(json.dumps(f.chat("c1", f.request("r1", T0, 1_000, 12))))
        sync(ledger, roots)
        app, sonnet = "/home/dev/my app", "claude-sonnet-4.5"
        assert rows(ledger) == [
            ("copilot-vscode:r1", sonnet, app, 1_000, 12, 5, None, 1.0, T0 + 2_000),
            ("copilot-vscode:r2", sonnet, app, 2_000, 30, 5, 0.003, 0.33, T0 + 2_000),
            ("copilot-vscode:r3", "gpt-5-mini", app, 500, 5, 5, None, 1.0, T0 + 2_009),
        ]
        assert ledger.db.execute("SELECT COUNT(*) FROM prompts").fetchone()[0] == 3
        stored = ledger.files()[str(log)]
        assert stored.notes == {} and stored.skipped == {}


def test_a_copied_chat_a_half_written_save_and_an_empty_window(tmp_path: Path) -> None:
    user = tmp_path / "User"
    one = f.workspace(user, "a", "file:///home/dev/a")
    two = f.workspace(user, "b", "file:///home/dev/b")
    chat = json.dumps(f.chat("c1", f.request("r1", T0, 1_000, 10)))
    (one / "c1.json").write_text(chat)
    (two / "c1.json").write_text(chat)  # the same chat moved to another window
    broken = two / "c9.json"
    broken.write_text(chat[:-9])
    empty = user / "globalStorage" / "emptyWindowChatSessions"
    empty.mkdir(parents=True)
    (empty / "c5.jsonl").write_bytes(f.mutation_log(f.chat("c5", f.request("r5", T0, 7, 3))))
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        summary = sync(ledger, roots_of(user))
        assert summary.errors == []
        assert [row[0] for row in rows(ledger)] == ["copilot-vscode:r1", "copilot-vscode:r5"]
        assert ledger.files()[str(broken)].skipped == {"invalid JSON": 1}


def test_replay_applies_sets_pushes_truncations_and_deletes() -> None:
    state = {"requests": [{"a": 1}, {"a": 2}], "title": "x"}
    assert vscode.mutate(state, {"kind": 2, "k": ["requests"], "v": [{"a": 3}], "i": 1})
    assert vscode.mutate(state, {"kind": 1, "k": ["requests", 1, "a"], "v": 9})
    assert vscode.mutate(state, {"kind": 3, "k": ["title"]})
    assert not vscode.mutate(state, {"kind": 1, "k": ["requests", 7, "a"], "v": 1})
    assert state == {"requests": [{"a": 1}, {"a": 9}]}


def test_report_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    user = tmp_path / "User"
    chats = f.workspace(user, "abc", "file:///home/dev/app")
    (chats / "c1.json").write_text(
        json.dumps(f.chat("c1", f.request("r1", T0, 1_000, 10, nano=10**9)))
    )
    home = tmp_path / ".copilot"
    f.cli_session(home, "s1", f.start(T0, "s1", "gpt-5"), f.message(T0 + 1, 20, "gpt-5"),
                  f.shutdown(T0 + 2, {"gpt-5": f.metric(300, 50, 100, 0, 1.0)}))  # fmt: skip
    monkeypatch.setenv("TOKENBUDDY_VSCODE_USER_DIR", str(user))
    monkeypatch.setenv("TOKENBUDDY_COPILOT_DIR", str(home))
    assert main(["report", "daily", "--source", COPILOT, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    totals = report["totals"]
    assert totals["requests"] == 2
    assert (totals["input_tokens"], totals["output_tokens"], totals["cache_read_tokens"]) == (
        1_200,
        60,
        100,
    )


def test_usage_vscode_itself_keeps_where_the_metadata_has_none(tmp_path: Path) -> None:
    """Builds that keep the counts as the result's ``usage`` (``IChatAgentResult.usage``) or
    as a ``{"kind": "usage"}`` response part (``IChatUsage``: credits, the model ``auto``
    ran), not in the Copilot Chat extension's result metadata."""
    user = tmp_path / "User"
    chats = f.workspace(user, "abc", "file:///home/dev/app")
    in_result = f.request("r1", T0, 0, 0)
    in_result["result"]["usage"] = {"promptTokens": 4_000, "completionTokens": 40}
    as_part = f.request("r2", T0 + 5, 0, 0, model="copilot/auto")
    as_part["response"] = [
        {"kind": "markdownContent", "content": {"value": "done"}},
        {"kind": "usage", "promptTokens": 3_000, "completionTokens": 30,
         "copilotCredits": 2.5, "actualModelId": "copilot/gpt-5-mini"},
    ]  # fmt: skip
    (chats / "c1.json").write_text(json.dumps(f.chat("c1", in_result, as_part)))
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync(ledger, roots_of(user))
        assert rows(ledger) == [
            ("copilot-vscode:r1", "claude-sonnet-4.5", "/home/dev/app", 4_000, 40, 5, None,
             1.0, T0 + 2_000),
            ("copilot-vscode:r2", "gpt-5-mini", "/home/dev/app", 3_000, 30, 5, 0.025,
             1.0, T0 + 2_005),
        ]  # fmt: skip


def test_remote_servers_user_dirs_are_read_by_default(tmp_path: Path) -> None:
    environ = {"TOKENBUDDY_COPILOT_DIR": str(tmp_path / "cli")}
    paths = [root.path for root in log_roots(environ, tmp_path) if root.source == COPILOT]
    for server in (".vscode-server", ".vscode-server-insiders"):
        assert tmp_path / server / "data" / "User" in paths
