"""The Copilot CLI's events: per-message output while a session runs, the shutdown's exact
totals once, resumed sessions, killed sessions, half-written lines, live following."""

from __future__ import annotations

import queue
from pathlib import Path

import pytest

from tests.sources.copilot import files as f
from tokenbuddy.core.records import COPILOT
from tokenbuddy.services.ingest import sync, sync_paths
from tokenbuddy.sources.copilot import cli
from tokenbuddy.sources.discovery import LogRoot, log_roots
from tokenbuddy.sources.watch import LogWatcher
from tokenbuddy.store.ledger import Ledger

HOUR = 3_600_000
T0 = f.BASE_MS - f.BASE_MS % HOUR + 60_000  # a minute into an hour
SONNET = "claude-sonnet-4.5"


def roots_of(home: Path) -> list[LogRoot]:
    """The copilot roots ``TOKENBUDDY_COPILOT_DIR=home`` gives."""
    environ = {"TOKENBUDDY_COPILOT_DIR": str(home), "TOKENBUDDY_VSCODE_USER_DIR": str(home / "no")}
    return [root for root in log_roots(environ, home.parent) if root.source == COPILOT]


def totals(ledger: Ledger) -> tuple[int, ...]:
    """(input, output, cache read, cache write, reasoning) over every copilot request."""
    row = ledger.db.execute(
        "SELECT TOTAL(input_tokens), TOTAL(output_tokens), TOTAL(cache_read_tokens),"
        " TOTAL(cache_write_5m_tokens), TOTAL(reasoning_tokens) FROM requests"
    ).fetchone()
    return tuple(int(value) for value in row)


def billing(ledger: Ledger) -> tuple[float, float]:
    """(reported dollars, premium requests) over every request."""
    row = ledger.db.execute(
        "SELECT TOTAL(reported_cost_usd), TOTAL(billing_units) FROM requests"
    ).fetchone()
    return round(row[0], 9), row[1]


def running(session: str = "s1") -> list[dict[str, object]]:
    """A session's events before shutdown: two hours, 300 + 200 output tokens."""
    return [
        f.start(T0, session, SONNET),
        f.prompt(T0 + 1),
        f.message(T0 + 2, 100, SONNET, "call-1"),
        f.message(T0 + 3, 100, SONNET, "call-1"),  # a second chunk of the same call
        f.message(T0 + 4, 200, SONNET, "call-2"),
        f.prompt(T0 + HOUR),
        f.message(T0 + HOUR + 5, 200, None, "call-3"),  # the session's model
    ]


def test_a_running_session_counts_its_output_then_the_shutdown_totals_once(tmp_path: Path) -> None:
    home = tmp_path / ".copilot"
    path = f.cli_session(home, "s1", *running())
    roots = roots_of(home)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync(ledger, roots)
        assert totals(ledger) == (0, 500, 0, 0, 0)
        assert ledger.db.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 2
        ended = f.shutdown(
            T0 + HOUR + 60_000, {SONNET: f.metric(10_000, 700, 6_000, 1_000, 3.0, 5 * 10**9)}
        )
        with path.open("ab") as handle:
            handle.write(f.lines(ended))
        sync(ledger, roots)
        assert totals(ledger) == (3_000, 700, 6_000, 1_000, 0)
        assert billing(ledger) == (0.05, 3.0)  # 5 credits at $0.01
        rows = ledger.db.execute(
            "SELECT output_tokens, input_tokens, ts_ms FROM requests ORDER BY ts_ms"
        ).fetchall()
        assert [tuple(row) for row in rows] == [(300, 1800, T0 + 4), (400, 1200, T0 + HOUR + 5)]
        sync(ledger, roots)
        assert totals(ledger) == (3_000, 700, 6_000, 1_000, 0)
        prompts = ledger.db.execute("SELECT COUNT(*) FROM prompts").fetchone()[0]
        assert prompts == 2


