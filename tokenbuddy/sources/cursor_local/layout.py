"""Where Cursor keeps its store, and the store as ingest reads it.

``TOKENBUDDY_CURSOR_DIR`` (comma-separated ``User`` dirs) replaces the default
``Cursor/User`` under ``~/.config`` (Linux, or ``$XDG_CONFIG_HOME``),
``~/Library/Application Support`` (macOS) or ``%APPDATA%`` (Windows); under WSL
the Windows side's ``/mnt/c/Users/*/AppData/Roaming/Cursor/User`` are searched too.

The registry loads this module with every command; the readers behind
:class:`LocalStore` load only once a Cursor store is there to read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tokenbuddy.sources.locations import WINDOWS_USERS, LogDir, app_data_dirs, configured_dirs

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tokenbuddy.core.cursor_reads import DbRead, DbStat

STATE_DB = "state.vscdb"
WATCHED_NAMES = frozenset({STATE_DB, STATE_DB + "-wal"})
"""The files whose writes mean Cursor saved a conversation."""
GLOBAL_STORAGE = "globalStorage"
"""The directory of a ``User`` dir that holds the store Cursor saves conversations in."""


def log_dirs(
    environ: Mapping[str, str],
    home: Path,
    platform: str = sys.platform,
    windows_users: Path = WINDOWS_USERS,
) -> list[LogDir]:
    """Cursor's ``User`` dirs: ``TOKENBUDDY_CURSOR_DIR``, else this platform's default."""
    configured = configured_dirs(environ, "TOKENBUDDY_CURSOR_DIR")
    if configured is not None:
        return [LogDir(path, "TOKENBUDDY_CURSOR_DIR") for path in configured]
    return app_data_dirs(environ, home, platform, windows_users, Path("Cursor", "User"))


def workspace_dbs(user_dir: Path) -> list[Path]:
    """Every workspace's ``state.vscdb`` under ``User/workspaceStorage``."""
    storage = user_dir / "workspaceStorage"
    try:
        entries = sorted(os.scandir(storage), key=lambda entry: entry.name)
    except OSError:
        return []
    return [
        Path(entry.path, STATE_DB)
        for entry in entries
        if os.path.isfile(Path(entry.path, STATE_DB))
    ]


class LocalStore:
    """Cursor's store under a ``User`` dir, as the registry's ``ChatStore`` reader."""

    def database(self, root: Path) -> Path:
        """The global store, whose changes mean new conversations."""
        return root / GLOBAL_STORAGE / STATE_DB

    def stat(self, path: Path) -> DbStat | None:
        """What identifies this version of a database; None when it is gone."""
        from tokenbuddy.sources.cursor_local.database import db_stat

        return db_stat(path)

    def workspaces(self, root: Path) -> list[Path]:
        """The workspace databases, which map conversations to project folders."""
        return workspace_dbs(root)

    def workspace(self, path: Path) -> tuple[str, list[str]]:
        """(project folder, conversation ids) of one workspace database."""
        from tokenbuddy.sources.cursor_local.workspaces import workspace_composers

        return workspace_composers(path)

    def read(
        self,
        path: Path,
        stat: DbStat,
        watermarks: Mapping[str, int],
        projects: Mapping[str, str],
    ) -> DbRead:
        """Re-read the conversations whose last update differs from ``watermarks``."""
        from tokenbuddy.sources.cursor_local.global_db import read_global_db

        return read_global_db(path, stat, watermarks, projects)
