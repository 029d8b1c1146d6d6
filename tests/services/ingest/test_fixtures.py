"""Real-file tests on the anonymised logs in ../shared/fixtures (read in place)."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import environ_for
from tokenbuddy.services.ingest import sync
from tokenbuddy.services.report import build_report
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.store.ledger import Ledger

UTC = ZoneInfo("UTC")


def ingest(tmp_path: Path, claude: Path, codex: Path) -> Ledger:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    sync(ledger, log_roots(environ_for(claude, codex), tmp_path / "home"))
    return ledger


@pytest.fixture
def ledger(tmp_path: Path, shared_fixtures: Path) -> Ledger:
    return ingest(tmp_path, shared_fixtures / "claude", shared_fixtures / "codex")


def test_claude_totals_match_the_reference_exactly(ledger: Ledger) -> None:
    totals = build_report(ledger, "daily", zone=UTC, source="claude-code")["totals"]
    assert totals["requests"] == 711
    assert totals["input_tokens"] == 9_692
    assert totals["output_tokens"] == 304_713
    assert totals["cache_creation_tokens"] == 3_389_971
    assert totals["cache_read_tokens"] == 52_319_530
    assert totals["cache_hit_ratio"] == pytest.approx(0.9390, abs=5e-5)
    assert totals["cost_usd"] == pytest.approx(46.98, rel=0.005)


def test_synthetic_and_api_error_records_are_skipped_and_counted(ledger: Ledger) -> None:
    report = build_report(ledger, "daily", zone=UTC)
    assert report["skipped_lines"] == 10
    assert report["unpriced_models"] == {}
    models = {row["model"] for row in build_report(ledger, "model", zone=UTC)["rows"]}
    assert "<synthetic>" not in models


def test_btw_replay_counts_each_request_once_with_its_final_usage(
    ledger: Ledger, shared_fixtures: Path
) -> None:
    """The aside_question side file replays its parent with the same ids; keep the largest copy."""
    fixtures = shared_fixtures / "claude"
    family = [p for p in fixtures.rglob("*.jsonl") if "7ef4b236-d946" in str(p)]
    assert len(family) == 3
    naive, best = 0, {}
    for path in family:
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record.get("type") != "assistant" or record["message"]["model"] == "<synthetic>":
                continue
            usage = record["message"]["usage"]
            naive += usage["cache_read_input_tokens"]
            key = (record["message"]["id"], record.get("requestId"))
            total = sum(
                usage[k]
                for k in (
                    "input_tokens",
                    "output_tokens",
                    "cache_creation_input_tokens",
                    "cache_read_input_tokens",
                )
            )
            if total >= best.get(key, (-1, 0))[0]:
                best[key] = (total, usage["cache_read_input_tokens"])
    stored = ledger.db.execute(
        "SELECT SUM(cache_read_tokens), COUNT(*) FROM requests WHERE session_id = ?",
        ("7ef4b236-d946-48a6-a856-e45b02af7be7",),
    ).fetchone()
    assert stored == (sum(read for _, read in best.values()), len(best))
    assert stored[0] < naive


def test_subagents_are_attributed_with_their_type(ledger: Ledger) -> None:
    agent_types = dict(
        ledger.db.execute(
            "SELECT agent_type, COUNT(*) FROM requests WHERE is_sidechain = 1 GROUP BY agent_type"
        ).fetchall()
    )
    assert agent_types.get("Explore", 0) > 0
    assert agent_types.get("general-purpose", 0) > 0
    assert "aside_question" in agent_types


def test_progress_records_are_the_only_trace_of_a_haiku_subagent(ledger: Ledger) -> None:
    haiku = ledger.db.execute(
        "SELECT COUNT(*) FROM requests WHERE model LIKE 'claude-haiku%' AND is_sidechain = 1"
    ).fetchone()[0]
    assert haiku > 0


def final_codex_totals(codex_home: Path) -> tuple[int, int, int]:
    """(input incl. cached, cached, output) from each rollout's last cumulative total."""
    totals = [0, 0, 0]
    for path in sorted(codex_home.glob("sessions/**/rollout-*.jsonl")):
        last = None
        for line in path.read_text().splitlines():
            payload = json.loads(line).get("payload") or {}
            if payload.get("type") == "token_count" and payload.get("info"):
                last = payload["info"]["total_token_usage"]
        if last:
            totals[0] += last["input_tokens"]
            totals[1] += last["cached_input_tokens"]
            totals[2] += last["output_tokens"]
    return totals[0], totals[1], totals[2]


def test_codex_totals_are_the_final_cumulative_usage(ledger: Ledger, shared_fixtures: Path) -> None:
    report = build_report(ledger, "model", zone=UTC, source="codex")
    totals = report["totals"]
    all_input, cached, output = final_codex_totals(shared_fixtures / "codex")
    assert totals["input_tokens"] + totals["cache_read_tokens"] == all_input
    assert totals["cache_read_tokens"] == cached
    assert totals["output_tokens"] == output
    assert {row["model"] for row in report["rows"]} == {"gpt-5.4", "gpt-5.1-codex-mini"}
    assert totals["cost_usd"] > 0


def test_codex_rate_limit_snapshots_are_kept(ledger: Ledger) -> None:
    windows = dict(
        ledger.db.execute(
            "SELECT window_minutes, COUNT(*) FROM rate_limits WHERE source = 'codex'"
            " GROUP BY window_minutes"
        ).fetchall()
    )
    assert windows.get(300, 0) > 0
    assert windows.get(10080, 0) > 0


def test_second_pass_reads_nothing_and_changes_nothing(
    tmp_path: Path, shared_fixtures: Path
) -> None:
    ledger = ingest(tmp_path, shared_fixtures / "claude", shared_fixtures / "codex")
    before = build_report(ledger, "daily", zone=UTC)
    summary = sync(
        ledger,
        log_roots(environ_for(shared_fixtures / "claude", shared_fixtures / "codex"), tmp_path),
    )
    assert (summary.files_read, summary.requests_written) == (0, 0)
    assert build_report(ledger, "daily", zone=UTC) == before


def test_config_dir_list_with_the_same_dir_twice_does_not_double_count(
    tmp_path: Path, shared_fixtures: Path
) -> None:
    claude = shared_fixtures / "claude"
    twice = Path(f"{claude},{claude / 'projects'}")
    ledger = ingest(tmp_path, twice, tmp_path / "no-codex")
    assert build_report(ledger, "daily", zone=UTC)["totals"]["requests"] == 711


def test_human_prompts_are_recorded_once_per_session_and_time(ledger: Ledger) -> None:
    counts = dict(ledger.db.execute("SELECT source, COUNT(*) FROM prompts GROUP BY source"))
    assert counts == {"claude-code": 173, "codex": 52}
    unprompted = ledger.db.execute(
        "SELECT COUNT(DISTINCT session_id) FROM requests"
        " WHERE session_id NOT IN (SELECT session_id FROM prompts)"
    ).fetchone()[0]
    assert unprompted == 0, "every real session was started by a person"
