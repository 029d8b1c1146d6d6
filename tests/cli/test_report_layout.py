"""Report tables fit the terminal; --wide, --breakdown, --order and report blocks."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.cli.test_commands import assistant, write_session
from tokenbuddy.cli.main import main
from tokenbuddy.cli.table import compact

LONG_PROJECT = "/home/dev/an-uncommonly-long-project-name-for-a-checkout-service"


@pytest.fixture
def history(isolated_environment: Path) -> Path:
    root = isolated_environment / "claude"
    records = [
        assistant(f"m{i}", f"2026-04-{day:02d}T{hour:02d}:10:00Z", cwd=LONG_PROJECT, output=4000)
        for i, (day, hour) in enumerate((d, h) for d in (18, 19) for h in (9, 10, 16))
    ]
    records.append(
        assistant("opus", "2026-04-19T16:30:00Z", model="claude-opus-4-1", cwd=LONG_PROJECT)
    )
    write_session(root, *records)
    return root


@pytest.mark.parametrize(
    "value, shown",
    [
        (999, "999"),
        (9_999, "9,999"),
        (52_300_000, "52.3M"),
        (12_345, "12.3k"),
        (1_234_567_890, "1.2B"),
    ],
)
def test_compact_numbers(value: int, shown: str) -> None:
    assert compact(value) == shown


@pytest.mark.parametrize("kind", ["session", "model", "daily"])
@pytest.mark.parametrize("columns", [80, 60])
def test_tables_fit_the_terminal_and_keep_the_cost(
    history: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    columns: int,
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["report", kind]) == 0
    out = capsys.readouterr().out
    table = out.split("\n\n")[0].splitlines()
    assert max(len(line) for line in table) <= columns
    assert table[0].split()[-1] == "Cost"
    assert "--wide" in out or kind == "daily"


def test_wide_and_pipes_keep_every_column_and_exact_numbers(
    history: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "session"]) == 0  # captured: not a terminal
    piped = capsys.readouterr().out
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["report", "session", "--wide"]) == 0
    wide = capsys.readouterr().out
    assert piped == wide
    assert "Cache write" in wide and "24,100" in wide and "an-uncommonly-long" in wide
    assert max(len(line) for line in wide.splitlines()) > 80


def test_json_is_the_same_whatever_the_width(
    history: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "session", "--json"]) == 0
    wide = capsys.readouterr().out
    monkeypatch.setenv("COLUMNS", "40")
    assert main(["report", "session", "--json"]) == 0
    assert capsys.readouterr().out == wide


def test_breakdown_puts_each_model_under_its_period(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "daily", "--breakdown", "--json"]) == 0
    rows = orjson.loads(capsys.readouterr().out)["rows"]
    assert [row["date"] for row in rows] == ["2026-04-18", "2026-04-19"]
    latest = rows[1]["model_breakdown"]
    assert [model["model"] for model in latest] == ["claude-sonnet-4-5-20250929", "claude-opus-4-1"]
    assert sum(model["requests"] for model in latest) == rows[1]["requests"] == 4
    assert main(["report", "daily", "--breakdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[3].startswith("  └ claude-sonnet-4-5")


def test_order_desc_puts_the_latest_first(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "daily", "--order", "desc", "--json"]) == 0
    rows = orjson.loads(capsys.readouterr().out)["rows"]
    assert [row["date"] for row in rows] == ["2026-04-19", "2026-04-18"]


@pytest.mark.parametrize(
    "argv", [["report", "model", "--breakdown"], ["report", "model", "--order", "desc"]]
)
def test_options_that_do_not_apply_are_refused(
    history: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert main(argv) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_blocks_follow_the_five_hour_windows(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "blocks", "--json"]) == 0
    blocks = orjson.loads(capsys.readouterr().out)["blocks"]
    assert [(b["start"], b["requests"]) for b in blocks] == [
        ("2026-04-18T09:00:00+00:00", 2),
        ("2026-04-18T16:00:00+00:00", 1),
        ("2026-04-19T09:00:00+00:00", 2),
        ("2026-04-19T16:00:00+00:00", 2),
    ]
    assert blocks[-1]["models"] == ["claude-sonnet-4-5-20250929", "claude-opus-4-1"]
    assert not any(block["active"] for block in blocks)
    assert main(["report", "blocks"]) == 0
    out = capsys.readouterr().out
    assert "No active block" in out and out.splitlines()[0].split()[:3] == ["Block", "start", "End"]
