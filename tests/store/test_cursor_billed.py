"""Billed Cursor usage: the dashboard CSV export, API events, and one request counted once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.sources.cursor_local.builders import NOW_MS, create_store, iso, split_composer
from tokenbuddy.cli.main import main
from tokenbuddy.core.records import CURSOR_LOCAL
from tokenbuddy.core.vendor_usage import PullResult
from tokenbuddy.services.budget import BudgetSettings
from tokenbuddy.services.ingest import sync_cursor
from tokenbuddy.services.monitor import daily_spend
from tokenbuddy.services.snapshot import build_snapshot
from tokenbuddy.sources.cursor_csv import parse_amount, parse_export
from tokenbuddy.sources.discovery import LogRoot
from tokenbuddy.sources.vendors.cursor import parse_events
from tokenbuddy.store import cursor as cursor_store
from tokenbuddy.store import queries
from tokenbuddy.store.ledger import Ledger
from tokenbuddy.store.paths import app_paths
from tokenbuddy.store.vendors import reconciliation, store_pull

HEADER = (
    "Date,Kind,Model,Max Mode,Input (w/ Cache Write),Input (w/o Cache Write),Cache Read,"
    "Output Tokens,Total Tokens,Cost"
)
HOUR = 3_600_000


def csv_row(at_ms: int, cost: str, model: str = "claude-4.5-sonnet", kind: str = "Included") -> str:
    return f'{iso(at_ms)},"{kind}",{model},No,1500,1000,20000,300,22800,"{cost}"'


def write_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def import_files(*files: Path) -> int:
    return main(["import", "cursor-csv", *map(str, files)])


def ledger() -> Ledger:
    paths = app_paths()
    paths.ensure()
    return Ledger(paths.ledger)


def billed_costs(db: Ledger) -> list[float | None]:
    rows = db.db.execute("SELECT cost_usd FROM requests WHERE source = 'cursor' ORDER BY ts_ms")
    return [row[0] for row in rows]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Included", 0.0),
        ("$0.49", 0.49),
        ("0.49", 0.49),
        ("$1,234.56", 1234.56),
        ("1.234,56 €", 1234.56),
        ("1\u202f234,56\u00a0$", 1234.56),
        ("0,49 $", 0.49),
        ("US$ 12", 12.0),
        ("", None),
        ("-", None),
    ],
)
def test_cost_formats(text: str, expected: float | None) -> None:
    assert parse_amount(text) == expected


def test_extra_columns_kinds_and_token_split() -> None:
    text = (
        HEADER + ",Cloud Agent ID,Automation ID\n"
        f"{csv_row(NOW_MS, '$0.49', kind='Usage-based')},agent-1,\n"
        f"{csv_row(NOW_MS + 1, '$0.30', kind='Errored, Not Charged')},,\n"
        "not a date,Included,gpt-5,No,1,1,0,1,3,Included\n"
    )
    rows = parse_export(text, "export.csv")
    (first, cost), (_, errored) = rows.priced
    assert cost == 0.49 and errored == 0.0
    assert (first.input_tokens, first.cache_write_5m_tokens, first.cache_read_tokens) == (
        1000,
        1500,
        20000,
    )
    assert first.output_tokens == 300 and first.source == "cursor"
    assert rows.bad_rows == {"no valid date": 1}


def test_reimport_and_overlapping_exports_never_double_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = NOW_MS - 10 * HOUR
    first = write_csv(tmp_path / "a.csv", [csv_row(base + i * HOUR, "$0.10") for i in range(4)])
    overlap = write_csv(
        tmp_path / "b.csv", [csv_row(base + i * HOUR, "$0.10") for i in range(2, 6)]
    )
    assert import_files(first) == 0
    assert import_files(first) == 0
    assert "0 new or updated, 4 already imported" in capsys.readouterr().out
    assert import_files(overlap) == 0
    with ledger() as db:
        assert billed_costs(db) == pytest.approx([0.10] * 6)


def test_not_an_export_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_csv(tmp_path / "x.csv", ["1,2"], header="a,b")
    assert import_files(bad) == 1
    assert "not a Cursor usage export" in capsys.readouterr().err


def api_events(*stamps: int, cents: float = 7.0) -> PullResult:
    items = [
        {
            "timestamp": str(stamp),
            "model": "claude-4.5-sonnet",
            "kind": "USAGE_EVENT_KIND_USAGE_BASED",
            "chargedCents": cents,
            "tokenUsage": {"inputTokens": 1000, "outputTokens": 300},
            "owningUser": "42",
        }
        for stamp in stamps
    ]
    priced, _ = parse_events(items)
    return PullResult("cursor", min(stamps) - HOUR, max(stamps) + 1, requests=priced)


def test_api_events_replace_csv_rows_of_the_same_requests(tmp_path: Path) -> None:
    base = NOW_MS - 10 * HOUR
    stamps = [base + i * HOUR for i in range(3)]
    export = write_csv(tmp_path / "a.csv", [csv_row(s, "$0.10") for s in stamps])
    assert import_files(export) == 0
    with ledger() as db:
        # The API reports the same requests with their exact milliseconds.
        store_pull(db, api_events(*(s + 250 for s in stamps[:2])), NOW_MS, NOW_MS + HOUR)
        assert billed_costs(db) == pytest.approx([0.07, 0.07, 0.10])
    assert import_files(export) == 0  # a re-import does not bring the replaced rows back
    with ledger() as db:
        assert billed_costs(db) == pytest.approx([0.07, 0.07, 0.10])


def test_billed_rows_take_precedence_over_local_estimates(tmp_path: Path) -> None:
    """Shape: modern split storage with three requests; billed rows cover the first two.

    Reports, the cap projection's daily spend and the dashboard's burn rate count the
    billed rows up to the newest one, and the estimate only after it."""
    user_dir = tmp_path / "Cursor" / "User"
    store = create_store(user_dir)
    stamps = [NOW_MS - 2 * HOUR, NOW_MS - HOUR, NOW_MS - 60_000]
    split_composer(store, "c", [("claude-4.5-sonnet", s, (1000, 300)) for s in stamps])
    estimate = 1000 * 3e-6 + 300 * 15e-6
    zone = ZoneInfo("UTC")
    with ledger() as db:
        sync_cursor(db, [LogRoot(CURSOR_LOCAL, user_dir, "test")])
        db.refresh_rollup()
        assert total_cost(db) == pytest.approx(3 * estimate)
        store_pull(db, api_events(stamps[0] + 10, stamps[1] + 10, cents=50.0), NOW_MS, NOW_MS)
        assert cursor_store.billed_ranges(db.db) == [(stamps[0] + 10 - HOUR, stamps[1] + 10)]
        assert total_cost(db) == pytest.approx(2 * 0.50 + estimate)
        now = datetime.fromtimestamp(NOW_MS / 1000, UTC)
        day = sum(daily_spend(db, now, zone).values())
        assert day == pytest.approx(2 * 0.50 + estimate)
        snapshot = build_snapshot(db, NOW_MS, zone, BudgetSettings())
        # The last hour: one billed row, and the estimate after it; its own estimate is out.
        assert snapshot.burn_1h.cost_usd == pytest.approx(0.50 + estimate)
        local = [s for s in snapshot.sessions if s.source == CURSOR_LOCAL]
        assert local[0].requests == 1
        recon = reconciliation(db, NOW_MS - 86_400_000, NOW_MS)
        (row,) = [r for r in recon.rows if r.provider == "cursor"]
        assert row.billed_usd == pytest.approx(1.0) and row.local_usd == pytest.approx(2 * estimate)


def total_cost(db: Ledger) -> float:
    return sum(t.cost_usd for _, t in queries.bucket_totals(db, queries.RequestFilter()))


def test_csv_import_moves_the_billed_boundary(tmp_path: Path) -> None:
    """Shape: modern split storage; an imported CSV bills the older of two requests."""
    user_dir = tmp_path / "Cursor" / "User"
    store = create_store(user_dir)
    stamps = [NOW_MS - HOUR, NOW_MS - 60_000]
    split_composer(store, "c", [("gpt-5", s, (1000, 300)) for s in stamps])
    with ledger() as db:
        sync_cursor(db, [LogRoot(CURSOR_LOCAL, user_dir, "test")])
        db.refresh_rollup()
    assert import_files(write_csv(tmp_path / "a.csv", [csv_row(stamps[0], "$2.00")])) == 0
    with ledger() as db:
        rows = queries.model_rows(db, queries.RequestFilter())
        by_source = {(r.key["source"], r.key["model"]): r.totals.requests for r in rows}
    assert by_source == {("cursor", "claude-4.5-sonnet"): 1, ("cursor-local", "gpt-5"): 1}
