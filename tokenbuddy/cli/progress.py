"""A long first read's progress on the terminal, and the ledger opened with it shown."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

from tokenbuddy.services.session import Session
from tokenbuddy.services.session import open_session as open_quietly

if TYPE_CHECKING:
    from collections.abc import Callable


def open_session(
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    settings: bool = False,
) -> Session:
    """:func:`tokenbuddy.services.session.open_session`, with a long first read's progress
    shown on stderr when it is a terminal (and no other ``progress`` is given)."""
    shown = None
    if progress is None and terminal_progress_wanted(sys.stderr):
        progress = shown = TerminalProgress(sys.stderr)
    try:
        return open_quietly(jobs=jobs, progress=progress, settings=settings)
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
