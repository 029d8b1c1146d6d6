"""GitHub Copilot: the Copilot CLI and Copilot Chat in VS Code, one source.

Roots are of two kinds, told apart by name: a CLI's ``session-state`` directory
(``TOKENBUDDY_COPILOT_DIR``, else ``COPILOT_HOME``, else ``~/.copilot``, WSL's Windows
side included), read by :mod:`tokenbuddy.sources.copilot.cli`; and VS Code ``User``
directories (``TOKENBUDDY_VSCODE_USER_DIR``, comma-separated, else ``Code``,
``Code - Insiders`` and ``VSCodium`` under this platform's application data, and the
remote servers' ``~/.vscode-server/data/User`` and ``~/.vscode-server-insiders/data/User``),
read by
:mod:`tokenbuddy.sources.copilot.vscode`. A document is dispatched by its path: an
``events.jsonl`` (or a flat ``<session>.jsonl``) right under ``session-state`` is a CLI
session; anything else a VS Code chat.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokenbuddy.sources.copilot import cli, vscode
from tokenbuddy.sources.documents import DocumentRead
from tokenbuddy.sources.locations import (
    LogDir,
    app_data_dirs,
    configured_dirs,
    home_dirs,
    remote_user_dirs,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tokenbuddy.core.records import ParseStats

SESSION_STATE = "session-state"
WORKSPACE_STORAGE = "workspaceStorage"
HOME_DIRS: tuple[str, ...] = (SESSION_STATE, WORKSPACE_STORAGE)
"""What marks a directory named on the command line as a Copilot CLI home or a VS Code
``User`` dir (its ``workspaceStorage`` is then the root)."""
EDITORS = ("Code", "Code - Insiders", "VSCodium")
CHAT_SESSIONS = "chatSessions"
EMPTY_WINDOW = Path("globalStorage", "emptyWindowChatSessions")
SUFFIXES: tuple[str, ...] = (".json", ".jsonl")


def log_dirs(
    environ: Mapping[str, str], home: Path, platform: str, windows_users: Path
) -> list[LogDir]:
    """The CLI's ``session-state`` dirs, then VS Code's ``User`` dirs."""
    return cli_dirs(environ, home, platform, windows_users) + vscode_dirs(
        environ, home, platform, windows_users
    )


def cli_dirs(
    environ: Mapping[str, str], home: Path, platform: str, windows_users: Path
) -> list[LogDir]:
    """``session-state`` of ``TOKENBUDDY_COPILOT_DIR``, ``COPILOT_HOME`` or ``~/.copilot``."""
    for variable in ("TOKENBUDDY_COPILOT_DIR", "COPILOT_HOME"):
        configured = configured_dirs(environ, variable)
        if configured is not None:
            return [LogDir(path / SESSION_STATE, variable) for path in configured]
    homes = home_dirs(environ, home, platform, windows_users, ".copilot")
    return [LogDir(found.path / SESSION_STATE, found.origin) for found in homes]


def vscode_dirs(
    environ: Mapping[str, str], home: Path, platform: str, windows_users: Path
) -> list[LogDir]:
    """``TOKENBUDDY_VSCODE_USER_DIR``, else every VS Code flavour's ``User`` dir."""
    configured = configured_dirs(environ, "TOKENBUDDY_VSCODE_USER_DIR")
    if configured is not None:
        return [LogDir(path, "TOKENBUDDY_VSCODE_USER_DIR") for path in configured]
    found = [
        found
        for editor in EDITORS
        for found in app_data_dirs(environ, home, platform, windows_users, Path(editor, "User"))
    ]
    return [*found, *remote_user_dirs(home)]


def find(root: Path, errors: list[str]) -> list[str]:
    """The sessions under a root: CLI events under ``session-state``, chats elsewhere."""
    if root.name == SESSION_STATE:
        return sorted(cli_sessions(root, errors))
    storage = root if root.name == WORKSPACE_STORAGE else root / WORKSPACE_STORAGE
    chats = [
        path
        for workspace in subdirs(storage, errors)
        for path in documents(Path(workspace, CHAT_SESSIONS), errors)
    ]
    if root.name != WORKSPACE_STORAGE:
        chats += documents(root / EMPTY_WINDOW, errors)
    return sorted(chats)


def cli_sessions(root: Path, errors: list[str]) -> list[str]:
    """``<session>/events.jsonl`` and the older flat ``<session>.jsonl`` files."""
    found = []
    try:
        entries = list(os.scandir(root))
    except OSError as error:
        errors.append(f"cannot read {root}: {error.strerror}")
        return []
    for entry in entries:
        events = os.path.join(entry.path, "events.jsonl")
        if entry.name.endswith(".jsonl") and entry.is_file():
            found.append(entry.path)
        elif entry.is_dir() and os.path.isfile(events):
            found.append(events)
    return found


def subdirs(directory: Path, errors: list[str]) -> list[str]:
    """The directories in ``directory``; none when it does not exist."""
    try:
        return [entry.path for entry in os.scandir(directory) if entry.is_dir()]
    except FileNotFoundError:
        return []
    except OSError as error:
        errors.append(f"cannot read {directory}: {error.strerror}")
        return []


def documents(directory: Path, errors: list[str]) -> list[str]:
    """The chat documents in one ``chatSessions`` dir; none when it does not exist."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    except OSError as error:
        errors.append(f"cannot read {directory}: {error.strerror}")
        return []
    return [str(directory / name) for name in names if name.endswith(SUFFIXES)]


def is_cli_session(path: str) -> bool:
    """Whether a document is a CLI session's events (not a VS Code chat)."""
    parent = os.path.dirname(path)
    if os.path.basename(path) == "events.jsonl":
        return os.path.basename(os.path.dirname(parent)) == SESSION_STATE
    return os.path.basename(parent) == SESSION_STATE


def is_chat(path: str) -> bool:
    """Whether a file is a VS Code chat document (a written file handed over by the
    watcher may be any ``.json`` under a ``User`` dir)."""
    directory = Path(path).parent
    in_place = directory.name == CHAT_SESSIONS or directory.parts[-2:] == EMPTY_WINDOW.parts
    return in_place and path.endswith(SUFFIXES)


def claims(path: str) -> bool:
    """Whether a written file is a CLI session or a chat (not ``settings.json`` and the
    like under a ``User`` dir)."""
    return is_cli_session(path) or is_chat(path)


def read(path: str, state: dict[str, Any], stats: ParseStats) -> DocumentRead:
    """Read one session: a CLI's from its offset, a VS Code chat whole."""
    if is_cli_session(path):
        records, prompts, new_state, whole = cli.read(path, state, stats)
        return DocumentRead(records, prompts, new_state, whole)
    if not is_chat(path):
        return DocumentRead([], [], state)
    found = vscode.read(path, stats)
    if found is None:
        return DocumentRead([], [], state)
    return DocumentRead(found[0], found[1], {})
