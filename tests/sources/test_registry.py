"""The source registry: every agent has discovery, a reader and watch hints, the names
agree with the rest of tokenbuddy, and an agent added by one module and one registry
line is discovered, read and followed live without any other change."""

from __future__ import annotations

import queue
from pathlib import Path

import orjson
import pytest

from tests.sources import fake_agent
from tokenbuddy.cli.main import build_parser
from tokenbuddy.core.records import CURSOR, SOURCES, SkipReason
from tokenbuddy.services.ingest import sync, sync_paths
from tokenbuddy.sources import registry
from tokenbuddy.sources.discovery import log_roots, roots_at
from tokenbuddy.sources.locations import LogDir
from tokenbuddy.sources.watch import LogWatcher, source_of
from tokenbuddy.store.ledger import Ledger

NAMES = [source.name for source in registry.LOG_SOURCES]


@pytest.mark.parametrize("source", registry.LOG_SOURCES, ids=NAMES)
def test_every_source_has_discovery_a_reader_and_watch_hints(
    source: registry.LogSource, tmp_path: Path
) -> None:
    found = source.log_dirs({}, tmp_path, "linux", tmp_path / "no-windows")
    assert found and all(isinstance(entry, LogDir) for entry in found)
    kinds = (source.transcripts, source.documents, source.chat_store)
    assert sum(kind is not None for kind in kinds) == 1
    if source.transcripts is not None:
        assert callable(source.transcripts.open)
    if source.documents is not None:
        assert callable(source.documents.read) and callable(source.documents.find)
    assert source.watch.suffixes or source.watch.names


def test_names_are_unique_and_agree_with_the_record_sources_and_the_cli() -> None:
    assert len(set(NAMES)) == len(NAMES)
    # ``cursor`` is billed usage pulled from Cursor's API: no local log to read.
    assert set(SOURCES) == {*NAMES, CURSOR}
    parser = build_parser()
    for name in NAMES:
        assert parser.parse_args(["report", "daily", "--source", name]).source == name


def test_doctor_lists_every_source_s_roots(tmp_path: Path) -> None:
    """``doctor``'s log-root rows are the discovered roots, registry order kept."""
    roots = log_roots({}, tmp_path, "linux", tmp_path / "no-windows")
    assert list(dict.fromkeys(root.source for root in roots)) == NAMES


def request(number: int) -> bytes:
    line = {"id": number, "at": "2026-03-01T10:00:00Z", "model": "fake-1", "in": 7, "out": 3}
    return orjson.dumps(line) + b"\n"


def test_an_agent_added_by_one_module_and_one_line_is_discovered_read_and_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "LOG_SOURCES", (*registry.LOG_SOURCES, fake_agent.REGISTRY_LINE))
    agent_home = tmp_path / "agent"
    logs = agent_home / "logs" / "2026"
    logs.mkdir(parents=True)
    (logs / "one.ndjson").write_bytes(request(1) + request(2))
    (logs / "notes.jsonl").write_bytes(request(3))  # not this agent's suffix
    environ = {"FAKE_AGENT_HOME": str(agent_home), "CLAUDE_CONFIG_DIR": str(tmp_path / "none")}

    roots = [root for root in log_roots(environ, tmp_path) if root.source == fake_agent.NAME]
    assert [(root.path, root.origin) for root in roots] == [
        (agent_home / "logs", "FAKE_AGENT_HOME")
    ]
    assert [root.source for root in roots_at(agent_home)] == [fake_agent.NAME]

    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert sync(ledger, roots).requests_written == 2
        batches: queue.Queue[frozenset[str]] = queue.Queue()
        watcher = LogWatcher(roots, batches.put, debounce=0.05)
        watcher.start()
        try:
            with (logs / "one.ndjson").open("ab") as handle:
                handle.write(request(4))
            changed = batches.get(timeout=10)
        finally:
            watcher.stop()
        assert changed == {str(logs / "one.ndjson")}
        assert [source_of(path, roots) for path in changed] == [fake_agent.NAME]
        followed = [(path, fake_agent.NAME) for path in changed]
        assert sync_paths(ledger, followed).requests_written == 1
        stored = ledger.db.execute(
            "SELECT source, COUNT(*) FROM requests GROUP BY source"
        ).fetchall()
    assert stored == [(fake_agent.NAME, 3)]


def chat(session: str, *messages: tuple[int, int]) -> bytes:
    """A document agent's chat holding one request per (id, output tokens)."""
    return orjson.dumps(
        {
            "session": session,
            "messages": [
                {"id": i, "at": "2026-03-01T10:00:00Z", "model": "fake-1", "in": 5, "out": out}
                for i, out in messages
            ],
        }
    )


