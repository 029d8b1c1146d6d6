"""Gemini CLI's chats into the ledger: each call once, in tokenbuddy's token meaning."""

from __future__ import annotations

import queue
import shutil
from pathlib import Path

import orjson
import pytest

from tests.sources.gemini_cli import files
from tests.sources.gemini_cli.files import JsonlChat, gemini, tokens, user
from tokenbuddy.core.records import GEMINI_CLI, SkipReason
from tokenbuddy.services.ingest import sync, sync_paths
from tokenbuddy.sources import gemini_cli
from tokenbuddy.sources.discovery import LogRoot, log_roots
from tokenbuddy.sources.gemini_usage import ABORTED_CALL
from tokenbuddy.sources.locations import LogDir
from tokenbuddy.sources.watch import LogWatcher
from tokenbuddy.store.ledger import Ledger

ROOT = "/home/dev/app"
SESSION = "5e55a0b1-0000-4000-8000-000000000001"
SUBAGENT = "5ab0a6e1-0000-4000-8000-000000000002"
FLASH = "gemini-2.5-flash"


def roots_for(home: Path) -> list[LogRoot]:
    environ = {gemini_cli.ENV_VAR: str(home)}
    return [root for root in log_roots(environ, home.parent) if root.source == GEMINI_CLI]


def totals(ledger: Ledger) -> tuple[int, ...]:
    row = ledger.db.execute(
        "SELECT COUNT(*), SUM(input_tokens), SUM(cache_read_tokens), SUM(output_tokens),"
        " SUM(reasoning_tokens) FROM requests WHERE source = ?",
        (GEMINI_CLI,),
    ).fetchone()
    return tuple(int(value or 0) for value in row)


def build_home(home: Path) -> tuple[Path, JsonlChat]:
    """A legacy chat in a hash dir, copied into the slug dir by the storage migration,
    resumed there into a ``.jsonl`` (the migration copies its messages) that goes on."""
    files.register(home, {ROOT: "app"})
    hashed = files.project_dir(home, files.project_hash(ROOT))
    first = [
        user("u1", "2025-09-01T10:00:00.000Z"),
        gemini("g1", "2025-09-01T10:00:09.000Z", FLASH, tokens(10_000, 500, 4_000, 300)),
    ]
    legacy = files.legacy_chat(hashed, SESSION, ROOT, first)
    slug = files.project_dir(home, "app", ROOT)
    shutil.copytree(hashed / "chats", slug / "chats", dirs_exist_ok=True)
    chat = JsonlChat(slug / "chats" / legacy.name.replace(".json", ".jsonl"), SESSION, ROOT)
    for message in first:
        chat.append(message)
    chat.update(sessionId=SESSION)
    chat.append(gemini("g2", "2025-12-01T09:01:00.000Z", FLASH, None))
    second = tokens(20_000, 1_000, 15_000, tool=200)
    chat.append(gemini("g2", "2025-12-01T09:01:00.000Z", FLASH, second, toolCalls=[]))
    chat.update(messages=[*first, gemini("g2", "2025-12-01T09:01:00.000Z", FLASH, second)])
    chat.append({"$rewindTo": "g2"})
    chat.append(gemini("g3", "2025-12-01T09:02:00.000Z", FLASH, tokens(0, 0)))
    chat.append(
        {"id": "i1", "timestamp": "2025-12-01T09:02:01.000Z", "type": "info", "content": "x"}
    )
    chat.append({"id": "c1", "timestamp": "2025-12-01T09:02:02.000Z", "type": "compaction"})
    chat.append({"unknown": True})
    chat.append(gemini("g5", "2025-12-01T09:03:00.000Z", "gemini-9-ultra", tokens(1_000, 100)))
    sub = JsonlChat.subagent(slug, SESSION, SUBAGENT, ROOT)
    sub.append(user("su1", "2025-12-01T09:04:00.000Z", "the task the parent gave"))
    sub.append(gemini("g4", "2025-12-01T09:04:30.000Z", FLASH, tokens(3_000, 200)))
    return legacy, chat


EXPECTED = (4, 6_000 + 5_200 + 3_000 + 1_000, 4_000 + 15_000, 800 + 1_000 + 200 + 100, 300)
"""g1: 10k prompt - 4k cached, 500 out + 300 thoughts; g2: 20k - 15k cached + 200 tool
prompt, 1k out; g4 (subagent): 3k, 200; g5 (unknown model): 1k, 100."""
FLASH_COST = (14_200 * 0.30 + 19_000 * 0.03 + 2_000 * 2.50) / 1e6


def test_every_call_counts_once_across_copies_migrations_and_updates(tmp_path: Path) -> None:
    home = tmp_path / ".gemini"
    _legacy, chat = build_home(home)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        summary = sync(ledger, roots_for(home))
        assert summary.errors == []
        assert totals(ledger) == EXPECTED
        rows = ledger.db.execute(
            "SELECT dedup_key, session_id, project, model, cost_usd, is_sidechain, agent_id"
            " FROM requests ORDER BY dedup_key"
        ).fetchall()
        by_key = {row[0]: row[1:] for row in rows}
        assert by_key[f"gm:{SUBAGENT}:g4"][:2] == (SESSION, ROOT)
        assert by_key[f"gm:{SUBAGENT}:g4"][4:] == (1, SUBAGENT)
        assert by_key[f"gm:{SESSION}:g5"][2:4] == ("gemini-9-ultra", None)  # unpriced, not $0
        assert {row[2] for row in rows} == {ROOT}
        cost = ledger.db.execute("SELECT SUM(cost_usd) FROM requests").fetchone()[0]
        assert cost == pytest.approx(FLASH_COST)
        prompts = ledger.db.execute("SELECT DISTINCT session_id, ts_ms FROM prompts").fetchall()
        assert [row[0] for row in prompts] == [SESSION]  # the subagent's task is no prompt
        stored = ledger.files()[str(chat.path)]
        assert stored.skipped == {SkipReason.UNKNOWN_TYPE: 2, ABORTED_CALL: 1}
        assert stored.notes == {gemini_cli.NO_TOKENS: 1, gemini_cli.REPEATED_MESSAGES: 1}


