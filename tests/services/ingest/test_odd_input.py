"""Input an unlucky user has: FIFOs and devices named like logs, records dated 1900 or
3000, staging files a killed run left, a config entry that is a file. Each is skipped,
counted and named, never a hang or a silent loss."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import pytest

from tests.services.ingest.test_incremental import (
    append,
    assistant,
    counts,
    lines,
    run_sync,
    standard,
    stored,
    transcript,
)
from tokenbuddy.core.records import SkipReason
from tokenbuddy.services.session import missing_roots
from tokenbuddy.sources.discovery import LogRoot
from tokenbuddy.store.ledger import Ledger

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite3") as opened:
        yield opened


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it; the timeout only stops a hang from stalling the suite."""
    return subprocess.run(
        [sys.executable, "-m", "tokenbuddy", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_and_a_dev_zero_symlink_are_skipped_counted_and_named() -> None:
    path = transcript()
    append(path, lines(assistant(1), assistant(2)))
    os.mkfifo(path.with_name("pipe.jsonl"))
    path.with_name("zero.jsonl").symlink_to("/dev/zero")
    report = run_cli("report", "daily", "--json")
    assert report.returncode == 0, report.stderr
    assert orjson.loads(report.stdout)["totals"]["requests"] == 2
    assert "2 log paths are not regular files" in report.stderr
    doctor = run_cli("doctor", "--json")
    named = orjson.loads(doctor.stdout)["not_regular_files"]
    assert named == [
        f"{path.with_name('pipe.jsonl')} (a FIFO)",
        f"{path.with_name('zero.jsonl')} (a character device)",
    ]
    assert "Not regular files" in run_cli("doctor").stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_where_cursor_keeps_its_database_is_passed_over() -> None:
    store = Path(os.environ["TOKENBUDDY_CURSOR_DIR"]) / "globalStorage"
    store.mkdir(parents=True)
    os.mkfifo(store / "state.vscdb")
    append(transcript(), lines(assistant(1)))
    report = run_cli("report", "daily", "--json")
    assert report.returncode == 0, report.stderr
    assert orjson.loads(report.stdout)["totals"]["requests"] == 1


def test_records_dated_1900_and_3000_are_both_skipped_and_counted(ledger: Ledger) -> None:
    path = transcript()
    append(
        path,
        lines(
            assistant(1),
            assistant(2, timestamp="1900-01-01T00:00:00Z"),
            assistant(3, timestamp="3000-01-01T00:00:00Z"),
            assistant(4, timestamp="2019-12-31T23:59:59Z"),
        ),
    )
    run_sync(ledger)
    assert counts(ledger) == standard(1)
    assert stored(ledger, path).skipped == {SkipReason.IMPLAUSIBLE_DATE: 3}


def test_the_report_says_how_many_requests_had_implausible_dates() -> None:
    append(transcript(), lines(assistant(1), assistant(2, timestamp="1900-01-01T00:00:00Z")))
    table = run_cli("report", "daily")
    assert "1 request dated before 2020 or over a day ahead of the clock" in table.stderr
    assert orjson.loads(run_cli("report", "daily", "--json").stdout)["implausible_dates"] == 1


def test_staging_files_of_a_killed_run_are_removed_by_the_next_pass(ledger: Ledger) -> None:
    staging = ledger.path.parent / "staging"
    staging.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    stale = staging / f"stage-{dead.stdout.strip()}.sqlite3"
    stale.write_bytes(b"left by a killed run")
    mine = staging / f"stage-{os.getpid()}.sqlite3"
    mine.write_bytes(b"a live process's")
    append(transcript(), lines(assistant(1)))
    run_sync(ledger)  # a small, incremental pass: no bulk load of its own
    assert not stale.exists()
    assert mine.exists()


def test_a_config_entry_that_is_a_file_gets_the_missing_directory_warning(
    tmp_path: Path,
) -> None:
    not_a_dir = tmp_path / "claude-config"
    not_a_dir.write_text("oops")
    warnings = missing_roots(
        [
            LogRoot("claude-code", not_a_dir / "projects", "CLAUDE_CONFIG_DIR"),
            LogRoot("codex", tmp_path / "gone" / "sessions", "CODEX_HOME"),
        ]
    )
    assert warnings == [
        f"{not_a_dir} (from CLAUDE_CONFIG_DIR) is a file, not a directory;"
        " its Claude Code logs are not counted",
        f"{tmp_path / 'gone'} (from CODEX_HOME) does not exist; its Codex logs are not counted",
    ]