def test_a_document_agent_is_read_whole_on_every_rewrite_and_counts_each_call_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chat rewritten whole on every message: each rewrite is read again, whole; a
    call whose counts grew keeps its final counts; a half-written save is a counted skip
    until the next save; the file's counters are the last read's, not a sum."""
    from tests.sources import fake_document_agent as agent

    monkeypatch.setattr(registry, "LOG_SOURCES", (*registry.LOG_SOURCES, agent.REGISTRY_LINE))
    chats = tmp_path / "docs" / "chats"
    chats.mkdir(parents=True)
    document = chats / "s1.chat.json"
    document.write_bytes(chat("s1", (1, 10)))
    (chats / "notes.json").write_bytes(b"{}")  # not one of its documents
    environ = {"FAKE_DOCS_HOME": str(tmp_path / "docs"), "CLAUDE_CONFIG_DIR": str(tmp_path / "no")}
    roots = [root for root in log_roots(environ, tmp_path) if root.source == agent.NAME]

    def totals(ledger: Ledger) -> tuple[int, int]:
        row = ledger.db.execute("SELECT COUNT(*), SUM(output_tokens) FROM requests").fetchone()
        return int(row[0]), int(row[1])

    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert sync(ledger, roots).requests_written == 1
        assert sync(ledger, roots).files_read == 0  # unchanged: not read again
        document.write_bytes(chat("s1", (1, 12), (2, 20)))  # the first call grew
        sync(ledger, roots)
        assert totals(ledger) == (2, 32)
        document.write_bytes(chat("s1", (1, 12), (2, 20))[:-9])  # caught mid-save
        summary = sync(ledger, roots)
        assert summary.errors == [] and totals(ledger) == (2, 32)
        stored = ledger.files()[str(document)]
        assert stored.skipped == {SkipReason.INVALID_JSON: 1}
        assert stored.cursor.state == {"read": 2}  # a failed read leaves the state as it was

        batches: queue.Queue[frozenset[str]] = queue.Queue()
        watcher = LogWatcher(roots, batches.put, debounce=0.05)
        watcher.start()
        try:
            document.write_bytes(chat("s1", (1, 12), (2, 20), (3, 30)))
            changed = batches.get(timeout=10)
        finally:
            watcher.stop()
        assert str(document) in changed
        sync_paths(ledger, [(str(document), agent.NAME)])
        assert totals(ledger) == (3, 62)
        stored = ledger.files()[str(document)]
        assert (stored.lines, stored.records, stored.skipped) == (1, 3, {})
        assert stored.cursor.state == {"read": 3}


@pytest.mark.parametrize(
    ("name", "stray"),
    [
        ("copilot", "settings.json"),
        ("copilot", "workspaceStorage/abc/workspace.json"),
        ("gemini-cli", "tmp/proj/logs.json"),
        ("opencode", "storage/part/msg_1/prt_1.json"),
        ("cline", "saoudrizwan.claude-dev/tasks/t1/api_conversation_history.json"),
    ],
)
def test_a_stray_file_written_under_a_document_root_is_not_read(
    name: str, stray: str, tmp_path: Path
) -> None:
    """The live watcher hands over every ``.json`` written under a root; only the source's
    own documents are read, and no other file gets a row in the ledger."""
    path = tmp_path / "root" / stray
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"not": "a chat"}')
    documents = registry.source(name).documents
    assert documents is not None and not documents.is_document(str(path))
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        summary = sync_paths(ledger, [(str(path), name)])
        assert summary.files_seen == 0 and ledger.files() == {}


def test_a_reader_that_fails_on_one_file_costs_that_file_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader's flaw on one file (here: a record it cannot handle) is that file's error,
    named in doctor and tried again on the next pass; the other files are read."""
    from tests.sources import fake_document_agent as agent

    def fragile(path: str, state: dict[str, object], stats: object) -> object:
        if path.endswith("bad.chat.json"):
            raise TypeError("unhashable type: 'list'")
        return agent.read(path, state, stats)  # type: ignore[arg-type]

    line = agent.REGISTRY_LINE._replace(reader=registry.Documents(fragile, agent.find))  # type: ignore[arg-type]
    monkeypatch.setattr(registry, "LOG_SOURCES", (*registry.LOG_SOURCES, line))
    chats = tmp_path / "docs" / "chats"
    chats.mkdir(parents=True)
    (chats / "good.chat.json").write_bytes(chat("s1", (1, 10)))
    (chats / "bad.chat.json").write_bytes(chat("s2", (2, 20)))
    environ = {"FAKE_DOCS_HOME": str(tmp_path / "docs"), "CLAUDE_CONFIG_DIR": str(tmp_path / "no")}
    roots = [root for root in log_roots(environ, tmp_path) if root.source == agent.NAME]
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        summary = sync(ledger, roots)
        assert summary.requests_written == 1
        assert len(summary.errors) == 1
        assert summary.errors[0].startswith(f"cannot parse {chats / 'bad.chat.json'}: TypeError")
        assert ledger.files()[str(chats / "bad.chat.json")].error == summary.errors[0]
