"""What each source is called, where people read it: reports, ``doctor``, the dashboard.

Sources are the record sources of :mod:`tokenbuddy.core.records`; an agent with several
front ends (Copilot's CLI and VS Code chat, Cline and its forks) names the one a session
ran in as its entrypoint, and :func:`front_end` reads that back.
"""

from __future__ import annotations

from tokenbuddy.core.records import (
    CLAUDE_CODE,
    CLINE,
    CODEX,
    COPILOT,
    CURSOR,
    CURSOR_LOCAL,
    GEMINI_CLI,
    OPENCODE,
    QWEN_CODE,
)

_NAMES = {
    CLAUDE_CODE: ("Claude Code", "Claude"),
    CODEX: ("Codex", "Codex"),
    CURSOR: ("Cursor (billed)", "Cursor"),
    CURSOR_LOCAL: ("Cursor", "Cursor"),
    GEMINI_CLI: ("Gemini CLI", "Gemini"),
    COPILOT: ("GitHub Copilot", "Copilot"),
    OPENCODE: ("OpenCode", "OpenCode"),
    QWEN_CODE: ("Qwen Code", "Qwen"),
    CLINE: ("Cline", "Cline"),
}
"""source -> (full name, short name)."""
_FRONT_ENDS = {
    (COPILOT, "copilot-cli"): "Copilot CLI",
    (COPILOT, "vscode"): "Copilot in VS Code",
    (CLINE, "cline"): "Cline",
    (CLINE, "roo-code"): "Roo Code",
    (CLINE, "kilo-code"): "Kilo Code",
}
"""(source, entrypoint) -> the front end's name, for agents that have several."""


def agent_name(source: str) -> str:
    """``Claude Code``, ``Gemini CLI``...; an unknown source as written."""
    return _NAMES.get(source, (source, source))[0]


def short_agent_name(source: str) -> str:
    """A narrow column's name: ``Claude``, ``Gemini``, ``Copilot``..."""
    return _NAMES.get(source, (source, source))[1]


def front_end(source: str, entrypoint: str) -> str | None:
    """The front end of an agent that has several (``Copilot CLI``, ``Roo Code``), or None."""
    return _FRONT_ENDS.get((source, entrypoint))


CACHE_UNRECORDED = frozenset({(COPILOT, "vscode")})
"""(source, entrypoint) of front ends whose logs hold no cache figures (Copilot Chat in VS
Code records prompt and output tokens only): a cache hit ratio of 0 there says nothing."""


def records_cache(source: str, entrypoint: str) -> bool:
    """Whether a request's logs would show its cache reads and writes."""
    return (source, entrypoint) not in CACHE_UNRECORDED
