"""Which copy of a request the ledger keeps: largest for Claude Code, smallest for Codex."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tokenbuddy.core.records import CLAUDE_CODE, CODEX
from tokenbuddy.store.ledger import Ledger

from .builders import (
    BASE_MS,
    commit,
    commit_staged,
    direct_by_bucket,
    record,
    rollup_by_bucket,
)

if TYPE_CHECKING:
    from collections.abc import Callable


def test_claude_keeps_the_largest_copy_whatever_the_order(ledger: Ledger) -> None:
    commit(ledger, "/a", record("k", BASE_MS, 250))
    commit(ledger, "/b", record("k", BASE_MS + 500, 3))
    assert ledger.db.execute("SELECT output_tokens, cost_usd FROM requests").fetchall() == [
        (250, 250.0)
    ]


def test_main_conversation_copy_owns_the_attribution(ledger: Ledger) -> None:
    """A /btw replay may hold the larger copy; the request still belongs to the main session."""
    commit(ledger, "/main", record("k", BASE_MS, 3, agent_type=""))
    commit(
        ledger,
        "/aside",
        record("k", BASE_MS, 300, is_sidechain=True, agent_type="aside_question", agent_id="aside"),
    )
    row = ledger.db.execute(
        "SELECT output_tokens, is_sidechain, agent_type FROM requests"
    ).fetchone()
    assert row == (300, 0, "")


def test_codex_keeps_the_smallest_delta_of_a_replayed_event(ledger: Ledger) -> None:
    commit(ledger, "/fork", record("x:1", BASE_MS, 5000, source=CODEX))
    commit(ledger, "/orig", record("x:1", BASE_MS, 40, source=CODEX))
    assert ledger.db.execute("SELECT output_tokens FROM requests").fetchone() == (40,)


@pytest.mark.parametrize("write", [commit, commit_staged], ids=["incremental", "staged"])
@pytest.mark.parametrize("source", [CLAUDE_CODE, CODEX])
def test_a_copy_with_an_entrypoint_fills_in_one_without(
    ledger: Ledger, write: Callable[..., int], source: str
) -> None:
    """A ledger written before entrypoints were read learns them when the logs are read
    again; no figure changes, and a copy without one never blanks one."""
    write(ledger, "/old", record("k", BASE_MS, 250, source=source, session_id="s1"))
    write(ledger, "/again", record("k", BASE_MS, 250, source=source, entrypoint="sdk-cli"))
    write(ledger, "/third", record("k", BASE_MS, 250, source=source, session_id="s2"))
    row = ledger.db.execute("SELECT output_tokens, session_id, entrypoint FROM requests")
    assert row.fetchall() == [(250, "s1", "sdk-cli")]
    assert rollup_by_bucket(ledger) == direct_by_bucket(ledger)


@pytest.mark.parametrize("write", [commit, commit_staged], ids=["incremental", "staged"])
def test_the_kept_copy_brings_its_own_entrypoint(ledger: Ledger, write: Callable[..., int]) -> None:
    """The larger Claude copy (or the smaller Codex one) replaces the figures; its
    entrypoint comes along only from the main conversation's copy."""
    write(ledger, "/aside", record("k", BASE_MS, 3, is_sidechain=True, entrypoint="sdk-ts"))
    write(ledger, "/main", record("k", BASE_MS, 3, entrypoint="cli"))
    write(ledger, "/fork", record("x", BASE_MS, 5000, source=CODEX, entrypoint="codex-tui"))
    write(ledger, "/orig", record("x", BASE_MS, 40, source=CODEX, entrypoint="codex_exec"))
    rows = ledger.db.execute("SELECT dedup_key, output_tokens, entrypoint FROM requests")
    assert sorted(rows) == [("k", 3, "cli"), ("x", 40, "codex_exec")]
