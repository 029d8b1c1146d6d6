"""``tokenbuddy tips`` as a user runs it: JSON, text, the window, and a light import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import orjson
import pytest

from tests.incidents import broken_cache_incident
from tokenbuddy.cli.main import main

if TYPE_CHECKING:
    from pathlib import Path

KEYS = {
    "id",
    "title",
    "saving_usd_per_month",
    "evidence",
    "action",
    "why",
    "method",
    "window_days",
    "requests_counted",
}


@pytest.fixture
def broken_cache(isolated_environment: Path) -> Path:
    """A broken-cache Opus session that ended a couple of hours ago."""
    root = isolated_environment / "claude"
    broken_cache_incident(root, datetime.now(UTC) - timedelta(hours=3))
    return root


def test_json_lists_tips_ranked_by_saving(
    broken_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tips", "--json"]) == 0
    tips = orjson.loads(capsys.readouterr().out)["tips"]
    assert "cache-health" in [t["id"] for t in tips]
    assert all(set(t) >= KEYS and t["saving_usd_per_month"] > 0.01 for t in tips)
    savings = [t["saving_usd_per_month"] for t in tips]
    assert savings == sorted(savings, reverse=True)
    assert all(t["window_days"] == pytest.approx(14) for t in tips)


def test_text_shows_title_saving_why_evidence_and_action(
    broken_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tips"]) == 0
    out = capsys.readouterr().out
    assert "Fix what breaks the prompt cache: ~$" in out
    for label in ("Why", "Evidence", "Action", "How"):
        assert f"   {label}" in out
    assert "checkout-service · session" in out


def test_since_sets_the_window(broken_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    since = (datetime.now(UTC) - timedelta(days=8)).date().isoformat()
    assert main(["tips", "--json", "--since", since]) == 0
    tips = orjson.loads(capsys.readouterr().out)["tips"]
    assert tips and all(8 <= t["window_days"] <= 9 for t in tips)


def test_a_window_too_short_to_scale_to_a_month_is_refused(
    broken_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    since = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    assert main(["tips", "--since", since]) == 1
    assert "at least 7 days before" in capsys.readouterr().err


def test_an_empty_ledger_has_no_tips(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tips"]) == 0
    assert capsys.readouterr().out.startswith("No tips for ")
    assert main(["tips", "--json"]) == 0
    assert orjson.loads(capsys.readouterr().out) == {"tips": []}


@pytest.mark.parametrize("since", ["yesterday", "2999-01-01"])
def test_a_bad_since_is_one_line_on_stderr(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str], since: str
) -> None:
    assert main(["tips", "--since", since]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tokenbuddy: --since") and err.count("\n") == 1
