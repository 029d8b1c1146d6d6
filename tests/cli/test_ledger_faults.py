"""Faults the ledger must survive, as a user meets them at the command line: a damaged
file (on a page the reports read, and on one they do not), lost logs, a full disk and a
read-only home. Each ends in exact totals, one clear line, or a recovery that says what
it did; never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.cli.test_commands import assistant, write_session
from tokenbuddy.cli.main import main
from tokenbuddy.store.ledger import backups

DAYS = ("2026-11-20", "2026-11-21", "2026-11-22")


@pytest.fixture
def history(isolated_environment: Path) -> Path:
    """Three days of one session each, in three log files."""
    root = isolated_environment / "claude"
    for number, day in enumerate(DAYS):
        write_session(
            root, assistant(f"m{number}", f"{day}T10:00:00Z", session=f"s{number}"), name=day
        )
    return root


@pytest.fixture
def ledger_path(isolated_environment: Path) -> Path:
    return isolated_environment / "tokenbuddy" / "data" / "ledger.sqlite3"


def daily(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, int], str]:
    """Requests per day from ``report daily --json``, and what went to stderr."""
    assert main(["report", "daily", "--json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)["rows"]
    return {row["date"]: row["requests"] for row in rows}, captured.err


def root_page(ledger: Path, table: str) -> int:
    with sqlite3.connect(ledger) as db:
        (page,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
        (size,) = db.execute("PRAGMA page_size").fetchone()
    db.close()
    return (int(page) - 1) * int(size)


def damage(ledger: Path, table: str) -> None:
    """Write 4 KB of garbage over the first page of ``table``'s B-tree."""
    offset = root_page(ledger, table)
    with ledger.open("r+b") as handle:
        handle.seek(offset)
        handle.write(bytes(range(256)) * 16)


def back_date(ledger: Path, days: int) -> None:
    """Make today's backup look ``days`` old (today's is then still to be taken)."""
    directory = backups.backup_dir(ledger)
    (copy,) = backups.backups(directory)
    older = copy.day - timedelta(days=days)
    copy.path.rename(directory / f"ledger-{older.isoformat()}.sqlite3")


