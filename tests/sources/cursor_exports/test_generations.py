"""Cursor usage exports of every generation, read by header and by field."""

from __future__ import annotations

import pytest

from tests.sources.cursor_exports.builders import V1, V2, V3, Row, export
from tokenbuddy.errors import SourceError
from tokenbuddy.sources.cursor_csv import (
    CLOCK_SLACK_MS,
    Skip,
    parse_date,
    parse_export,
    parse_units,
)

T0 = 1_772_000_000_000
"""2026-02-25T06:13:20Z."""


def test_v1_bills_cost_to_you_and_reads_cache_write_as_its_own_column() -> None:
    text = export(V1, [Row(T0, cost="$0.25")])
    rows = parse_export(text, "v1.csv")
    ((record, billed),) = rows.priced
    assert rows.generations == {"v1": 1}
    assert billed == 0.25 and record.reported_cost_usd == 0.25
    assert (record.cache_write_5m_tokens, record.input_tokens) == (1500, 1000)
    assert (record.cache_read_tokens, record.output_tokens) == (20000, 300)
    assert record.total_tokens == 22800


def test_v2_with_shuffled_and_unknown_columns() -> None:
    header = ["Cost", "Model", "Some New Column", *[c for c in V2 if c not in ("Cost", "Model")]]
    rows = parse_export(export(header, [Row(T0, model="gpt-5-high", cost="1.234,56 €")]), "a")
    ((record, billed),) = rows.priced
    assert rows.generations == {"v2": 1}
    assert record.model == "gpt-5-high" and billed == pytest.approx(1234.56)


def test_v3_has_no_cost_rows_are_estimates_with_fractional_requests() -> None:
    text = export(
        V3,
        [
            Row(T0, requests="0.5", kind="Usage-based"),
            Row(T0 + 1, requests="-", kind="Included"),
            Row(T0 + 2, requests="Free", kind="Included"),
            Row(T0 + 3, requests="2", kind="Free"),
        ],
    )
    rows = parse_export(text, "v3.csv")
    assert rows.generations == {"v3": 1}
    billed = [b for _, b in rows.priced]
    units = [r.billing_units for r, _ in rows.priced]
    # No Cost column: None means "price at list price"; free rows are $0 billed.
    assert billed == [None, None, 0.0, 0.0]
    assert units == [0.5, 0.0, 0.0, 2.0]
    assert rows.not_charged == 1


@pytest.mark.parametrize(
    "kind", ["Errored, No Charge", "Aborted, Not Charged", "Free", "ERRORED_NOT_CHARGED"]
)
def test_errored_aborted_and_free_rows_keep_tokens_at_no_cost(kind: str) -> None:
    rows = parse_export(export(V2, [Row(T0, kind=kind, cost="$0.30")]), "a")
    ((record, billed),) = rows.priced
    assert billed == 0.0 and record.total_tokens == 22800
    assert rows.not_charged == 1


@pytest.mark.parametrize(
    ("cost", "billed"),
    [("Included", 0.0), ("Free", 0.0), ("", None), ("-", None), ("0,49 $", 0.49)],
)
def test_cost_cell_oddities(cost: str, billed: float | None) -> None:
    ((_, found),) = parse_export(export(V2, [Row(T0, cost=cost)]), "a").priced
    assert found == billed


def test_token_cell_oddities_and_total_check() -> None:
    text = export(
        V2,
        [
            Row(T0, cache_write=12345, total="33,645"),  # thousands separators agree
            Row(T0 + 1, total="999"),  # disagrees: skipped
            Row(T0 + 2, total="-"),  # no total to check
            Row(T0 + 3, total=""),
        ],
    )
    rows = parse_export(text, "a")
    assert [r.cache_write_5m_tokens for r, _ in rows.priced] == [12345, 1500, 1500]
    assert rows.bad_rows == {Skip.TOTAL: 1}


def test_empty_token_cells_are_zero() -> None:
    text = export(V2, [Row(T0)]).replace(",20000,", ",,").replace("22800", "2800")
    ((record, _),) = parse_export(text, "a").priced
    assert record.cache_read_tokens == 0


def test_team_export_keys_rows_by_member() -> None:
    twins = [Row(T0, user="ana@example.com"), Row(T0, user="bo@example.com")]
    rows = parse_export(export([*V2, "User"], twins), "team.csv")
    keys = [r.dedup_key for r, _ in rows.priced]
    assert len(set(keys)) == 2 and "ana@example.com" in keys[0]
    email = parse_export(export([*V3, "Email"], twins), "team.csv")
    assert len({r.dedup_key for r, _ in email.priced}) == 2


def test_identical_rows_of_one_file_are_ranked_not_merged() -> None:
    rows = parse_export(export(V2, [Row(T0), Row(T0)]), "a")
    assert [r.dedup_key[-2:] for r, _ in rows.priced] == [":0", ":1"]
    assert rows.ranges == [(T0 - CLOCK_SLACK_MS, T0 + CLOCK_SLACK_MS)]


def test_bad_dates_and_models_are_counted() -> None:
    text = export(V2, [Row(T0), Row(T0, model="")]) + "yesterday,Included,gpt-5,No,1,1,1,1,4,$1\n"
    rows = parse_export(text, "a")
    assert len(rows.priced) == 1
    assert rows.bad_rows == {Skip.NO_DATE: 1, Skip.NO_MODEL: 1}


@pytest.mark.parametrize("header", ["a,b", "Date,Kind,Cost", "Model,Cost", "Date,Model,Max Mode"])
def test_not_an_export(header: str) -> None:
    with pytest.raises(SourceError, match="not a Cursor usage export"):
        parse_export(header + "\n1,2\n", "x.csv")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02-25T06:13:20.000Z", T0),
        ("2026-02-25 06:13:20", T0),
        ("2026-02-25T07:13:20+01:00", T0),
        (str(T0), T0),
        (str(T0 // 1000), T0),
        ("Feb 25, 2026, 6:13 AM", T0 - 20_000),
        ("soon", None),
    ],
)
def test_date_layouts(text: str, expected: int | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "units"), [("1", 1.0), ("0.5", 0.5), ("0,5", 0.5), ("-", 0.0), ("Free", 0.0)]
)
def test_requests_units(text: str, units: float) -> None:
    assert parse_units(text) == units
