"""Cline's tasks through discovery, the ledger, live following and the CLI: rewrites
counted once with their final counts, copies once, exact totals and prices."""

from __future__ import annotations

import json
import queue
from pathlib import Path

import pytest

from tests.sources.cline import files
from tests.sources.cline.files import BASE_TS, CLINE, KILO, ROO, said, started, usage
from tokenbuddy.cli.main import main
from tokenbuddy.core.records import CLINE as SOURCE
from tokenbuddy.core.records import SkipReason
from tokenbuddy.services.ingest import sync, sync_paths
from tokenbuddy.sources.cline import layout
from tokenbuddy.sources.discovery import LogRoot, log_roots, roots_at
from tokenbuddy.sources.watch import LogWatcher, source_of
from tokenbuddy.store.ledger import Ledger

T = BASE_TS
SONNET = "claude-sonnet-4-5-20250929"


def cline_roots(environ: dict[str, str], home: Path) -> list[LogRoot]:
    return [root for root in log_roots(environ, home, "linux") if root.source == SOURCE]


def test_default_roots_on_every_platform_and_the_override(tmp_path: Path) -> None:
    linux = [root.path for root in cline_roots({}, tmp_path)]
    assert linux[0] == tmp_path / ".config" / "Code" / "User" / "globalStorage"
    assert tmp_path / ".config" / "Windsurf" / "User" / "globalStorage" in linux
    assert linux[-1] == tmp_path / ".cline" / "data"
    for server in (".vscode-server", ".vscode-server-insiders", ".cursor-server"):
        assert tmp_path / server / "data" / "User" / "globalStorage" in linux
    mac = layout.log_dirs({}, tmp_path, "darwin", tmp_path / "none")
    support = tmp_path / "Library" / "Application Support"
    assert mac[2].path == support / "VSCodium" / "User" / "globalStorage"
    windows = layout.log_dirs({"APPDATA": "C:/AppData"}, tmp_path, "win32", tmp_path / "none")
    assert windows[1].path == Path("C:/AppData", "Code - Insiders", "User", "globalStorage")
    users = tmp_path / "Users"
    (users / "dev" / "AppData" / "Roaming" / "Cursor" / "User").mkdir(parents=True)
    wsl = layout.log_dirs({"WSL_DISTRO_NAME": "Ubuntu"}, tmp_path, "linux", users)
    windows_side = users / "dev" / "AppData" / "Roaming" / "Cursor" / "User" / "globalStorage"
    assert (windows_side, "WSL") in wsl

    cli_data = tmp_path / "cline-data"
    (cli_data / "tasks").mkdir(parents=True)
    environ = {layout.VARIABLE: f"{tmp_path / 'User'}, {cli_data}"}
    assert [(root.path, root.origin) for root in cline_roots(environ, tmp_path)] == [
        (tmp_path / "User" / "globalStorage", layout.VARIABLE),
        (cli_data, layout.VARIABLE),
    ]


def test_find_reads_only_the_known_extensions_task_documents(tmp_path: Path) -> None:
    storage = tmp_path / "User" / "globalStorage"
    wanted = [
        files.write_messages(files.task_dir(storage, ext, "t1"), []) for ext in (CLINE, ROO, KILO)
    ]
    other = files.task_dir(storage, "someone.else", "t1")
    files.write_messages(other, [])
    (storage / CLINE / "tasks" / "t1" / "api_conversation_history.json").write_bytes(b"[]")
    assert layout.find(storage, []) == sorted(str(path) for path in wanted)
    assert [root.source for root in roots_at(tmp_path / "User")] == [SOURCE]
    cli = files.write_messages(files.task_dir(tmp_path / ".cline", "data", "t9"), [])
    assert layout.find(tmp_path / ".cline" / "data", []) == [str(cli)]
    assert layout.entrypoint_of(str(cli)) == layout.CLI_ENTRYPOINT


def totals(ledger: Ledger) -> tuple[int, int, int]:
    row = ledger.db.execute(
        "SELECT COUNT(*), SUM(input_tokens), SUM(output_tokens) FROM requests"
    ).fetchone()
    return int(row[0]), int(row[1] or 0), int(row[2] or 0)


