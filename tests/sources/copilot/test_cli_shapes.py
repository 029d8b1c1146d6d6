"""Copilot CLI event lines off the common path: an event whose ``type`` is not a string
is passed over, and the session's calls around it still count."""

from __future__ import annotations

from pathlib import Path

from tests.sources.copilot import files as f
from tokenbuddy.core.records import ParseStats
from tokenbuddy.sources.copilot import cli

SONNET = "claude-sonnet-4.5"


def test_an_event_whose_type_is_not_a_string_is_passed_over(tmp_path: Path) -> None:
    ms = f.BASE_MS
    odd = f.event("assistant.message", ms + 2_000, {"outputTokens": 9}) | {"type": ["x"]}
    path = f.cli_session(
        tmp_path, "s1", f.start(ms, "s1", SONNET), odd,
        f.event("x", ms + 2_500, {}) | {"type": {"kind": "assistant.message"}},
        f.message(ms + 3_000, 40, SONNET),
    )  # fmt: skip
    records, _prompts, _state, _whole = cli.read(str(path), {}, ParseStats())
    assert [(r.model, r.output_tokens) for r in records] == [(SONNET, 40)]
