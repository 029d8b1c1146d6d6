"""Reports by agent, and the agents' own cost figures kept beside the list price."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tokenbuddy.cli.report import format_report
from tokenbuddy.core.file_cursor import FileCursor
from tokenbuddy.core.pricing import PriceBook
from tokenbuddy.core.records import UsageRecord
from tokenbuddy.services.report import build_report
from tokenbuddy.store.ledger import FileResult, Ledger, request_row

UTC = ZoneInfo("UTC")
DAY_MS = 1_780_000_000_000 - 1_780_000_000_000 % 86_400_000


def call(key: str, source: str, model: str, own: float | None, units: float = 0.0) -> UsageRecord:
    """One call of 1,000 input and 100 output tokens."""
    return UsageRecord(
        key, source, DAY_MS + 3_600_000, "s-" + source, "/home/dev/shop", model,
        1000, 100, 0, 0, 0, 0, 0, "", "", False, "", "", "", own, units,
    )  # fmt: skip


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    records = [
        call("o1", "opencode", "claude-sonnet-4-5", 0.5),
        call("o2", "opencode", "claude-sonnet-4-5", None),
        call("p1", "copilot", "claude-sonnet-4.5", 0.04, 1.0),
        call("p2", "copilot", "copilot-mystery-1", None),
        call("c1", "claude-code", "claude-sonnet-4-5", None),
    ]
    book = PriceBook()
    rows = [request_row(record, book.cost(record)) for record in records]
    opened = Ledger(tmp_path / "ledger.sqlite3")
    opened.commit_files([FileResult(FileCursor("/logs/x", "opencode"), rows, [], 5, {}, {}, False)])
    opened.refresh_rollup()
    return opened


def test_the_agent_report_sums_each_agent_with_its_own_figures(ledger: Ledger) -> None:
    sonnet = PriceBook().list_cost(call("x", "opencode", "claude-sonnet-4-5", None))
    assert sonnet is not None
    report = build_report(ledger, "agent", zone=UTC)
    rows = {row["source"]: row for row in report["rows"]}
    assert set(rows) == {"opencode", "copilot", "claude-code"}
    assert rows["opencode"]["agent"] == "OpenCode"
    # OpenCode's own cost is kept beside the list price, which counts.
    assert rows["opencode"]["cost_usd"] == round(2 * sonnet, 6)
    assert (rows["opencode"]["reported_cost_usd"], rows["opencode"]["reported_requests"]) == (
        0.5,
        1,
    )
    # Copilot's billed credits count; its unknown model with no billed figure stays unpriced.
    assert rows["copilot"]["cost_usd"] == 0.04
    assert rows["copilot"]["billing_units"] == 1.0
    assert report["unpriced_models"] == {"copilot-mystery-1": 1}
    assert rows["claude-code"]["reported_cost_usd"] is None
    assert report["totals"]["reported_cost_usd"] == 0.54
    assert report["totals"]["requests"] == 5
    text = format_report("agent", report, UTC)
    assert "Agent's cost" in text and "OpenCode" in text and "GitHub Copilot" in text
    assert "for 2 requests" in text


def test_reports_without_agent_figures_add_no_column(ledger: Ledger) -> None:
    report = build_report(ledger, "daily", zone=UTC, source="claude-code")
    assert report["totals"]["reported_requests"] == 0
    assert "Agent's cost" not in format_report("daily", report, UTC)


def test_the_dashboard_names_a_model_with_its_agent_when_several_agents_ran_it(
    ledger: Ledger,
) -> None:
    from tokenbuddy.core.report import ReportRow
    from tokenbuddy.core.totals import Totals
    from tokenbuddy.services.snapshot import _models

    rows = [
        ReportRow({"model": "claude-sonnet-4-5-20250929", "source": "claude-code"}, Totals()),
        ReportRow({"model": "claude-sonnet-4-5", "source": "opencode"}, Totals()),
        ReportRow({"model": "gemini-2.5-pro", "source": "gemini-cli"}, Totals()),
        ReportRow({"model": "", "source": "cline"}, Totals()),
    ]
    assert [label for label, _ in _models(rows)] == [
        "claude-sonnet-4-5-20250929 · Claude",
        "claude-sonnet-4-5 · OpenCode",
        "gemini-2.5-pro",
        "(model not recorded)",
    ]
    report = build_report(ledger, "model", zone=UTC)
    assert "copilot-mystery-1" in format_report("model", report, UTC)
