"""``tokenbuddy report --source gemini-cli|qwen-code --json`` over built agent homes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.sources.gemini_cli import test_gemini_cli as gemini
from tests.sources.qwen_code import test_qwen_code as qwen
from tokenbuddy.cli.main import main
from tokenbuddy.sources import gemini_cli, qwen_code

KEYS = ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens",
        "cost_usd", "requests", "cache_hit_ratio")  # fmt: skip
"""The totals asserted (the agents record no cost or requests of their own)."""


def report(capsys: pytest.CaptureFixture[str], source: str) -> dict[str, object]:
    assert main(["report", "model", "--source", source, "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_the_report_of_each_agent_carries_its_exact_totals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gemini.build_home(tmp_path / ".gemini")
    qwen.build_home(tmp_path / ".qwen")
    monkeypatch.setenv(gemini_cli.ENV_VAR, str(tmp_path / ".gemini"))
    monkeypatch.setenv(qwen_code.ENV_VAR, str(tmp_path / ".qwen"))
    totals: dict[str, object] = report(capsys, "gemini-cli")["totals"]  # type: ignore[assignment]
    assert totals | {"reported_cost_usd": None, "reported_requests": 0} == totals
    assert {key: totals[key] for key in KEYS} == {
        "input_tokens": 15_200, "output_tokens": 2_100, "cache_creation_tokens": 0,
        "cache_read_tokens": 19_000, "cost_usd": pytest.approx(gemini.FLASH_COST),
        "requests": 4, "cache_hit_ratio": pytest.approx(19_000 / 34_200, abs=1e-4),
    }  # fmt: skip
    answer: dict[str, Any] = report(capsys, "qwen-code")
    assert answer["unpriced_models"] == {"qwen3-coder-plus": 2}
    assert {key: answer["totals"][key] for key in KEYS} == {
        "input_tokens": 34_000, "output_tokens": 2_600, "cache_creation_tokens": 0,
        "cache_read_tokens": 30_000, "cost_usd": pytest.approx(0.00425),
        "requests": 3, "cache_hit_ratio": pytest.approx(30_000 / 64_000, abs=1e-4),
    }  # fmt: skip
