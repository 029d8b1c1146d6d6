"""The guard's journal and allow file, and their import into the ledger."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import orjson
import pytest

from tokenbuddy.store import guard_decisions, guard_files
from tokenbuddy.store.ledger import Ledger

NOW_MS = 1_795_000_000_000


def decision(number: int, **changes: object) -> dict[str, object]:
    return {
        "id": f"{NOW_MS + number}-1-{number:08x}",
        "ts_ms": NOW_MS + number,
        "decision": "block",
        "event": "PreToolUse",
        "rule": "hard_cap",
        "session_id": f"s-{number % 3}",
        "entrypoint": "sdk-cli",
        "tool": "Bash",
        "message": "cycle spend $412.30 reached hard_cap_usd $400.00",
        "until_ms": None,
        **changes,
    }


def test_a_line_is_one_json_object_under_the_atomic_append_size() -> None:
    line = guard_files.journal_line(decision(1, message="é" * 10_000, tool="\n\x00"))
    assert len(line) <= guard_files.MAX_LINE and line.endswith(b"\n") and line.count(b"\n") == 1
    record = orjson.loads(line)
    assert record["tool"] == "\n\x00" and set(record["message"]) == {"é"}


def test_import_moves_every_decision_into_the_ledger_once(tmp_path: Path) -> None:
    state = tmp_path / "state"
    for number in range(5):
        guard_files.append_decision(str(state), decision(number))
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        result = guard_decisions.import_journal(ledger, state)
        assert (result.imported, result.skipped) == (5, 0)
        assert not list(state.glob("guard-journal*")), "the journal is gone once imported"
        assert guard_decisions.import_journal(ledger, state).imported == 0
        latest = guard_decisions.recent_decisions(ledger, limit=2)
    assert [d.ts_ms for d in latest] == [NOW_MS + 4, NOW_MS + 3]
    assert latest[0].message == "cycle spend $412.30 reached hard_cap_usd $400.00"
    assert latest[0].until_ms is None and latest[0].entrypoint == "sdk-cli"


def test_an_import_cut_short_is_finished_next_time_without_counting_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    for number in range(3):
        guard_files.append_decision(str(state), decision(number))

    def crash(paths: list[str]) -> None:
        raise KeyboardInterrupt

    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        monkeypatch.setattr(guard_files, "discard", crash)
        with pytest.raises(KeyboardInterrupt):
            guard_decisions.import_journal(ledger, state)
        monkeypatch.undo()
        guard_files.append_decision(str(state), decision(3))
        again = guard_decisions.import_journal(ledger, state)
        count = ledger.db.execute("SELECT COUNT(*) FROM guard_decisions").fetchone()[0]
    assert again.imported == 1 and count == 4
    assert not list(state.glob("guard-journal*"))


def test_lines_that_are_not_decisions_are_counted_not_imported(tmp_path: Path) -> None:
    state = tmp_path / "state"
    guard_files.append_decision(str(state), decision(1))
    with open(guard_files.journal_path(str(state)), "ab") as journal:
        journal.write(b"not json\n\xff\xfe\n[1]\n")
        journal.write(orjson.dumps(decision(2, decision="explode")) + b"\n")
        journal.write(orjson.dumps(decision(3, ts_ms="soon")) + b"\n")
        journal.write(orjson.dumps(decision(4, message=5)) + b"\n")
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        result = guard_decisions.import_journal(ledger, state)
        assert (result.imported, result.skipped) == (1, 6)
        guard_files.append_decision(str(state), decision(5, tool=7))
        guard_decisions.import_journal(ledger, state)
        assert guard_decisions.skipped_lines(ledger) == 7


APPENDER = """
import sys
from tokenbuddy.store import guard_files
state, writer, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for number in range(count):
    guard_files.append_decision(state, {
        "id": f"{writer}-{number}", "ts_ms": number, "decision": "warn", "event": "PreToolUse",
        "rule": "daily_cap", "session_id": str(writer), "message": "x" * 300})
"""


def test_hooks_appending_while_the_ledger_imports_never_lose_a_line(tmp_path: Path) -> None:
    state = tmp_path / "state"
    writers, each = 4, 1500
    procs = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(state), str(w), str(each)])
        for w in range(writers)
    ]
    stop = threading.Event()
    imports: list[int] = []

    def import_until_stopped() -> None:
        with Ledger(tmp_path / "ledger.sqlite3") as ledger:
            while not stop.is_set():
                imports.append(guard_decisions.import_journal(ledger, state).imported)

    importer = threading.Thread(target=import_until_stopped)
    importer.start()
    try:
        assert all(p.wait(timeout=60) == 0 for p in procs)
    finally:
        stop.set()
        importer.join()
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        guard_decisions.import_journal(ledger, state)
        rows = ledger.db.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM guard_decisions")
        assert rows.fetchone() == (writers * each, writers * each)
    assert len([n for n in imports if n]) > 1, "the imports ran while the hooks appended"
    assert not list(state.glob("guard-journal*"))


def test_the_allow_file_round_trips_and_refuses_what_is_not_ours(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    assert guard_files.read_allows(state) == []
    allows = [
        {"id": "a", "from_ms": 1, "until_ms": NOW_MS + 1, "session_id": None},
        {"id": "b", "from_ms": 1, "until_ms": NOW_MS, "session_id": "s"},
    ]
    guard_files.write_allows(state, allows)
    assert guard_files.read_allows(state) == allows
    assert guard_files.active_allows(allows, NOW_MS) == allows[:1]
    assert not [n for n in os.listdir(state) if n.endswith(".tmp")]
    for text in ('{"version": 2, "allows": []}', '{"version": 1}', "[]", "{"):
        Path(guard_files.allows_path(state)).write_text(text)
        with pytest.raises(ValueError):
            guard_files.read_allows(state)
