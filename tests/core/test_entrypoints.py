"""Which sessions a program drives, and what the front ends are called."""

from __future__ import annotations

import pytest

from tokenbuddy.core.entrypoints import entrypoint_label, is_scripted, shows_prompts


@pytest.mark.parametrize(
    ("source", "entrypoint", "scripted"),
    [
        ("claude-code", "cli", False),
        ("claude-code", "claude-desktop", False),
        ("claude-code", "claude-vscode", False),
        ("claude-code", "sdk-cli", True),  # claude -p
        ("claude-code", "sdk-ts", True),
        ("claude-code", "sdk-py", True),
        ("claude-code", "sdk-go", True),  # any other SDK
        ("claude-code", "", False),
        ("codex", "codex_cli_rs", False),
        ("codex", "codex-tui", False),
        ("codex", "codex_vscode", False),
        ("codex", "Codex Desktop", False),
        ("codex", "codex_exec", True),  # codex exec
        ("codex", "codex_sdk_ts", True),
        ("codex", "codex_sdk_py", True),
        ("codex", "codex_python_sdk", True),  # the app-server SDK's client name
        ("codex", "", False),
        ("", "sdk-cli", True),  # callers that do not say which agent
        ("", "codex_exec", True),
        ("", "cli", False),
        ("", "", False),
        ("cursor", "sdk-cli", False),
        ("codex", "codex-app-server-sdk", True),  # any originator naming an SDK
    ],
)
def test_is_scripted(source: str, entrypoint: str, scripted: bool) -> None:
    assert is_scripted(source, entrypoint) is scripted


@pytest.mark.parametrize(
    ("source", "shows"),
    [
        ("claude-code", True),
        ("codex", True),
        ("", True),
        ("cursor", False),
        ("cursor-local", False),
    ],
)
def test_only_cursor_hides_its_prompts(source: str, shows: bool) -> None:
    assert shows_prompts(source) is shows


@pytest.mark.parametrize(
    ("source", "entrypoint", "label"),
    [
        ("claude-code", "sdk-cli", "claude -p"),
        ("claude-code", "cli", "Claude Code"),
        ("claude-code", "", "Claude Code"),
        ("claude-code", "sdk-rust", "sdk-rust"),
        ("codex", "codex_exec", "codex exec"),
        ("codex", "codex-tui", "Codex"),
        ("codex", "", "Codex"),
        ("", "sdk-py", "Agent SDK (Python)"),
        ("", "codex_sdk_ts", "Codex SDK (TypeScript)"),
        ("", "", "an agent"),
    ],
)
def test_entrypoint_labels(source: str, entrypoint: str, label: str) -> None:
    assert entrypoint_label(source, entrypoint) == label
