"""Finding the agents' log directories and the transcript files in them.

Each registered source (:mod:`tokenbuddy.sources.registry`) names its directories
with its ``log_dirs`` function, from the environment variables it honours or else
its defaults; its module says which. A root of a database source (Cursor's
``User`` dir) is not walked for transcripts:
:func:`tokenbuddy.services.ingest.sync_cursor` reads its databases.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tokenbuddy.sources import registry
from tokenbuddy.sources.locations import WINDOWS_USERS

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tokenbuddy.sources.registry import Transcripts


@dataclass(frozen=True, slots=True)
class LogRoot:
    """One directory searched for one source's transcripts."""

    source: str
    path: Path
    origin: str
    """Why it is searched: the environment variable or ``default``."""

    @property
    def exists(self) -> bool:
        """Whether the directory is there to be read."""
        return self.path.is_dir()


def log_roots(
    environ: Mapping[str, str],
    home: Path,
    platform: str = sys.platform,
    windows_users: Path = WINDOWS_USERS,
) -> list[LogRoot]:
    """Every directory to search, for every source, in a stable order."""
    return _dedupe(
        [
            LogRoot(source.name, found.path, found.origin)
            for source in registry.LOG_SOURCES
            for found in source.log_dirs(environ, home, platform, windows_users)
        ]
    )


def _dedupe(roots: list[LogRoot]) -> list[LogRoot]:
    """Drop roots that are the same directory reached twice by one source (a symlinked
    ~/.claude); two sources may share a directory (a VS Code ``User`` dir)."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for root in roots:
        key = (root.source, os.path.realpath(root.path))
        if key not in seen:
            seen.add(key)
            unique.append(root)
    return unique


def transcript_files(root: LogRoot, errors: list[str]) -> list[str]:
    """Every transcript or document under ``root``, sorted; unreadable directories go to
    ``errors``."""
    source = registry.source(root.source)
    if not root.exists:
        return []
    if source.documents is not None:
        return source.documents.find(root.path, errors)
    reader = source.transcripts
    if reader is None:
        return []
    found: list[str] = []

    def on_error(error: OSError) -> None:
        errors.append(f"cannot read {error.filename}: {error.strerror}")

    for directory, _dirs, names in os.walk(root.path, onerror=on_error, followlinks=False):
        for name in names:
            if reader.is_transcript(name):
                found.append(os.path.join(directory, name))
    found.sort()
    return found


def roots_at(directory: Path) -> list[LogRoot]:
    """The roots a directory named on the command line stands for, if it is an agent's home.

    A Claude config dir stands for its ``projects/``, a Codex home for its ``sessions/``
    and ``archived_sessions/`` (each source's ``home_dirs``), so their other ``.jsonl``
    files (prompt histories) are not read; a directory that is no agent's home gives no
    roots (see :func:`loose_transcripts`).
    """
    return [
        LogRoot(source.name, directory / name, "command line")
        for source in registry.LOG_SOURCES
        for name in source.home_dirs
        if (directory / name).is_dir()
    ]


def loose_transcripts(directory: Path, errors: list[str]) -> list[tuple[str, str]]:
    """(path, source) for every ``.jsonl`` under ``directory``, each told apart by
    :func:`transcript_source` (a ``projects/`` dir, one project's dir, a ``sessions/`` tree)."""
    found: list[tuple[str, str]] = []

    def on_error(error: OSError) -> None:
        errors.append(f"cannot read {error.filename}: {error.strerror}")

    for parent, _dirs, names in os.walk(directory, onerror=on_error, followlinks=False):
        for name in names:
            if name.endswith(".jsonl"):
                path = os.path.join(parent, name)
                found.append((path, transcript_source(path)))
    found.sort()
    return found


HEAD_BYTES = 256
"""How much of a file's start :func:`transcript_source` looks at for a head marker."""


def transcript_source(path: str) -> str:
    """The source a transcript is from: the first whose name prefix it has (Codex's
    ``rollout-``), else the first whose head marker its start holds (a ``session_meta``
    line), else the first source that claims every transcript (Claude Code)."""
    readers = [(s.name, t) for s in registry.LOG_SOURCES if (t := s.transcripts) is not None]
    name = os.path.basename(path)
    for source, reader in readers:
        if reader.name_prefix and reader.is_transcript(name):
            return source
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return _catch_all(readers)  # a FIFO would block the open; ingest skips it
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return _catch_all(readers)
    for source, reader in readers:
        if reader.head_marker and reader.head_marker in head:
            return source
    return _catch_all(readers)


def _catch_all(readers: list[tuple[str, Transcripts]]) -> str:
    """The first transcript source that claims files by neither name nor content."""
    return next(s for s, reader in readers if not (reader.name_prefix or reader.head_marker))
