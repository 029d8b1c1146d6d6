"""Which copy of a request the ledger keeps: largest for Claude Code, smallest for Codex."""

from __future__ import annotations

from tokenbuddy.core.records import CODEX
from tokenbuddy.store.ledger import Ledger

from .builders import BASE_MS, commit, record


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
