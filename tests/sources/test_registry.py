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
from tokenbuddy.core.records import CURSOR, SOURCES
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
    assert (source.transcripts is None) != (source.chat_store is None)
    if source.transcripts is not None:
        assert callable(source.transcripts.open)
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
