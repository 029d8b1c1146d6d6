"""The detectors' event stream: requests and prompts merged in time order, read lazily."""

from __future__ import annotations

from pathlib import Path

from tokenbuddy.core.alerts import PromptEvent, RequestEvent
from tokenbuddy.store.events import EventStream
from tokenbuddy.store.ledger import Ledger

from .ledger.builders import BASE_MS, commit, record


def _prompt(ledger: Ledger, ts_ms: int, session_id: str = "s1") -> None:
    ledger.db.execute("INSERT INTO prompts VALUES ('claude-code', ?, ?)", (session_id, ts_ms))


def _request(ts_ms: int, output: int, entrypoint: str = "") -> RequestEvent:
    return RequestEvent(
        ts_ms, "s1", "/p", "claude-sonnet-4-5", float(output), 10, 100, 1000, output, False, "",
        entrypoint=entrypoint, source="claude-code",
    )  # fmt: skip


def test_requests_and_prompts_come_in_time_order_a_prompt_first(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        commit(
            ledger,
            "/a",
            record("k2", BASE_MS + 10, 20, entrypoint="sdk-cli"),
            record("k1", BASE_MS, 10),
        )
        _prompt(ledger, BASE_MS + 10)
        _prompt(ledger, BASE_MS - 5)
        stream = EventStream(ledger)
        assert stream.last_rowid == 0
        assert list(stream) == [
            PromptEvent(BASE_MS - 5, "s1", source="claude-code"),
            _request(BASE_MS, 10),
            PromptEvent(BASE_MS + 10, "s1", source="claude-code"),
            _request(BASE_MS + 10, 20, "sdk-cli"),
        ]
        assert stream.last_rowid == 2


def test_a_stream_resumes_after_a_rowid_and_from_a_time(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        commit(ledger, "/a", record("k1", BASE_MS, 10))
        first = EventStream(ledger)
        assert len(list(first)) == 1
        commit(ledger, "/b", record("k2", BASE_MS + 10, 20), record("k3", BASE_MS - 10, 30))
        _prompt(ledger, BASE_MS - 20)
        _prompt(ledger, BASE_MS + 20)
        later = EventStream(
            ledger, after_rowid=first.last_rowid, since_ms=BASE_MS, prompts_since_ms=BASE_MS
        )
        assert list(later) == [
            _request(BASE_MS + 10, 20),
            PromptEvent(BASE_MS + 20, "s1", source="claude-code"),
        ]
        assert later.last_rowid == 2  # k3 (rowid 3) is older than since_ms: not seen


def test_the_stream_is_read_as_it_is_consumed(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        commit(ledger, "/a", *(record(f"k{n}", BASE_MS + n, n) for n in range(1, 4)))
        stream = iter(EventStream(ledger))
        assert next(stream) == _request(BASE_MS + 1, 1)
