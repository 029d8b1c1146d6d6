"""A long first read's progress on the terminal, shown while a command brings the ledger
up to date."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@contextmanager
def terminal_progress() -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback for the ledger's sync that shows a long first read on stderr
    when it is a terminal (None otherwise); the line is erased on leaving."""
    shown = TerminalProgress(sys.stderr) if terminal_progress_wanted(sys.stderr) else None
    try:
        yield shown
    finally:
        if shown is not None:
            shown.clear()


SHOW_PROGRESS_FROM_BYTES = 64 * 1024 * 1024
"""A pass reading less than this is over before a progress line would help."""


def terminal_progress_wanted(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal that can take a progress line rewritten in place."""
    return stream.isatty() and os.environ.get("TERM", "") != "dumb"


class TerminalProgress:
    """A one-line progress report for a long first read, rewritten in place, then erased.

    Silent for passes under :data:`SHOW_PROGRESS_FROM_BYTES` (the usual, incremental ones).
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = False
        self._last = ""

    def __call__(self, done: int, total: int) -> None:
        if total < SHOW_PROGRESS_FROM_BYTES:
            return
        size = f"{total / 1e6:,.0f} MB"
        if done < total:
            text = f"tokenbuddy: reading {size} of logs: {done * 100 // total}%"
        else:
            text = f"tokenbuddy: reading {size} of logs: writing the ledger"
        if text != self._last:
            self.stream.write(f"\r{text}\x1b[K")
            self.stream.flush()
            self.shown, self._last = True, text

    def clear(self) -> None:
        """Erase the line, so the command's own output starts on a clean line."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False
