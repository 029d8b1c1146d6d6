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


def app_data_dirs(
    environ: Mapping[str, str],
    home: Path,
    platform: str,
    windows_users: Path,
    tail: Path,
) -> list[LogDir]:
    """An editor's per-user directory ``tail`` (``Code/User``, ``Cursor/User``) under this
    platform's application data: ``~/.config`` (Linux, or ``$XDG_CONFIG_HOME``),
    ``~/Library/Application Support`` (macOS) or ``%APPDATA%`` (Windows); under WSL also
    the Windows side's ``AppData/Roaming/<tail>`` that exist."""
    if platform == "darwin":
        base = home / "Library" / "Application Support"
    elif platform == "win32":
        base = Path(environ.get("APPDATA") or home / "AppData" / "Roaming")
    else:
        base = config_home(environ, home)
    found = [LogDir(base / tail, "default")]
    return found + wsl_dirs(environ, platform, windows_users, Path("AppData", "Roaming") / tail)


def home_dirs(
    environ: Mapping[str, str], home: Path, platform: str, windows_users: Path, name: str
) -> list[LogDir]:
    """An agent's dot directory ``name`` (``.gemini``) in the home directory, on every
    platform (``%USERPROFILE%`` on Windows); under WSL also the Windows side's that exist."""
    return [LogDir(home / name, "default"), *wsl_dirs(environ, platform, windows_users, Path(name))]


def wsl_dirs(
    environ: Mapping[str, str], platform: str, windows_users: Path, relative: Path
) -> list[LogDir]:
    """Under WSL, ``relative`` in each Windows user's directory, where it exists."""
    if platform != "linux" or not environ.get("WSL_DISTRO_NAME"):
        return []
    found = []
    for user in windows_user_dirs(windows_users):
        path = Path(user) / relative
        if path.is_dir():
            found.append(LogDir(path, "WSL"))
    return found


REMOTE_SERVERS = (".vscode-server", ".vscode-server-insiders")
"""The dot dirs a VS Code remote (SSH, WSL, container, tunnel) server keeps its data in, on
the machine the extensions run on: ``<dir>/data/User`` is its ``User`` dir."""


def remote_user_dirs(home: Path, servers: tuple[str, ...] = REMOTE_SERVERS) -> list[LogDir]:
    """The ``User`` dirs of the editor servers in the home directory (stable and Insiders),
    where remote windows' chats and extension data live."""
    return [LogDir(home / server / "data" / "User", "default") for server in servers]
