"""Where Cline, Roo Code and Kilo Code keep their tasks, and which extension wrote one.

A VS Code-family editor gives each extension a directory under its ``User`` dir's
``globalStorage``, named by the extension id in lower case. The three extensions keep
one directory per task there, ``<extension id>/tasks/<task id>/``, holding the task's
``ui_messages.json`` (``claude_messages.json`` before Cline 2.x renamed it). Cline's
standalone CLI keeps the same task directories in its data dir, ``~/.cline/data/tasks``.

``TOKENBUDDY_VSCODE_USER_DIR`` (comma-separated ``User`` dirs, the variable the
Copilot reader honours too) replaces the defaults: the ``User`` dirs of VS Code, VS
Code Insiders, VSCodium, Cursor and Windsurf under this platform's application data
(and the Windows side's under WSL), the ``User`` dirs of the editors' remote servers
(``~/.vscode-server``, ``~/.vscode-server-insiders``, ``~/.cursor-server``,
``~/.windsurf-server``: an extension in a remote window runs, and keeps its tasks, on the
remote machine), and ``~/.cline/data``. A directory it names that
holds ``tasks/`` itself is read as a Cline data dir.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tokenbuddy.sources.locations import (
    WINDOWS_USERS,
    LogDir,
    app_data_dirs,
    configured_dirs,
    home_dirs,
    remote_user_dirs,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

VARIABLE = "TOKENBUDDY_VSCODE_USER_DIR"
GLOBAL_STORAGE = "globalStorage"
TASKS = "tasks"
UI_MESSAGES = "ui_messages.json"
LEGACY_UI_MESSAGES = "claude_messages.json"
"""The name Cline's ``ui_messages.json`` had before Cline renamed it (tasks never
reopened since keep it)."""
DOCUMENT_NAMES = (UI_MESSAGES, LEGACY_UI_MESSAGES)
CLI_ENTRYPOINT = "cline-cli"
EXTENSIONS = {
    "saoudrizwan.claude-dev": "cline",
    "rooveterinaryinc.roo-cline": "roo-code",
    "rooveterinaryinc.roo-code-nightly": "roo-code",
    "kilocode.kilo-code": "kilo-code",
}
"""Extension id (as its ``globalStorage`` dir is named) -> the entrypoint it is recorded as."""
EDITOR_USER_DIRS = (
    Path("Code", "User"),
    Path("Code - Insiders", "User"),
    Path("VSCodium", "User"),
    Path("Cursor", "User"),
    Path("Windsurf", "User"),
)
CLI_DATA_DIR = Path(".cline", "data")
REMOTE_SERVERS = (".vscode-server", ".vscode-server-insiders", ".cursor-server", ".windsurf-server")


def log_dirs(
    environ: Mapping[str, str],
    home: Path,
    platform: str = sys.platform,
    windows_users: Path = WINDOWS_USERS,
) -> list[LogDir]:
    """Each editor's ``globalStorage`` and Cline's CLI data dir: those the variable
    names, else this platform's defaults."""
    configured = configured_dirs(environ, VARIABLE)
    if configured is not None:
        return [LogDir(_root_of(path), VARIABLE) for path in configured]
    found = [
        LogDir(entry.path / GLOBAL_STORAGE, entry.origin)
        for tail in EDITOR_USER_DIRS
        for entry in app_data_dirs(environ, home, platform, windows_users, tail)
    ]
    found += [
        LogDir(entry.path / GLOBAL_STORAGE, entry.origin)
        for entry in remote_user_dirs(home, REMOTE_SERVERS)
    ]
    return found + home_dirs(environ, home, platform, windows_users, str(CLI_DATA_DIR))


def _root_of(configured: Path) -> Path:
    """A configured directory's root: itself for a Cline data dir (it holds ``tasks/``),
    else its ``globalStorage``."""
    return configured if (configured / TASKS).is_dir() else configured / GLOBAL_STORAGE


def find(root: Path, errors: list[str]) -> list[str]:
    """Every task's messages document under a root, sorted: the known extensions' task
    dirs under a ``globalStorage``, or the task dirs of a Cline data dir."""
    if (root / TASKS).is_dir():
        return sorted(_task_documents(root / TASKS, errors))
    try:
        entries = [entry for entry in os.scandir(root) if entry.name.lower() in EXTENSIONS]
    except OSError as error:
        errors.append(f"cannot read {root}: {error.strerror}")
        return []
    found: list[str] = []
    for entry in entries:
        found += _task_documents(Path(entry.path, TASKS), errors)
    return sorted(found)


def _task_documents(tasks: Path, errors: list[str]) -> list[str]:
    """The messages documents of each task dir in ``tasks`` (none when it is absent)."""
    try:
        task_dirs = [entry.path for entry in os.scandir(tasks) if entry.is_dir()]
    except FileNotFoundError:
        return []
    except OSError as error:
        errors.append(f"cannot read {tasks}: {error.strerror}")
        return []
    return [
        path
        for task_dir in task_dirs
        for name in DOCUMENT_NAMES
        if os.path.isfile(path := os.path.join(task_dir, name))
    ]


def entrypoint_of(document: str) -> str:
    """The extension a task document was written by, from its path: ``cline``,
    ``roo-code``, ``kilo-code``, or ``cline-cli`` for the CLI's data dir."""
    parts = Path(document).parts
    extension = parts[-4].lower() if len(parts) >= 4 else ""
    return EXTENSIONS.get(extension, CLI_ENTRYPOINT)
