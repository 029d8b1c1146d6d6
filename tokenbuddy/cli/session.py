"""What every command starts with: paths, roots, and an up-to-date ledger."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tokenbuddy.ingest import IngestSummary, sync
from tokenbuddy.sources.discovery import LogRoot, log_roots
from tokenbuddy.store.config_file import configured_log_environment
from tokenbuddy.store.ledger import Ledger
from tokenbuddy.store.paths import AppPaths, app_paths

if TYPE_CHECKING:
    from collections.abc import Callable

    from tokenbuddy.store.settings import Settings


@dataclass(slots=True)
class Session:
    """The open ledger and what the last sync found."""

    paths: AppPaths
    roots: list[LogRoot]
    ledger: Ledger
    summary: IngestSummary
    settings: Settings | None
    """The validated settings, when asked for (they cost a pydantic import)."""
    problems: list[str]
    """What was wrong with the settings (the defaults were used instead)."""


def missing_roots(roots: list[LogRoot]) -> list[str]:
    """A warning for each log dir the user named (not a default) that is not there at all,
    so a typo in CLAUDE_CONFIG_DIR does not quietly give partial numbers."""
    return [
        f"{root.path.parent if root.path.name in NAMED_SUBDIRS else root.path} "
        f"(from {root.origin}) does not exist; its {root.source} logs are not counted"
        for root in roots
        if root.origin != "default" and not root.path.exists() and not root.path.parent.exists()
    ]


NAMED_SUBDIRS = frozenset({"projects", "sessions", "archived_sessions"})


def open_session(
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    settings: bool = False,
) -> Session:
    """Open the ledger and bring it up to date with the logs.

    With ``settings``, the whole config is validated and returned; without, only
    its log dirs are read (quickly, leaving malformed values to other commands).
    """
    paths = app_paths()
    paths.ensure()
    loaded: Settings | None = None
    problems: list[str] = []
    if settings:
        from tokenbuddy.store.settings import load_settings

        loaded, problems = load_settings(paths.config_file)
        environ = loaded.log_environment(os.environ)
    else:
        environ = configured_log_environment(paths.config_file, os.environ)
    roots = log_roots(environ, Path.home())
    problems.extend(missing_roots(roots))
    ledger = Ledger(paths.ledger)
    shown = None
    if progress is None and terminal_progress_wanted(sys.stderr):
        progress = shown = TerminalProgress(sys.stderr)
    try:
        summary = sync(ledger, roots, jobs=jobs, progress=progress)
    except BaseException:
        ledger.close()
        raise
    finally:
        if shown is not None:
            shown.clear()
    return Session(paths, roots, ledger, summary, loaded, problems)


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
