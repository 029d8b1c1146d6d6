"""``tokenbuddy statusline --install`` / ``--uninstall``: Claude Code's ``settings.json``.

The file is the user's, with their permissions, hooks and other settings in it:
it is changed only by merging the one ``statusLine`` key, after a timestamped
backup, and written atomically. A different status line already configured is
left alone unless ``--force``; whatever was there is remembered, so
``--uninstall`` puts it back.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tokenbuddy.store.paths import AppPaths

REFRESH_INTERVAL_S = 15
"""Claude Code re-runs the status line this often (2.1.97+), so background updates show."""
MARKER = "statusline"


def settings_file(environ: Mapping[str, str], home: Path) -> Path:
    """Claude Code's user ``settings.json``: the first ``CLAUDE_CONFIG_DIR``, else ~/.claude."""
    configured = [p.strip() for p in environ.get("CLAUDE_CONFIG_DIR", "").split(",") if p.strip()]
    if configured:
        root = Path(configured[0]).expanduser()
        if root.name == "projects":
            root = root.parent
        return root / "settings.json"
    return home / ".claude" / "settings.json"


def other_dirs_note(environ: Mapping[str, str]) -> str | None:
    """A note when ``CLAUDE_CONFIG_DIR`` names more dirs than the one that was changed."""
    others = [p for p in environ.get("CLAUDE_CONFIG_DIR", "").split(",")[1:] if p.strip()]
    if not others:
        return None
    return (
        f"note: CLAUDE_CONFIG_DIR names {len(others)} more dir(s); only the first was "
        "changed (run again with each as CLAUDE_CONFIG_DIR to change the others)"
    )


LAUNCHER = (
    "import sys; from tokenbuddy.cli.statusline import run_fast; sys.exit(run_fast(sys.argv[1:]))"
)
"""What the installed status line runs: straight to the fast path. A console script
would first import ``re`` and the command-line parser, costing about 8 ms a run."""


def our_command() -> str:
    """The shell command Claude Code should run: this installation's Python, on the fast path."""
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(LAUNCHER)}"


def is_ours(entry: Any) -> bool:
    """Whether a ``statusLine`` value runs tokenbuddy's status line."""
    command = entry.get("command") if isinstance(entry, dict) else None
    return isinstance(command, str) and "tokenbuddy" in command and MARKER in command


def load_settings_json(path: Path) -> dict[str, Any]:
    """The settings object, {} when the file does not exist; refuses anything unparsable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from error
    try:
        value = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError as error:
        raise ConfigError(f"{path} is not valid JSON ({error}); fix it first") from error
    if not isinstance(value, dict):
        raise ConfigError(f"{path} does not hold a JSON object; fix it first")
    return value


def write_settings_json(path: Path, settings: dict[str, Any]) -> Path | None:
    """Back the file up (if it exists), then replace it atomically; returns the backup."""
    backup = None
    if path.exists():
        backup = path.with_name(f"{path.name}.tokenbuddy-backup-{time.strftime('%Y%m%d-%H%M%S')}")
        shutil.copy2(path, backup)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".settings-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(orjson.dumps(settings, option=orjson.OPT_INDENT_2) + b"\n")
        if path.exists():
            shutil.copymode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return backup


def install(path: Path, paths: AppPaths, *, force: bool) -> str:
    """Add tokenbuddy's ``statusLine``; returns what was done, for the user. A config
    dir that does not exist is refused: a typo in CLAUDE_CONFIG_DIR is likelier than a
    Claude Code that never ran."""
    if not path.parent.is_dir():
        raise ConfigError(
            f"{path.parent} does not exist, so Claude Code does not run from there; "
            "check CLAUDE_CONFIG_DIR (or run Claude Code once first)"
        )
    settings = load_settings_json(path)
    current = settings.get("statusLine")
    if is_ours(current):
        return f"tokenbuddy's status line is already installed in {path}"
    if current is not None and not force:
        raise ConfigError(
            f"{path} already has a status line ({_describe(current)}); "
            "run with --force to replace it (--uninstall puts it back)"
        )
    _remember_previous(paths, path, current)
    settings["statusLine"] = {
        "type": "command",
        "command": our_command(),
        "padding": 0,
        "refreshInterval": REFRESH_INTERVAL_S,
    }
    backup = write_settings_json(path, settings)
    saved = f" (backup: {backup})" if backup else ""
    return f"installed tokenbuddy's status line in {path}{saved}"


def uninstall(path: Path, paths: AppPaths) -> str:
    """Remove tokenbuddy's ``statusLine``, restoring the previous one if there was one."""
    settings = load_settings_json(path)
    if not is_ours(settings.get("statusLine")):
        return f"tokenbuddy's status line is not installed in {path}; nothing changed"
    previous = _recall_previous(paths, path)
    if previous is None:
        del settings["statusLine"]
    else:
        settings["statusLine"] = previous
    backup = write_settings_json(path, settings)
    restored = "restored the previous status line" if previous is not None else "removed it"
    return f"uninstalled tokenbuddy's status line from {path}: {restored} (backup: {backup})"


def _describe(entry: Any) -> str:
    command = entry.get("command") if isinstance(entry, dict) else None
    return f"command {command!r}" if isinstance(command, str) else "a custom setting"


def _memory(paths: AppPaths) -> Path:
    return paths.state_dir / "statusline-previous.json"


def _remember_previous(paths: AppPaths, path: Path, previous: Any) -> None:
    memory = _memory(paths)
    saved = load_settings_json(memory) if memory.exists() else {}
    saved[str(path)] = previous
    memory.parent.mkdir(parents=True, exist_ok=True)
    memory.write_bytes(orjson.dumps(saved, option=orjson.OPT_INDENT_2))


def _recall_previous(paths: AppPaths, path: Path) -> Any:
    memory = _memory(paths)
    saved = load_settings_json(memory) if memory.exists() else {}
    return saved.get(str(path))
