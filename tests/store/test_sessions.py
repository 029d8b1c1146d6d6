"""Sessions read back from the ledger: sums, projects, subagents, timelines and spend."""

from __future__ import annotations

from pathlib import Path

from tokenbuddy.core.dashboard import RequestLine
from tokenbuddy.store import sessions
from tokenbuddy.store.ledger import Ledger

from .ledger.builders import BASE_MS, HOUR_MS, commit, record

SUBAGENT = {"is_sidechain": True, "agent_type": "Explore"}


def _history(ledger: Ledger) -> None:
    commit(
        ledger,
        "/a",
        record("k1", BASE_MS, 10, project="/old"),
        record("k2", BASE_MS + HOUR_MS, 20, project="/new", **SUBAGENT),
        record("k3", BASE_MS + 2 * HOUR_MS, 40, session_id="s2", model="gpt-5"),
    )


def test_recent_sessions_sum_each_session_latest_first(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert sessions.recent_sessions(ledger, 0, 50) == []
        _history(ledger)
        rows = sessions.recent_sessions(ledger, BASE_MS, 50)
        assert [(r.session_id, r.requests, r.cost_usd) for r in rows] == [
            ("s2", 1, 40.0),
            ("s1", 2, 30.0),
        ]
        first = rows[1]
        assert (first.first_ms, first.last_ms) == (BASE_MS, BASE_MS + HOUR_MS)
        assert (first.input_tokens, first.cache_write_tokens, first.cache_read_tokens) == (
            20,
            200,
            2000,
        )
        assert first.models == "claude-sonnet-4-5"
        assert sessions.recent_sessions(ledger, BASE_MS, 1) == rows[:1]
        assert [
            r.session_id for r in sessions.recent_sessions(ledger, BASE_MS + 2 * HOUR_MS, 50)
        ] == ["s2"]


def test_session_totals_read_one_session_or_none(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        _history(ledger)
        (row,) = sessions.session_totals(ledger, "s1", "claude-code")
        assert (row.session_id, row.requests, row.cost_usd) == ("s1", 2, 30.0)
        assert sessions.session_totals(ledger, "s1", "codex") == []


def test_projects_and_subagent_costs_of_listed_sessions(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert sessions.latest_projects(ledger, []) == {}
        assert sessions.subagent_costs(ledger, []) == {}
        _history(ledger)
        assert sessions.latest_projects(ledger, ["s1", "s2"]) == {
            ("s1", "claude-code"): "/new",
            ("s2", "claude-code"): "/p",
        }
        assert sessions.subagent_costs(ledger, ["s1", "s2"]) == {("s1", "claude-code"): 20.0}


def test_timeline_and_subagent_spend_of_one_session(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert sessions.latest_source(ledger, "s1") is None
        _history(ledger)
        assert sessions.latest_source(ledger, "s1") == "claude-code"
        lines = sessions.timeline(ledger, "s1", "claude-code", 10)
        assert lines == (
            RequestLine(BASE_MS, "claude-sonnet-4-5", 10, 100, 1000, 10, 10.0, ""),
            RequestLine(BASE_MS + HOUR_MS, "claude-sonnet-4-5", 10, 100, 1000, 20, 20.0, "Explore"),
        )
        assert sessions.timeline(ledger, "s1", "claude-code", 1) == lines[:1]
        assert sessions.subagent_spend(ledger, "s1", "claude-code") == (("Explore", 1, 20.0),)
        assert sessions.subagent_spend(ledger, "s2", "claude-code") == ()


def test_session_spend_sums_one_session(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert sessions.session_spend(ledger, "s1") == (0.0, 0)
        commit(
            ledger,
            "/a",
            record("k1", BASE_MS, 10),
            record("k2", BASE_MS, 20),
            record("k3", BASE_MS, 40, session_id="s2"),
        )
        assert sessions.session_spend(ledger, "s1") == (30.0, 2)


def test_a_session_was_started_by_its_earliest_named_entrypoint(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert sessions.entrypoints(ledger, []) == {}
        commit(
            ledger,
            "/a",
            record("k3", BASE_MS + 2 * HOUR_MS, 1, entrypoint="cli"),  # resumed by hand
            record("k1", BASE_MS, 1),  # a line from before entrypoints were written
            record("k2", BASE_MS + HOUR_MS, 1, entrypoint="sdk-cli"),
            record("k4", BASE_MS, 1, session_id="s2"),
            record("x1", BASE_MS, 1, session_id="s3", source="codex", entrypoint="codex_exec"),
        )
        keys = [("s1", "claude-code"), ("s2", "claude-code"), ("s3", "codex"), ("s1", "codex")]
        assert sessions.entrypoints(ledger, keys) == {
            ("s1", "claude-code"): "sdk-cli",
            ("s3", "codex"): "codex_exec",
        }
        # Sources whose logs never say are not looked up.
        assert sessions.entrypoints(ledger, [("s1", "cursor-local")]) == {}


def test_sessions_are_looked_up_in_any_number(tmp_path: Path) -> None:
    """A day of a loop's runs can be thousands of sessions: more ids than some SQLite
    builds take parameters, in one query each."""
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        _history(ledger)
        ids = [f"run-{number}" for number in range(40_000)] + ["s1"]
        assert sessions.latest_projects(ledger, ids) == {("s1", "claude-code"): "/new"}
        assert sessions.subagent_costs(ledger, ids) == {("s1", "claude-code"): 20.0}
        keys = [(sid, "claude-code") for sid in ids]
        assert sessions.entrypoints(ledger, keys) == {}
