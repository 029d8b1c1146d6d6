"""Ctrl+C during a command that reads logs into the ledger: one line and exit 130, within
a bounded time.

Ctrl+C raises KeyboardInterrupt as usual, so the command unwinds: the parsing processes
are stopped, open transactions roll back and staging files go. Whatever that waits for
(a parsing process that does not stop, the interpreter's own exit), the process ends
:data:`GRACE_S` seconds after the key, with the same one line; the ledger is safe either
way, since every write is one transaction.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import suppress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import FrameType

INTERRUPTED = "tokenbuddy: interrupted; the ledger keeps what was read before"
GRACE_S = 5.0
"""How long the unwinding may take before the process ends regardless."""
_said = threading.Event()


def say_interrupted() -> None:
    """Print :data:`INTERRUPTED` on stderr, once however often it is asked for."""
    if not _said.is_set():
        _said.set()
        print(INTERRUPTED, file=sys.stderr, flush=True)


def bounded_interrupts() -> None:
    """From now on, Ctrl+C unwinds the command and ends the process at most
    :data:`GRACE_S` seconds later."""
    signal.signal(signal.SIGINT, _on_interrupt)


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    deadline = threading.Timer(GRACE_S, _give_up)
    deadline.daemon = True
    deadline.start()
    raise KeyboardInterrupt


def _give_up() -> None:
    with suppress(OSError, ValueError):
        say_interrupted()
    os._exit(130)