def test_rewrites_copies_and_live_following_count_each_call_once(tmp_path: Path) -> None:
    """The task rewritten whole as its request fills in, a half-written save, a message
    deleted, the same task copied to a second extension, and a write followed live under
    Cursor's ``User`` dir (whose own root holds Cline's)."""
    user = tmp_path / "Cursor" / "User"
    storage = user / "globalStorage"
    directory = files.task_dir(storage, CLINE, "t1")
    files.write_metadata(directory, (T, SONNET, "anthropic"))
    first = started(T + 1, usage(10, 100))
    document = files.write_messages(directory, [said(T, "task", "go"), started(T + 1, {})])
    environ = {layout.VARIABLE: str(user), "TOKENBUDDY_CURSOR_DIR": str(user)}
    found = log_roots(environ, tmp_path, "linux")
    roots = [root for root in found if root.source in (SOURCE, "cursor-local")]
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync(ledger, roots)
        assert totals(ledger) == (0, 0, 0)  # the request has no usage yet
        files.write_messages(directory, [said(T, "task", "go"), first])
        sync(ledger, roots)
        assert totals(ledger) == (1, 10, 100)
        files.write_messages(directory, [first, started(T + 2, usage(20, 5))])
        sync(ledger, roots)
        document.write_bytes(document.read_bytes()[:-5])  # caught mid-save
        summary = sync(ledger, roots)
        assert summary.errors == [] and totals(ledger) == (2, 30, 105)
        assert ledger.files()[str(document)].skipped == {SkipReason.INVALID_JSON: 1}
        files.write_messages(directory, [first])  # the second request's message deleted
        copy = files.task_dir(storage, ROO, "t1")  # the same task under another extension
        files.write_messages(copy, [first])
        sync(ledger, roots)
        assert totals(ledger) == (2, 30, 105)

        batches: queue.Queue[frozenset[str]] = queue.Queue()
        watcher = LogWatcher(roots, batches.put, debounce=0.05)
        watcher.start()
        try:
            files.write_messages(directory, [first, started(T + 3, usage(30, 7))])
            changed = batches.get(timeout=10)
        finally:
            watcher.stop()
        assert str(document) in changed
        assert source_of(str(document), roots) == SOURCE
        assert source_of(str(storage / "state.vscdb"), roots) == "cursor-local"
        sync_paths(ledger, [(str(document), SOURCE)])
        assert totals(ledger) == (3, 60, 112)


def test_report_through_the_cli_has_exact_totals_and_unpriced_models(
    isolated_environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    user = isolated_environment / "vscode" / "User"
    storage = user / "globalStorage"
    cline_task = files.task_dir(storage, CLINE, "c1")
    files.write_metadata(cline_task, (T, SONNET, "anthropic"))
    files.write_messages(
        cline_task,
        [
            said(T, "task", "go"),
            started(T + 1, usage(1_000, 2_000, 10_000, 100_000, 0.1005)),
            started(T + 2, usage(0, 0, cancelReason="user_cancelled")),
        ],
    )
    roo_task = files.task_dir(storage, ROO, "r1")
    files.write_history_item(roo_task, "/home/dev/roo")
    openai_style = usage(5_000, 100, 0, 4_000, 0.5, apiProtocol="openai")
    files.write_messages(roo_task, [started(T + 3, openai_style)])
    monkeypatch.setenv(layout.VARIABLE, str(user))

    assert main(["report", "daily", "--source", SOURCE, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {key: report["totals"][key] for key in ("requests", "input_tokens")} == {
        "requests": 2,
        "input_tokens": 2_000,
    }
    assert report["totals"]["output_tokens"] == 2_100
    assert report["totals"]["cache_creation_tokens"] == 10_000
    assert report["totals"]["cache_read_tokens"] == 104_000
    # Sonnet 4.5 at list price: 1k in $0.003, 2k out $0.03, 10k writes $0.0375, 100k reads $0.03.
    assert report["totals"]["cost_usd"] == pytest.approx(0.1005)
    assert report["unpriced_models"] == {"": 1}


def test_the_benchmark_history_is_read_in_full(tmp_path: Path) -> None:
    files.history(tmp_path / "User", sessions=6, calls=5, seed=3)
    roots = [LogRoot(SOURCE, tmp_path / "User" / "globalStorage", "test")]
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert sync(ledger, roots).requests_written == 30
        entrypoints = ledger.db.execute("SELECT DISTINCT entrypoint FROM requests").fetchall()
    assert sorted(row[0] for row in entrypoints) == ["cline", "kilo-code", "roo-code"]
