"""Ctrl+C during a long first read: exit 130 with one line, no worker tracebacks, and a
ledger that holds whole files or nothing of them."""

from __future__ import annotations

import contextlib
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


def finish(process: subprocess.Popen[str], output: Path) -> tuple[str, str]:
    """(stdout, stderr) of the command once it ended. Its output goes to files, so what
    the command's own exit does is what is judged: a parsing process it leaves behind
    for a moment cannot hold a pipe open. The whole group is killed afterwards, and on
    a hang (the test then fails), so nothing is left for a later test to trip on."""
    try:
        process.wait(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    return (output / "out").read_text(), (output / "err").read_text()


def start_slow_read(root: Path, started: Path, script: str) -> subprocess.Popen[str]:
    """A first read of eight sessions whose parsing sleeps, started in a session of its
    own, its output written to files beside ``started``; returns once the parent and its
    parsing process are both parsing."""
    for index in range(8):
        write_session(root, assistant(f"m{index}", "2026-04-18T10:00:00Z"), name=f"s{index}")
    started.mkdir()
    env = {**os.environ, "TOKENBUDDY_PARALLEL_MIN_MB": "0"}
    with (started.parent / "out").open("w") as out, (started.parent / "err").open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", script, str(started)],
            env=env,
            stdout=out,
            stderr=err,
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
    out, err = finish(process, started.parent)
    assert process.returncode == 130
    assert (out, err) == ("", "tokenbuddy: interrupted; the ledger keeps what was read before\n")


def test_ctrl_c_in_a_parallel_first_read_is_one_line_and_exit_130(
    isolated_environment: Path,
) -> None:
    started = isolated_environment / "started"
    process = start_slow_read(isolated_environment / "claude", started, SLOW_READ)
    # Ctrl+C reaches the whole foreground group once both processes are parsing.
    os.killpg(process.pid, signal.SIGINT)
    out, err = finish(process, started.parent)
    assert process.returncode == 130
    assert out == ""
    assert err == "tokenbuddy: interrupted; the ledger keeps what was read before\n"
    data = isolated_environment / "tokenbuddy" / "data"
    with sqlite3.connect(data / "ledger.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT COUNT(*) FROM requests").fetchone() == (0,)
    assert list((data / "staging").glob("*.sqlite3")) == []
