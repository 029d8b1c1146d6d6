"""A made-up agent that saves each chat as one JSON document, rewritten whole on every
message, as Gemini CLI, Copilot Chat and Cline do.

Its chats are ``$FAKE_DOCS_HOME/chats/*.chat.json`` (default ``~/.fake-docs``):
``{"session": id, "messages": [{"id", "at", "model", "in", "out"}...]}``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.core.records import ParseStats, SkipReason, UsageRecord
from tokenbuddy.sources.jsonl import parse_timestamp
from tokenbuddy.sources.locations import LogDir, configured_dirs
from tokenbuddy.sources.registry import DocumentRead, Documents, LogSource, WatchHints

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

NAME = "fake-docs"
SUFFIX = ".chat.json"


def log_dirs(environ: Mapping[str, str], home: Path, *_: object) -> list[LogDir]:
    configured = configured_dirs(environ, "FAKE_DOCS_HOME")
    if configured is not None:
        return [LogDir(path / "chats", "FAKE_DOCS_HOME") for path in configured]
    return [LogDir(home / ".fake-docs" / "chats", "default")]


def find(root: Path, errors: list[str]) -> list[str]:
    try:
        names = os.listdir(root)
    except OSError as error:
        errors.append(f"cannot read {root}: {error.strerror}")
        return []
    return sorted(str(root / name) for name in names if name.endswith(SUFFIX))


def read(path: str, state: dict[str, Any], stats: ParseStats) -> DocumentRead:
    with open(path, "rb") as handle:
        data = handle.read()
    stats.lines += 1
    try:
        chat = orjson.loads(data)
    except orjson.JSONDecodeError:
        stats.skip(SkipReason.INVALID_JSON)
        return DocumentRead([], [], state)
    records = []
    for message in chat["messages"]:
        ts_ms = parse_timestamp(message["at"])
        assert ts_ms is not None
        record = UsageRecord(
            f"docs:{message['id']}", NAME, ts_ms, chat["session"], "/home/dev/docs",
            message["model"], message["in"], message["out"], 0, 0, 0, 0, 0, "", "",
            False, "", "",
        )  # fmt: skip
        records.append(record)
    return DocumentRead(records, [], {"read": state.get("read", 0) + 1})


REGISTRY_LINE = LogSource(
    NAME, log_dirs, Documents(read, find), WatchHints(suffixes=(SUFFIX,)), ("chats",)
)  # fmt: skip
"""The line a real agent would add to ``LOG_SOURCES``."""
