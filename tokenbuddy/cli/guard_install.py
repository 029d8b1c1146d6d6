"""``tokenbuddy guard --install`` / ``--uninstall``: the guard's hooks in Claude Code's settings.

Two hooks go into the user's ``settings.json`` (the first ``CLAUDE_CONFIG_DIR``, else
``~/.claude``), in the shape of Claude Code's hooks reference::

    "hooks": {
      "PreToolUse": [{"matcher": "*", "hooks": [{"type": "command", "command": …}]}],
      "UserPromptSubmit": [{"hooks": [{"type": "command", "command": …}]}]
    }

The file is the user's: the two entries are added beside every other hook and key
(other ``PreToolUse`` hooks included), after a timestamped backup, and written
atomically. Uninstalling removes only tokenbuddy's entries, keeping whatever the
user changed since, and the ``hooks`` containers the install created if they are
empty again. A config dir that does not exist is refused: the hooks would guard
nothing there.
"""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.cli.statusline_install import load_settings_json, write_settings_json
from tokenbuddy.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from tokenbuddy.store.paths import AppPaths

LAUNCHER = "import sys; from tokenbuddy.cli.guard_hook import run_hook; sys.exit(run_hook())"
"""What the installed hook runs: straight to the fast path (no console script, no argparse)."""
MARKER = "tokenbuddy.cli.guard_hook"
EVENTS = {"PreToolUse": "*", "UserPromptSubmit": None}
"""The hook events, with the matcher of each (``*``: every tool; None: no matcher)."""
HOOK_TIMEOUT_S = 10
"""Claude Code cancels the hook after this; it gives up by itself long before."""


def our_command() -> str:
    """The shell command Claude Code runs: this installation's Python, on the fast path."""
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(LAUNCHER)}"


def is_ours(hook: Any) -> bool:
    """Whether one hook (``{"type": "command", "command": …}``) is tokenbuddy's guard."""
    command = hook.get("command") if isinstance(hook, dict) else None
    return isinstance(command, str) and MARKER in command


def installed_events(settings: dict[str, Any]) -> list[str]:
    """The events whose hooks include tokenbuddy's guard."""
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return []
    return [event for event in EVENTS if any(is_ours(h) for h in _hooks_of(hooks.get(event)))]


def _hooks_of(groups: Any) -> list[Any]:
    """Every hook in an event's list of matcher groups (malformed parts skipped)."""
    if not isinstance(groups, list):
        return []
    found = []
    for group in groups:
        if isinstance(group, dict) and isinstance(group.get("hooks"), list):
            found.extend(group["hooks"])
    return found


def install(path: Path, paths: AppPaths) -> str:
    """Add the guard's hooks to ``path``; returns what was done, for the user."""
    if not path.parent.is_dir():
        raise ConfigError(
            f"{path.parent} does not exist, so Claude Code does not run from there; "
            "check CLAUDE_CONFIG_DIR (or run Claude Code once first)"
        )
    settings = load_settings_json(path)
    created = [] if "hooks" in settings else ["hooks"]
    hooks = settings.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise ConfigError(f'"hooks" in {path} is not an object; fix it first')
    added = []
    for event, matcher in EVENTS.items():
        if event not in hooks:
            created.append(event)
        groups = hooks.setdefault(event, [])
        if not isinstance(groups, list):
            raise ConfigError(f'"hooks.{event}" in {path} is not a list; fix it first')
        if any(is_ours(h) for h in _hooks_of(groups)):
            continue
        entry = {"type": "command", "command": our_command(), "timeout": HOOK_TIMEOUT_S}
        groups.append({"matcher": matcher, "hooks": [entry]} if matcher else {"hooks": [entry]})
        added.append(event)
    if not added:
        return f"tokenbuddy's guard is already installed in {path}"
    _remember_created(paths, path, [*_recall_created(paths, path), *created])
    backup = write_settings_json(path, settings)
    saved = f" (backup: {backup})" if backup else ""
    notes = ""
    if settings.get("disableAllHooks") is True:
        notes = '\nnote: "disableAllHooks" is true in that file, so Claude Code runs no hooks'
    return f"installed tokenbuddy's guard ({', '.join(added)} hooks) in {path}{saved}{notes}"


def uninstall(path: Path, paths: AppPaths) -> str:
    """Remove the guard's hooks from ``path`` (and only them)."""
    settings = load_settings_json(path)
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict) or not installed_events(settings):
        return f"tokenbuddy's guard is not installed in {path}; nothing changed"
    created = _recall_created(paths, path)
    for event in EVENTS:
        groups = hooks.get(event)
        if not isinstance(groups, list):
            continue
        hooks[event] = [kept for group in groups if (kept := _without_ours(group)) is not None]
        if not hooks[event] and event in created:
            del hooks[event]
    if not hooks and "hooks" in created:
        del settings["hooks"]
    backup = write_settings_json(path, settings)
    _remember_created(paths, path, None)
    return f"uninstalled tokenbuddy's guard from {path} (backup: {backup})"


def _without_ours(group: Any) -> Any:
    """A matcher group without tokenbuddy's hooks; None when nothing else was in it."""
    if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
        return group
    theirs = [h for h in group["hooks"] if not is_ours(h)]
    if len(theirs) == len(group["hooks"]):
        return group
    return {**group, "hooks": theirs} if theirs else None


def _memory(paths: AppPaths) -> Path:
    return paths.state_dir / "guard-install.json"


def _remember_created(paths: AppPaths, path: Path, created: list[str] | None) -> None:
    """Note which containers the install created in ``path`` (None forgets them)."""
    memory = _memory(paths)
    saved = load_settings_json(memory)
    if created is None:
        saved.pop(str(path), None)
    else:
        saved[str(path)] = created
    memory.parent.mkdir(parents=True, exist_ok=True)
    memory.write_bytes(orjson.dumps(saved, option=orjson.OPT_INDENT_2))


def _recall_created(paths: AppPaths, path: Path) -> list[str]:
    created = load_settings_json(_memory(paths)).get(str(path))
    return [str(c) for c in created] if isinstance(created, list) else []
