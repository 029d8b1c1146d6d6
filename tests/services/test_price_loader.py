"""The price helper of a first run: same schedules as building them here, and never in
the way (it may die, fail a request or not be wanted at all)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tokenbuddy.core import pricing
from tokenbuddy.core.pricing import build_schedule
from tokenbuddy.services import price_loader
from tokenbuddy.services.price_loader import MAX_PENDING, PriceLoader

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the price helper needs fork")

KEYS = [
    ("claude-opus-4-1-20250805", "anthropic", ""),
    ("claude-opus-4-6", "anthropic", "fast"),
    ("claude-sonnet-4-5-20250929", "anthropic", ""),
    ("claude-3-5-haiku-20241022", "anthropic", ""),
    ("gpt-5-codex", "openai", ""),
    ("gpt-5.1-codex-max", "openai", ""),
    ("mystery-model-9", "anthropic", ""),
]


@pytest.fixture
def loader() -> Iterator[PriceLoader]:
    started = PriceLoader.start()
    assert started is not None
    yield started
    started.stop()


def test_the_helper_builds_exactly_what_this_process_would(loader: PriceLoader) -> None:
    for key in KEYS:
        assert loader.build(*key) == build_schedule(*key), key
    assert loader.answered == len(KEYS)
    assert loader.build("mystery-model-9", "anthropic", "") is None


def test_many_requests_in_flight_do_not_block(loader: PriceLoader) -> None:
    keys = [(f"claude-sonnet-4-5-{n:08d}", "anthropic", "") for n in range(3 * MAX_PENDING)]
    keys += KEYS
    for key in keys:
        loader.prefetch(*key)
    for key in reversed(keys):  # answers arrive in request order; asked for in any order
        assert loader.build(*key) == build_schedule(*key), key


def test_a_dead_helper_means_building_here(loader: PriceLoader) -> None:
    os.kill(loader._pid, signal.SIGKILL)
    os.waitpid(loader._pid, 0)
    for key in KEYS:
        assert loader.build(*key) == build_schedule(*key), key
    assert loader.answered == 0 and not loader.open


def test_a_helper_killed_with_requests_in_flight_changes_nothing() -> None:
    """Whatever it answered before dying is used; the rest is built here."""
    loader = PriceLoader.start()
    assert loader is not None
    try:
        for key in KEYS:
            loader.prefetch(*key)
        os.kill(loader._pid, signal.SIGKILL)
        for key in KEYS:
            assert loader.build(*key) == build_schedule(*key), key
        assert loader.answered <= len(KEYS)
    finally:
        loader.stop()


def test_a_request_the_helper_cannot_answer_is_built_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = pricing.build_schedule

    def failing(model: str, provider: str, context: str) -> pricing.PriceSchedule | None:
        if model.startswith("claude-opus"):
            raise RuntimeError("the price database is broken for this model")
        return real(model, provider, context)

    monkeypatch.setattr(pricing, "build_schedule", failing)
    loader = PriceLoader.start()  # the helper inherits the failing builder
    monkeypatch.setattr(pricing, "build_schedule", real)
    assert loader is not None
    try:
        assert loader.build(*KEYS[2]) == real(*KEYS[2])
        assert loader.build(*KEYS[0]) == real(*KEYS[0])  # failed there, built here
    finally:
        loader.stop()


def test_a_released_helper_is_no_longer_active(tmp_path: Path) -> None:
    price_loader.start_for_first_run(tmp_path / "ledger.sqlite3")
    loader = price_loader.active()
    assert loader is not None
    price_loader.release()
    assert price_loader.active() is None and not loader.open
    assert loader.build(*KEYS[0]) == build_schedule(*KEYS[0])  # built here
    price_loader.stop()


def test_only_a_missing_ledger_starts_a_helper(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    ledger.touch()
    price_loader.start_for_first_run(ledger)
    assert price_loader.active() is None
    ledger.unlink()
    price_loader.start_for_first_run(ledger)
    try:
        assert price_loader.active() is not None
    finally:
        price_loader.stop()
    assert price_loader.active() is None


FIRST_RUN = """
import json, sys
from tokenbuddy.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "imported": "genai_prices" in sys.modules}), file=sys.stderr)
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_first_run_prices_through_the_helper_with_the_same_result(
    tmp_path: Path, jobs: str
) -> None:
    from tests.services.ingest.test_bulk_load import write_tree

    write_tree(Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects", files=8, records=40)
    command = [sys.executable, "-c", FIRST_RUN, "report", "session", "--json", "--jobs", jobs]

    def first_run(home: Path) -> tuple[bytes, dict[str, object]]:
        env = {**os.environ, "TOKENBUDDY_HOME": str(home), "TOKENBUDDY_PARALLEL_MIN_MB": "0"}
        done = subprocess.run(command, env=env, capture_output=True, check=True)
        return done.stdout, json.loads(done.stderr.decode().strip().splitlines()[-1])

    helped, helped_run = first_run(tmp_path / "helped")
    alone_home = tmp_path / "alone"
    (alone_home / "data").mkdir(parents=True)
    (alone_home / "data" / "ledger.sqlite3").touch()  # an empty ledger: no helper
    alone, alone_run = first_run(alone_home)
    assert helped == alone
    assert json.loads(helped)["totals"]["requests"] == 8 * 40 // 2
    assert helped_run == {"code": 0, "imported": False}, "priced by the helper"
    assert alone_run == {"code": 0, "imported": True}
