"""Ctrl+C during a long first read: exit 130 with one line, no worker tracebacks, and a
ledger that holds whole files or nothing of them."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.cli.test_commands import assistant, write_session

SLOW_READ = """
import pathlib, sys, time
started = pathlib.Path(sys.argv[1])
from tokenbuddy.services.ingest import reads, workers
reads.BATCH_FILES = 1
real = workers.stage_batch
def slow(batch, staging):
    (started / str(time.monotonic_ns())).touch()
    time.sleep(120)
    return real(batch, staging)
workers.stage_batch = slow
from tokenbuddy.cli.main import run
sys.argv = ["tokenbuddy", "report", "daily", "--jobs", "2"]
run()
"""


def finish(process: subprocess.Popen[str]) -> tuple[str, str]:
    """The process's output once it ended; on a hang, the whole group is killed first
    (so no pipe is left open for a later test to trip on) and the test fails."""
    try:
        return process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise


def start_slow_read(root: Path, started: Path, script: str) -> subprocess.Popen[str]:
    """A first read of eight sessions whose parsing sleeps, started in a session of its
    own; returns once the parent and its parsing process are both parsing."""
    for index in range(8):
        write_session(root, assistant(f"m{index}", "2026-04-18T10:00:00Z"), name=f"s{index}")
    started.mkdir()
    env = {**os.environ, "TOKENBUDDY_PARALLEL_MIN_MB": "0"}
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(started)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    while len(list(started.iterdir())) < 2 and process.poll() is None:
        os.sched_yield()
    return process


def test_ctrl_c_ends_the_command_even_when_its_unwinding_hangs(
    isolated_environment: Path,
) -> None:
    """Whatever the unwinding waits for (here: stopping the parsing processes never
    returns), the command ends a few seconds after Ctrl+C, with the same one line."""
    hang = SLOW_READ.replace(
        "from tokenbuddy.cli.main import run",
        "import multiprocessing.pool\n"
        "multiprocessing.pool.Pool.terminate = lambda self: time.sleep(120)\n"
        "from tokenbuddy.cli.main import run",
    )
    started = isolated_environment / "started"
    process = start_slow_read(isolated_environment / "claude", started, hang)
    os.killpg(process.pid, signal.SIGINT)
    out, err = finish(process)
    assert process.returncode == 130
    assert (out, err) == ("", "tokenbuddy: interrupted; the ledger keeps what was read before\n")


def test_ctrl_c_in_a_parallel_first_read_is_one_line_and_exit_130(
    isolated_environment: Path,
) -> None:
    root = isolated_environment / "claude"
    for index in range(8):
        write_session(root, assistant(f"m{index}", "2026-04-18T10:00:00Z"), name=f"s{index}")
    started = isolated_environment / "started"
    started.mkdir()
    env = {**os.environ, "TOKENBUDDY_PARALLEL_MIN_MB": "0"}
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_READ, str(started)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    # Ctrl+C reaches the whole foreground group once both processes are parsing.
    while len(list(started.iterdir())) < 2 and process.poll() is None:
        os.sched_yield()
    os.killpg(process.pid, signal.SIGINT)
    out, err = finish(process)
    assert process.returncode == 130
    assert out == ""
    assert err == "tokenbuddy: interrupted; the ledger keeps what was read before\n"
    data = isolated_environment / "tokenbuddy" / "data"
    with sqlite3.connect(data / "ledger.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT COUNT(*) FROM requests").fetchone() == (0,)
    assert list((data / "staging").glob("*.sqlite3")) == []