@pytest.mark.parametrize("checkpoint", [False, True])
def test_a_resumed_session_counts_each_process_once(tmp_path: Path, checkpoint: bool) -> None:
    """Earlier builds' shutdowns cover one process; builds that checkpoint repeat the
    session's totals: either way the second segment adds only its own usage."""
    home = tmp_path / ".copilot"
    first = f.shutdown(T0 + HOUR + 60_000, {SONNET: f.metric(1_000, 700, 0, 0, 1.0)})
    later = T0 + 5 * HOUR
    second_figures = (
        f.metric(3_000, 1_000, 0, 0, 3.0) if checkpoint else f.metric(2_000, 300, 0, 0, 2.0)
    )
    events = [
        *running(),
        first,
        f.event("session.resume", later, {"resumeTime": f.iso(later), "eventCount": 9}),
    ]
    if checkpoint:
        events.append(f.event("session.usage_checkpoint", later + 1, {"totalNanoAiu": 0}))
    events += [
        f.prompt(later + 2),
        f.message(later + 3, 300, SONNET),
        f.shutdown(later + 9, {SONNET: second_figures}),
    ]
    f.cli_session(home, "s1", *events)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync(ledger, roots_of(home))
        assert totals(ledger) == (3_000, 1_000, 0, 0, 0)
        assert billing(ledger) == (0.0, 3.0)


def test_a_killed_session_keeps_its_output_and_odd_lines_are_counted(tmp_path: Path) -> None:
    home = tmp_path / ".copilot"
    path = f.cli_session(home, "s1", *running(), f.event("future.kind", T0 + 9, {}))
    with path.open("ab") as handle:
        handle.write(b"not json\n" + f.lines(f.message(T0 + 10, 0, SONNET))[:-20])  # cut mid-write
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync(ledger, roots_of(home))
        assert totals(ledger) == (0, 500, 0, 0, 0)
        stored = ledger.files()[str(path)]
        assert stored.skipped == {"invalid JSON": 1, cli.HALF_WRITTEN: 1}


def test_zero_usage_models_and_token_details_shutdowns(tmp_path: Path) -> None:
    """An all-zero model is no record; a build with only session-wide tokenDetails is
    counted under its current model; an unknown model stays unpriced, not $0."""
    home = tmp_path / ".copilot"
    counts = [("input", 900), ("output", 50), ("cache_read", 400), ("cache_write", 0)]
    details = {kind: {"tokenCount": count} for kind, count in counts}
    mystery = "mystery-model-9"
    aborted = f.shutdown(T0 + 5, {"gpt-5": f.metric(0, 0, 0, 0, 0.0)})
    f.cli_session(home, "s2", f.start(T0, "s2", mystery), aborted)
    ended = f.shutdown(T0 + 5, {}, tokenDetails=details, currentModel=mystery)
    f.cli_session(home, "s3", f.start(T0, "s3", mystery), ended)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync(ledger, roots_of(home))
        rows = ledger.db.execute(
            "SELECT model, input_tokens, cache_read_tokens, cost_usd FROM requests"
        ).fetchall()
        assert [tuple(row) for row in rows] == [("mystery-model-9", 500, 400, None)]


def test_live_following_hands_the_events_file_over(tmp_path: Path) -> None:
    home = tmp_path / ".copilot"
    path = f.cli_session(home, "s1", *running()[:3])
    roots = roots_of(home)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync(ledger, roots)
        batches: queue.Queue[frozenset[str]] = queue.Queue()
        watcher = LogWatcher(roots, batches.put, debounce=0.05)
        watcher.start()
        try:
            with path.open("ab") as handle:
                handle.write(f.lines(f.message(T0 + 20, 40, SONNET)))
            changed = batches.get(timeout=10)
        finally:
            watcher.stop()
        assert str(path) in changed
        sync_paths(ledger, [(str(path), COPILOT)])
        assert totals(ledger) == (0, 140, 0, 0, 0)
