"""Where agents keep their logs: what every source's discovery function returns and shares.

Each reader module has a ``log_dirs(environ, home, platform, windows_users)``
function naming the directories it reads, from the environment variables it
honours or else its defaults (a source that does not depend on the platform takes
``(environ, home, *_)``); :mod:`tokenbuddy.sources.discovery` calls them all
through the registry.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Mapping

WINDOWS_USERS = Path("/mnt/c/Users")
"""Where WSL sees the Windows side's user directories."""


class LogDir(NamedTuple):
    """One directory a source reads, and why it is read."""

    path: Path
    origin: str
    """The environment variable that named it, ``default``, or ``WSL``."""


def configured_dirs(environ: Mapping[str, str], variable: str) -> list[Path] | None:
    """The directories a comma-separated environment variable names, ``~`` expanded;
    None when it is unset or blank (the source's defaults apply)."""
    value = environ.get(variable, "").strip()
    if not value:
        return None
    return [Path(part.strip()).expanduser() for part in value.split(",") if part.strip()]


def config_home(environ: Mapping[str, str], home: Path) -> Path:
    """``$XDG_CONFIG_HOME``, else ``~/.config``."""
    xdg = environ.get("XDG_CONFIG_HOME", "").strip()
    return Path(xdg).expanduser() if xdg else home / ".config"


def windows_user_dirs(windows_users: Path) -> list[str]:
    """The Windows side's user directories as WSL sees them, sorted; none when unreadable."""
    try:
        return sorted(entry.path for entry in os.scandir(windows_users) if entry.is_dir())
    except OSError:
        return []
