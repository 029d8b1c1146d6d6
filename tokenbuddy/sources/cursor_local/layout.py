"""Where Cursor keeps its store, and the store as ingest reads it.

``TOKENBUDDY_CURSOR_DIR`` (comma-separated ``User`` dirs) replaces the default
``Cursor/User`` under ``~/.config`` (Linux, or ``$XDG_CONFIG_HOME``),
``~/Library/Application Support`` (macOS) or ``%APPDATA%`` (Windows); under WSL
the Windows side's ``/mnt/c/Users/*/AppData/Roaming/Cursor/User`` are searched too.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tokenbuddy.sources.cursor_local.database import STATE_DB, db_stat
from tokenbuddy.sources.cursor_local.global_db import read_global_db
from tokenbuddy.sources.cursor_local.workspaces import workspace_composers, workspace_dbs
from tokenbuddy.sources.locations import (
    WINDOWS_USERS,
    LogDir,
    config_home,
    configured_dirs,
    windows_user_dirs,
)

if TYPE_CHECKING:
    from collections.abc import Mapping


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
    tail = Path("Cursor", "User")
    if platform == "darwin":
        base = home / "Library" / "Application Support"
    elif platform == "win32":
        base = Path(environ.get("APPDATA") or home / "AppData" / "Roaming")
    else:
        base = config_home(environ, home)
    found = [LogDir(base / tail, "default")]
    if platform == "linux" and environ.get("WSL_DISTRO_NAME"):
        for user in windows_user_dirs(windows_users):
            path = Path(user, "AppData", "Roaming") / tail
            if path.is_dir():
                found.append(LogDir(path, "WSL"))
    return found


class LocalStore:
    """Cursor's store under a ``User`` dir, as the registry's ``ChatStore`` reader."""

    stat = staticmethod(db_stat)
    workspaces = staticmethod(workspace_dbs)
    workspace = staticmethod(workspace_composers)
    read = staticmethod(read_global_db)

    def database(self, root: Path) -> Path:
        """The global store, whose changes mean new conversations."""
        return root / GLOBAL_STORAGE / STATE_DB
