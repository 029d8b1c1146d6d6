"""Following the log roots with watchdog, batching bursts of events.

Claude Code writes a response as several lines over a few seconds, and an agent
can produce hundreds of lines a second; the dashboard wants one update per
burst. :class:`LogWatcher` hands the first change over at once (so a lone
append shows without delay), then collects the paths changed during the next
``debounce`` seconds and hands them over together, from a timer thread.

What is watched under each root, and which written files are handed over, are
the source's watch hints in the registry: Cursor's roots, say, are watched only in
their ``globalStorage`` dir, not recursively, for writes to ``state.vscdb`` and its
``-wal`` (a ``User`` dir holds editor history and caches that change all the time).
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from tokenbuddy.sources import registry

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from tokenbuddy.sources.discovery import LogRoot


WATCHED_EVENTS: list[type[FileSystemEvent]] = [
    FileModifiedEvent,
    FileCreatedEvent,
    FileMovedEvent,
    FileClosedEvent,
]
"""Writes, new files, renames into place and closes; opens and reads are noise."""


class LogWatcher(FileSystemEventHandler):
    """Calls ``on_change(paths)`` with the transcripts written since the last call."""

    def __init__(
        self,
        roots: Iterable[LogRoot],
        on_change: Callable[[frozenset[str]], None],
        debounce: float = 0.1,
    ) -> None:
        super().__init__()
        self.roots = [root for root in roots if root.exists]
        self._on_change = on_change
        self._debounce = debounce
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._last_flush = float("-inf")
        self._observer = Observer()
        hints = [source.watch for source in registry.LOG_SOURCES]
        self._suffixes = tuple(sorted({suffix for hint in hints for suffix in hint.suffixes}))
        self._names = frozenset().union(*(hint.names for hint in hints))

    def start(self) -> None:
        """Start watching every existing root, recursively."""
        for root in self.roots:
            path, recursive = watch_target(root)
            if os.path.isdir(path):
                self._observer.schedule(
                    self, path, recursive=recursive, event_filter=WATCHED_EVENTS
                )
        self._observer.daemon = True
        self._observer.start()

    def stop(self) -> None:
        """Stop watching and drop anything not yet handed over."""
        self._observer.stop()
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
        if self._observer.is_alive():
            self._observer.join(timeout=2)

    def on_any_event(self, event: FileSystemEvent) -> None:
        """Collect the paths the sources' watch hints name from writes, creations and moves."""
        if event.is_directory or event.event_type not in {"modified", "created", "moved", "closed"}:
            return
        path = getattr(event, "dest_path", "") or event.src_path
        if isinstance(path, bytes):
            path = path.decode(errors="replace")
        if not (path.endswith(self._suffixes) or os.path.basename(path) in self._names):
            return
        with self._lock:
            self._pending.add(path)
            if self._timer is None:
                quiet_until = self._last_flush + self._debounce
                self._timer = threading.Timer(max(quiet_until - time.monotonic(), 0.0), self._flush)
                self._timer.daemon = True
                self._timer.start()

    def _flush(self) -> None:
        with self._lock:
            paths = frozenset(self._pending)
            self._pending.clear()
            self._timer = None
            self._last_flush = time.monotonic()
        if paths:
            self._on_change(paths)


def watch_target(root: LogRoot) -> tuple[str, bool]:
    """The directory to watch for a root, and whether recursively."""
    hints = registry.source(root.source).watch
    return str(root.path / hints.subdir), hints.recursive


def source_of(path: str, roots: Iterable[LogRoot]) -> str | None:
    """Which source's root a path is under, or None. Where roots nest (Cline's
    ``globalStorage`` inside Cursor's ``User`` dir), the sources whose watch hints claim
    the file come first, then the deepest root."""
    under = [root for root in roots if path.startswith(str(root.path).rstrip("/") + "/")]
    claiming = [root for root in under if _claims(root.source, path)]
    candidates = claiming or under
    if not candidates:
        return None
    return max(candidates, key=lambda root: len(str(root.path))).source


def _claims(source: str, path: str) -> bool:
    """Whether a source's watch hints name the written file."""
    try:
        hints = registry.source(source).watch
    except KeyError:
        return False
    return path.endswith(hints.suffixes) or os.path.basename(path) in hints.names