def test_a_legacy_chat_is_read_whole_on_every_rewrite(tmp_path: Path) -> None:
    home = tmp_path / ".gemini"
    files.register(home, {ROOT: "app"})
    directory = files.project_dir(home, files.project_hash(ROOT))
    grown = [gemini("g1", "2025-09-01T10:00:09.000Z", FLASH, tokens(1_000, 10))]
    path = files.legacy_chat(directory, SESSION, ROOT, grown)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync(ledger, roots_for(home))
        grown += [gemini("g2", "2025-09-01T10:01:00.000Z", FLASH, tokens(2_000, 20, 500))]
        files.legacy_chat(directory, SESSION, ROOT, grown)
        sync(ledger, roots_for(home))
        assert totals(ledger) == (2, 2_500, 500, 30, 0)
        path.write_bytes(path.read_bytes()[:-40])  # caught mid-save
        sync(ledger, roots_for(home))
        assert totals(ledger) == (2, 2_500, 500, 30, 0)
        assert ledger.files()[str(path)].skipped == {SkipReason.INVALID_JSON: 1}
        project = ledger.db.execute("SELECT DISTINCT project FROM requests").fetchall()
        assert project == [(ROOT,)]  # the hash dir, matched against projects.json


def test_a_line_still_being_written_waits_and_live_writes_are_followed(tmp_path: Path) -> None:
    home = tmp_path / ".gemini"
    chat = JsonlChat.main(files.project_dir(home, "app", ROOT), SESSION, ROOT)
    chat.append(gemini("g1", "2025-12-01T09:01:00.000Z", FLASH, tokens(1_000, 10)))
    roots = roots_for(home)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync(ledger, roots)
        line = orjson.dumps(gemini("g2", "2025-12-01T09:02:00.000Z", FLASH, tokens(500, 5)))
        chat.append(line[:30])
        sync(ledger, roots)
        assert totals(ledger) == (1, 1_000, 0, 10, 0)
        assert ledger.files()[str(chat.path)].skipped == {}
        batches: queue.Queue[frozenset[str]] = queue.Queue()
        watcher = LogWatcher(roots, batches.put, debounce=0.05)
        watcher.start()
        try:
            chat.append(line[30:] + b"\n")
            changed = batches.get(timeout=10)
        finally:
            watcher.stop()
        assert str(chat.path) in changed
        logs = chat.path.parent.parent / "logs.json"
        logs.write_bytes(b"[]")  # the watcher hands this over too: not a chat
        sync_paths(ledger, [(path, GEMINI_CLI) for path in (*changed, str(logs))])
        assert totals(ledger) == (2, 1_500, 0, 15, 0)
        assert ledger.files()[str(chat.path)].cursor.state["offset"] == chat.path.stat().st_size


def test_gemini_homes_from_the_override_the_agents_own_variable_or_the_default(
    tmp_path: Path,
) -> None:
    def dirs(environ: dict[str, str]) -> list[LogDir]:
        return gemini_cli.log_dirs(environ, tmp_path, "linux", tmp_path / "none")

    assert dirs({gemini_cli.ENV_VAR: "/a, /b"}) == [
        LogDir(Path("/a/tmp"), gemini_cli.ENV_VAR),
        LogDir(Path("/b/tmp"), gemini_cli.ENV_VAR),
    ]
    assert dirs({"GEMINI_CLI_HOME": "/p"}) == [LogDir(Path("/p/.gemini/tmp"), "GEMINI_CLI_HOME")]
    assert dirs({}) == [LogDir(tmp_path / ".gemini" / "tmp", "default")]


def test_find_lists_chats_and_subagents_only(tmp_path: Path) -> None:
    home = tmp_path / ".gemini"
    build_home(home)
    (home / "tmp" / "app" / "checkpoint-mine.json").write_bytes(b"[]")
    (home / "tmp" / "app" / "logs.json").write_bytes(b"[]")
    found = gemini_cli.find(home / "tmp", [])
    names = sorted(Path(path).relative_to(home / "tmp").as_posix() for path in found)
    hashed = files.project_hash(ROOT)
    legacy = f"session-2025-09-01T10-00-{SESSION[:8]}"
    assert names == sorted([
        f"{hashed}/chats/{legacy}.json", f"app/chats/{legacy}.json",
        f"app/chats/{legacy}.jsonl", f"app/chats/{SESSION}/{SUBAGENT}.jsonl",
    ])  # fmt: skip


def test_the_history_builder_makes_a_readable_home(tmp_path: Path) -> None:
    home = tmp_path / ".gemini"
    files.history(home, sessions=10, calls=8)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        summary = sync(ledger, roots_for(home))
        assert summary.errors == []
        assert totals(ledger)[0] == 80
