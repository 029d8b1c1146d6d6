"""Finding the agents' log directories and the transcript files in them.

Claude Code: ``CLAUDE_CONFIG_DIR`` (comma-separated; each entry a config dir
or its ``projects/`` dir) replaces the defaults ``$XDG_CONFIG_HOME/claude``
(``~/.config/claude``) and ``~/.claude``, which are both searched.

Codex: ``CODEX_HOME`` (comma-separated; default ``~/.codex``), its
``sessions/`` tree and ``archived_sessions/``.

Cursor (local estimates, source ``cursor-local``): ``TOKENBUDDY_CURSOR_DIR``
(comma-separated ``User`` dirs) replaces the default ``Cursor/User`` under
``~/.config`` (Linux, or ``$XDG_CONFIG_HOME``), ``~/Library/Application Support``
(macOS) or ``%APPDATA%`` (Windows); under WSL the Windows side's
``/mnt/c/Users/*/AppData/Roaming/Cursor/User`` are searched too. A Cursor root is
not walked for transcripts: :func:`tokenbuddy.services.ingest.sync_cursor` reads its databases.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tokenbuddy.core.records import CLAUDE_CODE, CODEX, CURSOR_LOCAL

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping


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


WINDOWS_USERS = Path("/mnt/c/Users")
"""Where WSL sees the Windows side's user directories."""


def log_roots(
    environ: Mapping[str, str],
    home: Path,
    platform: str = sys.platform,
    windows_users: Path = WINDOWS_USERS,
) -> list[LogRoot]:
    """Every directory to search, for every source, in a stable order."""
    return _dedupe(
        [
            *_claude_roots(environ, home),
            *_codex_roots(environ, home),
            *cursor_roots(environ, home, platform, windows_users),
        ]
    )


def cursor_roots(
    environ: Mapping[str, str],
    home: Path,
    platform: str = sys.platform,
    windows_users: Path = WINDOWS_USERS,
) -> list[LogRoot]:
    """Cursor's ``User`` dirs: ``TOKENBUDDY_CURSOR_DIR``, else this platform's default."""
    configured = environ.get("TOKENBUDDY_CURSOR_DIR", "").strip()
    if configured:
        return [LogRoot(CURSOR_LOCAL, path, "TOKENBUDDY_CURSOR_DIR") for path in _split(configured)]
    tail = Path("Cursor", "User")
    if platform == "darwin":
        base = home / "Library" / "Application Support"
    elif platform == "win32":
        base = Path(environ.get("APPDATA") or home / "AppData" / "Roaming")
    else:
        xdg = environ.get("XDG_CONFIG_HOME", "").strip()
        base = Path(xdg).expanduser() if xdg else home / ".config"
    roots = [LogRoot(CURSOR_LOCAL, base / tail, "default")]
    if platform == "linux" and environ.get("WSL_DISTRO_NAME"):
        try:
            users = sorted(entry.path for entry in os.scandir(windows_users) if entry.is_dir())
        except OSError:
            users = []
        for user in users:
            path = Path(user, "AppData", "Roaming") / tail
            if path.is_dir():
                roots.append(LogRoot(CURSOR_LOCAL, path, "WSL"))
    return roots


def _split(value: str) -> list[Path]:
    return [Path(part.strip()).expanduser() for part in value.split(",") if part.strip()]


def _claude_roots(environ: Mapping[str, str], home: Path) -> Iterator[LogRoot]:
    configured = environ.get("CLAUDE_CONFIG_DIR", "").strip()
    if configured:
        for directory in _split(configured):
            projects = directory if directory.name == "projects" else directory / "projects"
            yield LogRoot(CLAUDE_CODE, projects, "CLAUDE_CONFIG_DIR")
        return
    xdg = environ.get("XDG_CONFIG_HOME", "").strip()
    config_home = Path(xdg).expanduser() if xdg else home / ".config"
    yield LogRoot(CLAUDE_CODE, config_home / "claude" / "projects", "default")
    yield LogRoot(CLAUDE_CODE, home / ".claude" / "projects", "default")


def _codex_roots(environ: Mapping[str, str], home: Path) -> Iterator[LogRoot]:
    configured = environ.get("CODEX_HOME", "").strip()
    homes = _split(configured) if configured else [home / ".codex"]
    origin = "CODEX_HOME" if configured else "default"
    for codex_home in homes:
        yield LogRoot(CODEX, codex_home / "sessions", origin)
        yield LogRoot(CODEX, codex_home / "archived_sessions", origin)


def _dedupe(roots: list[LogRoot]) -> list[LogRoot]:
    """Drop roots that are the same directory reached twice (a symlinked ~/.claude)."""
    seen: set[str] = set()
    unique = []
    for root in roots:
        real = os.path.realpath(root.path)
        if real not in seen:
            seen.add(real)
            unique.append(root)
    return unique


def transcript_files(root: LogRoot, errors: list[str]) -> list[str]:
    """Every transcript under ``root``, sorted; unreadable directories go to ``errors``."""
    if root.source == CURSOR_LOCAL or not root.exists:
        return []
    found: list[str] = []

    def on_error(error: OSError) -> None:
        errors.append(f"cannot read {error.filename}: {error.strerror}")

    for directory, _dirs, names in os.walk(root.path, onerror=on_error, followlinks=False):
        for name in names:
            if _is_transcript(root.source, name):
                found.append(os.path.join(directory, name))
    found.sort()
    return found


def _is_transcript(source: str, name: str) -> bool:
    if not name.endswith(".jsonl"):
        return False
    if source == CODEX:
        return name.startswith("rollout-")
    return True


def roots_at(directory: Path) -> list[LogRoot]:
    """The roots a directory named on the command line stands for, if it is an agent's home.

    A Claude config dir stands for its ``projects/``, a Codex home for its ``sessions/``
    and ``archived_sessions/``, so their other ``.jsonl`` files (prompt histories) are not
    read; a directory that is neither gives no roots (see :func:`loose_transcripts`).
    """
    origin = "command line"
    roots: list[LogRoot] = []
    if (directory / "projects").is_dir():
        roots.append(LogRoot(CLAUDE_CODE, directory / "projects", origin))
    for name in ("sessions", "archived_sessions"):
        if (directory / name).is_dir():
            roots.append(LogRoot(CODEX, directory / name, origin))
    return roots


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


SESSION_META_HEAD = b'"type":"session_meta"'
"""How a Codex rollout's first line starts, after its timestamp."""


def transcript_source(path: str) -> str:
    """Codex for a rollout (named ``rollout-*.jsonl``, or opening with a ``session_meta``
    line), Claude Code for anything else."""
    if _is_transcript(CODEX, os.path.basename(path)):
        return CODEX
    try:
        with open(path, "rb") as handle:
            head = handle.read(256)
    except OSError:
        return CLAUDE_CODE
    return CODEX if SESSION_META_HEAD in head else CLAUDE_CODE
