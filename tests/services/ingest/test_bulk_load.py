"""The bulk path (several parsing processes, staging files, one merge) agrees with the
incremental path, survives SIGKILL, and leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

import tokenbuddy.services.ingest.reads
import tokenbuddy.services.ingest.staged
from tests.conftest import environ_for
from tokenbuddy.services.ingest import IngestSummary, sync
from tokenbuddy.services.report import build_report
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.store.ledger import Ledger

UTC = ZoneInfo("UTC")


def write_tree(projects: Path, files: int = 24, records: int = 300) -> None:
    """Transcripts with streamed duplicates, shared ids across files and padding lines."""
    padding = orjson.dumps({"type": "user", "message": {"content": "x" * 600}}) + b"\n"
    for number in range(files):
        lines = []
        for n in range(records):
            request = (number * records + n) // 2  # every request appears in two files
            for output in (3, 90 + n % 7):  # a partial and a final copy
                lines.append(
                    orjson.dumps(
                        {
                            "type": "assistant",
                            "timestamp": f"2026-11-{1 + n % 20:02d}T10:{n % 60:02d}:00Z",
                            "sessionId": f"s{number % 5}",
                            "cwd": f"/home/dev/p{number % 3}",
                            "requestId": f"req_{request}",
                            "message": {
                                "id": f"msg_{request}",
                                "model": "claude-sonnet-4-5",
                                "usage": {
                                    "input_tokens": 5,
                                    "output_tokens": output,
                                    "cache_read_input_tokens": 1000 + n,
                                },
                            },
                        }
                    )
                    + b"\n"
                    + padding
                )
        directory = projects / f"-home-dev-p{number % 3}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"s{number}.jsonl").write_bytes(b"".join(lines))


def ingest(tmp_path: Path, name: str, jobs: int, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    monkeypatch.setenv("TOKENBUDDY_PARALLEL_MIN_MB", "0")
    ledger = Ledger(tmp_path / f"{name}.sqlite3")
    summary = sync_checked(ledger, jobs)
    assert summary.files_read > 0
    return ledger


def sync_checked(ledger: Ledger, jobs: int) -> IngestSummary:
    """Sync, checking that ``jobs=2`` really took the staged path."""
    staged = []
    original = tokenbuddy.services.ingest.staged.ingest_staged

    def spy(*args: Any, **kwargs: Any) -> Any:
        staged.append(True)
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tokenbuddy.services.ingest.staged, "ingest_staged", spy)
        patch.setattr(
            tokenbuddy.services.ingest.reads,
            "BATCH_FILES",
            min(4, tokenbuddy.services.ingest.reads.BATCH_FILES),
        )
        summary = sync(ledger, log_roots(os.environ, ledger.path.parent), jobs=jobs)
    assert bool(staged) == (jobs > 1), f"not staged; threads alive: {threading.enumerate()}"
    return summary


def snapshot(ledger: Ledger) -> tuple[object, ...]:
    reports = tuple(
        orjson.dumps(build_report(ledger, kind, zone=UTC))  # type: ignore[arg-type]
        for kind in ("daily", "session", "model")
    )
    files = sorted(
        (p, f.lines, f.records, f.skipped, f.cursor.offset) for p, f in ledger.files().items()
    )
    requests = ledger.db.execute("SELECT * FROM requests ORDER BY dedup_key").fetchall()
    return reports, files, requests


def test_bulk_path_gives_exactly_the_incremental_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects")
    incremental = ingest(tmp_path, "one", 1, monkeypatch)
    bulk = ingest(tmp_path, "two", 2, monkeypatch)
    assert snapshot(bulk) == snapshot(incremental)
    assert build_report(bulk, "daily", zone=UTC)["totals"]["requests"] == 24 * 300 // 2
    assert not any((tmp_path / "staging").glob("*")), "staging files are removed"


def test_bulk_path_on_the_real_fixtures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_fixtures: Path
) -> None:
    monkeypatch.setenv("TOKENBUDDY_PARALLEL_MIN_MB", "0")
    roots = log_roots(environ_for(shared_fixtures / "claude", shared_fixtures / "codex"), tmp_path)
    one, two = Ledger(tmp_path / "a.sqlite3"), Ledger(tmp_path / "b.sqlite3")
    sync(one, roots, jobs=1)
    sync(two, roots, jobs=2)
    assert snapshot(two)[0] == snapshot(one)[0]
    assert build_report(two, "daily", zone=UTC, source="claude-code")["totals"]["requests"] == 711


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_during_a_bulk_load_then_rerun_matches_a_clean_run(tmp_path: Path) -> None:
    write_tree(Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects", files=40)
    command = [sys.executable, "-m", "tokenbuddy", "report", "daily", "--json", "--jobs", "2"]

    def env(home: Path) -> dict[str, str]:
        return {**os.environ, "TOKENBUDDY_HOME": str(home), "TOKENBUDDY_PARALLEL_MIN_MB": "0"}

    started = time.monotonic()
    clean = subprocess.run(command, env=env(tmp_path / "clean"), capture_output=True, check=True)
    duration = time.monotonic() - started
    for fraction in (0.3, 0.6, 0.9):
        home = tmp_path / f"killed-{fraction}"
        process = subprocess.Popen(
            command, env=env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(duration * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        rerun = subprocess.run(command, env=env(home), capture_output=True, check=True)
        assert orjson.loads(rerun.stdout) == orjson.loads(clean.stdout), fraction
        assert not any((home / "data" / "staging").glob("*")), "stale staging files are cleared"


def test_many_batches_across_both_processes_give_the_incremental_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small batches, so the worker process parses some of them and the main the rest."""

    write_tree(Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects")
    incremental = ingest(tmp_path, "one", 1, monkeypatch)
    monkeypatch.setattr(tokenbuddy.services.ingest.reads, "BATCH_FILES", 2)
    bulk = ingest(tmp_path, "two", 2, monkeypatch)
    assert snapshot(bulk) == snapshot(incremental)


def test_a_bulk_load_into_a_ledger_with_history_keeps_its_rollup_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first load rebuilds the rollup whole; a later large load recomputes only the
    buckets it touched, and must leave the same rollup as a rebuild from scratch."""
    projects = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects"
    write_tree(projects, files=12)
    ledger = ingest(tmp_path, "two", 2, monkeypatch)  # the first load
    later = tmp_path / "later" / "projects"
    write_tree(later, files=24)
    for path in later.rglob("*.jsonl"):  # new files, half of their requests already known
        (projects / path.parent.name / f"late-{path.name}").write_bytes(path.read_bytes())
    sync_checked(ledger, jobs=2)
    incremental = ingest(tmp_path, "one", 1, monkeypatch)
    bulk_files, bulk_requests = snapshot(ledger)[1:]
    assert (bulk_files, bulk_requests) == snapshot(incremental)[1:]
    for kind in ("daily", "session", "model"):
        # Costs are summed in table order, which differs with the history: to 1e-6.
        assert _rounded(build_report(ledger, kind, zone=UTC)) == _rounded(  # type: ignore[arg-type]
            build_report(incremental, kind, zone=UTC)  # type: ignore[arg-type]
        )
    rollup = ledger.db.execute("SELECT * FROM usage_rollup ORDER BY 1, 2, 3, 4, 5").fetchall()
    ledger.db.execute("INSERT INTO dirty_buckets SELECT DISTINCT bucket FROM usage_rollup")
    ledger.refresh_rollup()
    assert (
        ledger.db.execute("SELECT * FROM usage_rollup ORDER BY 1, 2, 3, 4, 5").fetchall() == rollup
    )
    assert len(rollup) > 20


def _rounded(report: dict[str, object]) -> object:
    def walk(value: object) -> object:
        if isinstance(value, dict):
            return {k: round(v, 5) if k == "cost_usd" else walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(report)


def start_bulk_load(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """A first ``report`` over a large tree in two processes, with its stderr piped, once
    its worker process is parsing: it has a log file open (on Linux; elsewhere, once its
    staging file exists)."""
    write_tree(Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects", files=60)
    home = tmp_path / "home-tb"
    env = {**os.environ, "TOKENBUDDY_HOME": str(home), "TOKENBUDDY_PARALLEL_MIN_MB": "0"}
    command = [sys.executable, "-m", "tokenbuddy", "report", "daily", "--json", "--jobs", "2"]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    parent = f"stage-{process.pid}."
    staging = home / "data" / "staging"
    workers: list[str] = []
    while not workers:
        assert process.poll() is None, "the load ended before its worker was seen"
        workers = [p.name for p in staging.glob("stage-*") if not p.name.startswith(parent)]
        time.sleep(0.001)
    worker = workers[0].removeprefix("stage-").split(".")[0]
    while Path("/proc/self/fd").is_dir() and not reading_a_log(worker):
        assert process.poll() is None, "the load ended before its worker read a log"
        time.sleep(0.001)
    return process, home


def reading_a_log(pid: str) -> bool:
    """Whether process ``pid`` has a ``.jsonl`` file open."""
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            if os.readlink(f"/proc/{pid}/fd/{descriptor}").endswith(".jsonl"):
                return True
        except OSError:
            continue
    return False


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_workers_of_a_killed_parent_end_without_a_word(tmp_path: Path) -> None:
    process, home = start_bulk_load(tmp_path)
    process.send_signal(signal.SIGKILL)
    # Reading to the end waits for every holder of the pipe: the workers too.
    said = process.communicate(timeout=120)[1].decode()
    assert "Traceback" not in said
    assert "ForkPoolWorker" not in said
    command = [sys.executable, "-m", "tokenbuddy", "report", "daily", "--json"]
    env = {**os.environ, "TOKENBUDDY_HOME": str(home)}
    rerun = subprocess.run(command, env=env, capture_output=True, check=True)
    assert orjson.loads(rerun.stdout)["totals"]["requests"] == 60 * 300 // 2


def test_ctrl_c_during_a_parallel_read_exits_130_without_a_traceback(tmp_path: Path) -> None:
    process, _home = start_bulk_load(tmp_path)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal sends it: to the whole group
    said = process.communicate(timeout=120)[1].decode()
    assert process.returncode == 130
    assert "Traceback" not in said
    assert "KeyboardInterrupt" not in said
