"""Which front end started a session, and whether a person or a script drives it.

Claude Code writes the front end on every transcript line as ``entrypoint``: ``cli``
(the terminal), ``claude-desktop``, ``claude-vscode``, and for non-interactive runs
``sdk-cli`` (``claude -p``), ``sdk-ts`` and ``sdk-py`` (the Agent SDKs). Codex writes
it once per session as the ``originator`` of ``session_meta``: ``codex_cli_rs`` and
``codex-tui`` (the terminal), ``codex_vscode``, ``Codex Desktop``, and for scripts
``codex_exec`` (``codex exec``), ``codex_sdk_ts`` and ``codex_sdk_py`` (the SDKs,
which run ``codex exec`` under their own name) or ``codex_python_sdk`` (the
app-server SDK's client name). Both fields are the entrypoint here.

A scripted session's prompt was written by a program, so it is no sign that a
person is at the keys.
"""

from __future__ import annotations

from tokenbuddy.core.agents import agent_name, front_end
from tokenbuddy.core.records import CLAUDE_CODE, CODEX, CURSOR, CURSOR_LOCAL

PROMPTS_UNSEEN = frozenset({CURSOR, CURSOR_LOCAL})
"""Sources whose logs hold no prompts: their spend says nothing about whether anyone
is typing."""

_CLAUDE_LABELS = {
    "cli": "Claude Code",
    "claude-desktop": "Claude Desktop",
    "claude-vscode": "Claude Code in VS Code",
    "sdk-cli": "claude -p",
    "sdk-ts": "Agent SDK (TypeScript)",
    "sdk-py": "Agent SDK (Python)",
}
_CODEX_LABELS = {
    "codex_cli_rs": "Codex",
    "codex-tui": "Codex",
    "codex_vscode": "Codex in VS Code",
    "Codex Desktop": "Codex Desktop",
    "codex_exec": "codex exec",
    "codex_sdk_ts": "Codex SDK (TypeScript)",
    "codex_sdk_py": "Codex SDK (Python)",
    "codex_python_sdk": "Codex SDK (Python)",
}


def is_scripted(source: str, entrypoint: str) -> bool:
    """True when a program, not a person, drives the session: Claude Code's ``sdk-*``
    entrypoints, and Codex's ``codex_exec`` and SDK originators (any naming an SDK)."""
    if source in ("", CLAUDE_CODE) and entrypoint.startswith("sdk-"):
        return True
    if source == CODEX or (not source and entrypoint.lower().startswith("codex")):
        return entrypoint == "codex_exec" or "sdk" in entrypoint.lower()
    return False


def shows_prompts(source: str) -> bool:
    """True when ``source``'s logs record the prompts people type (unknown sources are
    assumed to, as every caller that does not say is a Claude Code or Codex reader)."""
    return source not in PROMPTS_UNSEEN


def entrypoint_label(source: str, entrypoint: str) -> str:
    """A person's name for the front end: ``claude -p``, ``codex exec``, ``Claude Code``;
    an unknown entrypoint as written, and none at all as the agent's name."""
    named = front_end(source, entrypoint)
    if named is not None:
        return named
    known = _CODEX_LABELS if source == CODEX else _CLAUDE_LABELS
    if entrypoint:
        return known.get(entrypoint) or _CODEX_LABELS.get(entrypoint) or entrypoint
    return agent_name(source) if source else "an agent"
