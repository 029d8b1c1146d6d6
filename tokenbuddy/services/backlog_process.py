"""Reading a first, large backlog in a process of its own, for a process that has threads.

A process with threads does not fork parsing processes, so the dashboard's first
load of a large history would take twice as long as ``tokenbuddy report``.
:class:`BacklogProcess` starts ``python -m tokenbuddy.services.backlog`` for it
(see :mod:`tokenbuddy.services.backlog` for what that process prints), relays its
progress, and stops it and its parsing processes together when asked to.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
from typing import TYPE_CHECKING

import orjson

from tokenbuddy.services import backlog
from tokenbuddy.services.ingest import backlog_is_large
from tokenbuddy.store.ledger import Ledger

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from tokenbuddy.sources.discovery import LogRoot


class BacklogProcess:
    """The backlog process of one ledger: started at most once, stopped with its owner."""

    def __init__(self, ledger_path: Path, roots: Sequence[LogRoot]) -> None:
        self.ledger_path = ledger_path
        self.roots = list(roots)
        self.process: subprocess.Popen[bytes] | None = None
        """The process, once started (it is kept after it ends, for its exit status)."""
        self.stopped = False
        """Set by :meth:`stop`: a process running is stopped, and none is started after."""
        self._guard = threading.Lock()

    def pays(self) -> bool:
        """Whether this is a first load (an empty ledger) of a backlog large enough for
        parallel parsing, on a system that can fork the parsing processes."""
        if not hasattr(os, "fork") or self.stopped:
            return False
        if self.ledger_path.exists():
            with Ledger(self.ledger_path) as ledger:  # left empty by a first load that was stopped?
                if ledger.files():
                    return False
        return backlog_is_large(self.roots)

    def read(self, progress: Callable[[int, int], None]) -> list[str]:
        """Read the backlog into the ledger in the backlog process, relaying its progress.

        Returns the errors that process met. If it fails, why is returned instead, for
        the user to see (the caller then reads everything itself, as it would have).
        """
        # -P: the working directory is not put on the module path (a folder holding some
        # other "tokenbuddy" must not be imported instead).
        command = [sys.executable, "-P", "-m", "tokenbuddy.services.backlog"]
        command.append(backlog.spec(self.ledger_path, self.roots))
        with tempfile.TemporaryFile() as errors:
            with self._guard:
                if self.stopped:
                    return []
                try:
                    process = subprocess.Popen(
                        command,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE,
                        stderr=errors,
                        start_new_session=True,  # its parsing processes are stopped with it
                    )
                except OSError as error:
                    return [f"cannot start a process to read the logs: {error}"]
                self.process = process
            met = _relay(process, progress)
            if process.wait() == 0 or self.stopped:
                return met
            errors.seek(0)
            last = errors.read().decode(errors="replace").strip().splitlines()[-1:]
            return [
                "reading the logs in a separate process failed"
                + (f": {last[0]}" if last else f" (exit status {process.returncode})")
            ]

    def stop(self) -> None:
        """Stop the process and its parsing processes if running; never start one after."""
        with self._guard:
            self.stopped = True
            process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                if hasattr(os, "killpg"):
                    os.killpg(process.pid, signal.SIGTERM)  # it and its parsing processes
                else:
                    process.terminate()


def _relay(process: subprocess.Popen[bytes], progress: Callable[[int, int], None]) -> list[str]:
    """Pass the process's progress lines on; return the errors its closing line names."""
    assert process.stdout is not None
    met: list[str] = []
    with process.stdout:  # closed once read to the end
        for line in process.stdout:
            numbers = line.split()
            if len(numbers) == 2 and all(n.isdigit() for n in numbers):
                progress(int(numbers[0]), int(numbers[1]))
            elif line.startswith(b"{"):
                with contextlib.suppress(orjson.JSONDecodeError, TypeError, AttributeError):
                    met = [str(e) for e in orjson.loads(line).get("errors", [])]
    return met
