"""A made-up agent's reader module, written as a new agent's would be.

Its logs are ``$FAKE_AGENT_HOME/logs/**/*.ndjson`` (default ``~/.fake-agent``), one
request a line: ``{"id": ..., "at": ISO time, "model": ..., "in": n, "out": n}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tokenbuddy.core.records import ParseStats, PromptMark, RateLimitSnapshot, UsageRecord
from tokenbuddy.sources.jsonl import load_line, parse_timestamp, split_lines
from tokenbuddy.sources.locations import LogDir, configured_dirs
from tokenbuddy.sources.registry import LogSource, Transcripts, WatchHints

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

NAME = "fake-agent"
HOME_DIRS = ("logs",)


def log_dirs(environ: Mapping[str, str], home: Path, *_: object) -> list[LogDir]:
    configured = configured_dirs(environ, "FAKE_AGENT_HOME")
    if configured is not None:
        return [LogDir(path / "logs", "FAKE_AGENT_HOME") for path in configured]
    return [LogDir(home / ".fake-agent" / "logs", "default")]


class LogParser:
    """One log's new lines into records."""

    def __init__(self, path: str, state: dict[str, Any], stats: ParseStats) -> None:
        self.path = path
        self.state = state
        self.stats = stats
        self.records: list[UsageRecord] = []
        self.prompts: list[PromptMark] = []
        self.rate_limits: list[RateLimitSnapshot] = []

    def feed_chunk(self, chunk: bytes) -> None:
        for line in split_lines(chunk):
            self.stats.lines += 1
            obj = load_line(line.tobytes(), self.stats)
            ts_ms = parse_timestamp(obj.get("at")) if obj is not None else None
            if obj is None or ts_ms is None:
                continue
            record = UsageRecord(
                f"fake:{obj['id']}", NAME, ts_ms, self.path, "/home/dev/fake", obj["model"],
                obj["in"], obj["out"], 0, 0, 0, 0, 0, "", "", False, "", "",
            )  # fmt: skip
            self.records.append(record)
            self.stats.records += 1

    def finish(self, overlong_edges: Iterable[tuple[bytes, bytes]]) -> int:
        return 0


REGISTRY_LINE = LogSource(
    NAME, log_dirs, Transcripts(LogParser, suffix=".ndjson"), WatchHints(suffixes=(".ndjson",)),
    HOME_DIRS,
)  # fmt: skip
"""The line a real agent would add to ``LOG_SOURCES``."""
