"""OpenCode (sst/opencode, now anomalyco/opencode): its SQLite store and its older JSON files.

Where: OpenCode keeps its data in ``xdgData/opencode`` (packages/opencode/src/global/
index.ts, with the ``xdg-basedir`` package): ``$XDG_DATA_HOME/opencode``, else
``~/.local/share/opencode`` on every platform, Windows (``%USERPROFILE%\\.local\\share``)
and macOS included; under WSL also the Windows side's. ``TOKENBUDDY_OPENCODE_DIR``
(comma-separated) names data directories instead.

What: ``opencode.db`` and the per-channel ``opencode-<channel>.db`` (OpenCode 1.2 and
later, :mod:`.database`), and the message files of the JSON storage OpenCode used before
(:mod:`.storage`), which its migration to SQLite copied into the database and left on
disk. Every call is keyed by OpenCode's own id (the step-finish part's, or the
message's), so a call seen in the database and in a file, or in two databases, counts
once; a call seen while streaming keeps its final counts (the ledger keeps the largest
copy). :mod:`.calls` says what each field means across versions.

Records: ``session_id`` is the top session (a subagent's calls count in the session that
started it, with ``agent_id`` the subagent's session and ``agent_type`` its agent);
``project`` is the message's ``path.cwd``, else its session's directory; ``model`` is
``modelID`` without any ``vendor/`` route prefix; ``reported_cost_usd`` is OpenCode's
own ``cost`` for the call (kept beside the list price). User messages in top sessions are
a person's prompts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokenbuddy.sources.documents import DocumentRead
from tokenbuddy.sources.locations import LogDir, configured_dirs, wsl_dirs
from tokenbuddy.sources.opencode.database import database_names, read_database
from tokenbuddy.sources.opencode.storage import is_message_file, message_files, read_message

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tokenbuddy.core.records import ParseStats

OVERRIDE = "TOKENBUDDY_OPENCODE_DIR"
WINDOWS_DATA_DIR = Path(".local", "share", "opencode")
"""Where OpenCode keeps its data under a Windows user's directory (xdg-basedir's default)."""
COMPANIONS: tuple[str, ...] = ("-wal",)
WATCHED_SUFFIXES: tuple[str, ...] = (".db", ".db-wal", ".json")
"""A database's writes land in its ``-wal``; a JSON message file is rewritten whole."""

__all__ = ["COMPANIONS", "OVERRIDE", "WATCHED_SUFFIXES", "find", "log_dirs", "read"]


def log_dirs(
    environ: Mapping[str, str], home: Path, platform: str, windows_users: Path
) -> list[LogDir]:
    """The data directories named by ``TOKENBUDDY_OPENCODE_DIR``, else OpenCode's own:
    ``$XDG_DATA_HOME/opencode`` or ``~/.local/share/opencode``, and under WSL the Windows
    side's ``.local/share/opencode``."""
    configured = configured_dirs(environ, OVERRIDE)
    if configured is not None:
        return [LogDir(path, OVERRIDE) for path in configured]
    xdg = environ.get("XDG_DATA_HOME", "").strip()
    data_home = Path(xdg).expanduser() if xdg else home / ".local" / "share"
    found = [LogDir(data_home / "opencode", "default")]
    return found + wsl_dirs(environ, platform, windows_users, WINDOWS_DATA_DIR)


def find(root: Path, errors: list[str]) -> list[str]:
    """The databases right in a data directory, and every JSON message file under it."""
    try:
        names = os.listdir(root)
    except OSError as error:
        errors.append(f"cannot read {root}: {error.strerror}")
        return []
    found = [str(root / name) for name in database_names(names)]
    found += message_files(root, errors)
    return sorted(found)


def claims(path: str) -> bool:
    """Whether a written file is a database or a message file (not a part or a session)."""
    name = os.path.basename(path)
    return (name.startswith("opencode") and name.endswith(".db")) or is_message_file(path)


def read(path: str, state: dict[str, Any], stats: ParseStats) -> DocumentRead:
    """Read a database from its watermark, or a message file whole; any other file a
    live write hands over (a part or session file) holds no calls of its own."""
    if path.endswith(".db"):
        return read_database(path, state, stats)
    if is_message_file(path):
        return read_message(path, state, stats)
    return DocumentRead([], [], state)
