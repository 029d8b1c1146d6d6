"""Where Claude Code keeps its transcripts, and what a transcript's path says.

``CLAUDE_CONFIG_DIR`` (comma-separated; each entry a config dir or its
``projects/`` dir) replaces the defaults ``$XDG_CONFIG_HOME/claude``
(``~/.config/claude``) and ``~/.claude``, which are both searched.

Transcripts live under ``<config dir>/projects/<project slug>/``: a session's own
file is ``<session id>.jsonl``, and a subagent's (or a side question's, or a
compaction's) is ``<session id>/subagents/agent-<id>.jsonl`` with a sibling
``.meta.json`` naming the agent's type.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from tokenbuddy.sources.locations import LogDir, config_home, configured_dirs

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

HOME_DIRS = ("projects",)
"""The directory of a Claude config dir that holds the transcripts."""
_SIDE_FILE_TYPES = {"aside_question": "aside_question", "acompact": "compact"}


def log_dirs(environ: Mapping[str, str], home: Path, *_: object) -> list[LogDir]:
    """The ``projects/`` dirs of ``CLAUDE_CONFIG_DIR``, else of both default config dirs."""
    configured = configured_dirs(environ, "CLAUDE_CONFIG_DIR")
    if configured is not None:
        return [
            LogDir(path if path.name == "projects" else path / "projects", "CLAUDE_CONFIG_DIR")
            for path in configured
        ]
    return [
        LogDir(config_home(environ, home) / "claude" / "projects", "default"),
        LogDir(home / ".claude" / "projects", "default"),
    ]


@dataclass(frozen=True, slots=True)
class FileContext:
    """What a transcript's path says about the records inside it."""

    session_id: str
    """Fallback session id: the file name (or, for subagent files, the parent dir)."""
    project: str
    """Fallback project: the lossy dir slug, used only when a record lacks ``cwd``."""
    agent_id: str = ""
    agent_type: str = ""

    def for_subagent(self, agent_id: str) -> FileContext:
        """The context of a subagent's record embedded in this file's progress lines."""
        return FileContext(self.session_id, self.project, agent_id, "subagent")


def context_for(path: str) -> FileContext:
    """Derive session, project and subagent identity from a transcript path."""
    directory, name = os.path.split(path)
    stem = name.removesuffix(".jsonl")
    parts = directory.split(os.sep)
    if "subagents" not in parts:
        return FileContext(stem, parts[-1] if parts else "")
    index = len(parts) - 1 - parts[::-1].index("subagents")
    session_id = parts[index - 1] if index >= 1 else stem
    project = parts[index - 2] if index >= 2 else ""
    agent_id = stem.removeprefix("agent-")
    return FileContext(session_id, project, agent_id, _agent_type(directory, stem, agent_id))


def _agent_type(directory: str, stem: str, agent_id: str) -> str:
    """``Explore``/``general-purpose``... from the sibling meta.json, or the side-file kind."""
    for prefix, kind in _SIDE_FILE_TYPES.items():
        if agent_id.startswith(prefix + "-"):
            return kind
    try:
        with open(os.path.join(directory, stem + ".meta.json"), "rb") as handle:
            meta = orjson.loads(handle.read())
    except (OSError, orjson.JSONDecodeError):
        return "subagent"
    agent_type = meta.get("agentType") if isinstance(meta, dict) else None
    return agent_type if isinstance(agent_type, str) and agent_type else "subagent"