def test_a_damaged_page_the_reports_read_is_recovered_from_the_backup(
    history: Path, ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, _ = daily(capsys)
    assert before == dict.fromkeys(DAYS, 1)
    assert len(backups.backups(backups.backup_dir(ledger_path))) == 1
    damage(ledger_path, "usage_rollup")
    after, err = daily(capsys)
    assert after == before
    assert "Traceback" not in err
    assert "the ledger was damaged (" in err
    assert "restored the backup of" in err
    assert "Every day the damaged ledger still showed was recovered." in err
    damaged = list(ledger_path.parent.glob("ledger.sqlite3.damaged-*"))
    assert [path.name for path in damaged if not path.name.endswith(("-wal", "-shm"))]
    assert main(["doctor", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["integrity_problems"] == []


def test_logs_written_after_the_backup_are_read_again(
    history: Path, ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    daily(capsys)
    write_session(history, assistant("late", "2026-11-23T09:00:00Z", session="s9"), name="late")
    assert daily(capsys)[0]["2026-11-23"] == 1
    damage(ledger_path, "usage_rollup")
    after, err = daily(capsys)
    assert after == {**dict.fromkeys(DAYS, 1), "2026-11-23": 1}
    assert "1 requests re-read" in err


def test_days_whose_logs_are_gone_are_named_as_not_recovered(
    history: Path, ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    daily(capsys)
    shutil.rmtree(backups.backup_dir(ledger_path))  # no backup: only the logs remain
    (history / "projects" / "-home-dev-shop" / "2026-11-21.jsonl").unlink()
    damage(ledger_path, "usage_rollup")
    after, err = daily(capsys)
    assert after == {"2026-11-20": 1, "2026-11-22": 1}
    assert "found no sound backup, so started a new ledger" in err
    assert "Days that could not be recovered (UTC, requests missing): 2026-11-21 (1)" in err


def test_damage_on_a_page_no_report_reads_is_found_by_doctor_and_repaired(
    history: Path, ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, _ = daily(capsys)
    damage(ledger_path, "guard_decisions")
    assert daily(capsys)[0] == before  # the reports do not read it...
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "integrity check FAILED" in out
    assert "tokenbuddy doctor --repair" in out
    assert main(["doctor", "--repair"]) == 0
    captured = capsys.readouterr()
    assert "Repaired: the ledger was damaged" in captured.err
    assert "integrity check passed" in captured.out
    assert daily(capsys)[0] == before


def test_the_daily_backup_checks_the_ledger_first_and_recovers_a_damaged_one(
    history: Path, ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, _ = daily(capsys)
    back_date(ledger_path, 1)
    damage(ledger_path, "guard_decisions")
    after, err = daily(capsys)
    assert after == before
    assert "failed its integrity check" in err
    yesterday = date.today() - timedelta(days=1)
    assert f"restored the backup of {yesterday.isoformat()}" in err
    days = [copy.day for copy in backups.backups(backups.backup_dir(ledger_path))]
    assert days == [date.today(), yesterday]


def test_doctor_repair_on_a_sound_ledger_changes_nothing(
    history: Path, ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    daily(capsys)
    assert main(["doctor", "--repair"]) == 0
    assert "passed its integrity check: nothing to repair" in capsys.readouterr().err
    assert not list(ledger_path.parent.glob("*.damaged-*"))


@pytest.fixture
def small_mount(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A tmpfs of 1 MB (or the size the test asks for), where the test may mount one (as
    root); skipped elsewhere."""
    mount = tmp_path / "mount"
    mount.mkdir()
    size = getattr(request, "param", "1m")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_is_one_line_and_a_non_zero_exit(
    history: Path,
    small_mount: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TOKENBUDDY_HOME", str(small_mount / "tokenbuddy"))
    for number in range(40):  # more requests than 1 MB of ledger holds
        write_session(
            history,
            *(
                assistant(f"x{number}-{n}", "2026-11-24T10:00:00Z", session=f"x{number}")
                for n in range(300)
            ),
            name=f"bulk-{number}",
        )
    assert main(["report", "daily"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "the disk is full" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("small_mount", ["8m"], indirect=True)
def test_a_read_only_home_still_answers_reports_with_a_notice(
    history: Path,
    small_mount: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TOKENBUDDY_HOME", str(small_mount / "tokenbuddy"))
    before, _ = daily(capsys)
    write_session(history, assistant("new", "2026-11-23T09:00:00Z", session="s9"), name="new")
    subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    after, err = daily(capsys)
    assert after == before  # the new log cannot be written into the ledger
    assert "read-only" in err
    assert "showing what the ledger holds" in err
    assert main(["status"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_an_unwritable_ledger_directory_still_answers(
    history: Path, ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without root, a read-only directory does what a read-only mount does."""
    if os.geteuid() == 0:
        pytest.skip("root writes into a read-only directory")
    before, _ = daily(capsys)
    ledger_path.parent.chmod(0o500)
    try:
        after, err = daily(capsys)
    finally:
        ledger_path.parent.chmod(0o700)
    assert after == before
    assert "read-only" in err


def test_damage_in_another_database_never_moves_a_sound_ledger(
    history: Path, ledger_path: Path, tmp_path: Path
) -> None:
    from tokenbuddy.errors import LedgerError
    from tokenbuddy.services.recovery import guarded

    assert main(["report", "daily"]) == 0
    other = tmp_path / "other.sqlite3"
    other.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 64)

    def reads_another_database() -> int:
        with sqlite3.connect(other) as db:
            db.execute("SELECT * FROM sqlite_master").fetchall()
        return 0

    with pytest.raises(LedgerError, match="damaged"):
        guarded(reads_another_database, ledger_path, list)
    assert not list(ledger_path.parent.glob("*.damaged-*"))
