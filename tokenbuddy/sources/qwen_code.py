"""Qwen Code sessions: ``~/.qwen/projects/<sanitized project>/chats/<session id>.jsonl``.

Qwen Code (a Gemini CLI fork) records each session as append-only JSONL
(``packages/core/src/services/chatRecordingService.ts`` in QwenLM/qwen-code, the
``ChatRecord`` type): one record per line, ``{uuid, parentUuid, sessionId, timestamp,
type, cwd, version, ...}`` with ``type`` one of ``user``, ``assistant``, ``tool_result``
and ``system``. Records are written once and never updated, so the file is read as a
transcript, from where the last read stopped.

- ``assistant`` records are model calls: ``model`` and ``usageMetadata`` (the Gemini
  API's shape: ``promptTokenCount``, ``candidatesTokenCount``,
  ``cachedContentTokenCount``, ``thoughtsTokenCount``, ``totalTokenCount``); see
  :mod:`gemini_usage` for what each includes with each provider. An ``assistant``
  record without ``usageMetadata`` (an aborted stream, a ``realtime_message``) has
  nothing to count.
- ``user`` records without a ``subtype`` (and ``mid_turn_user_message`` ones) are what a
  person typed; notifications, cron prompts and goal runtime messages are not.
- ``system`` records with ``subtype: "ui_telemetry"`` repeat a call's usage for the UI's
  statistics: never counted (the ``assistant`` record is the call).
- Subagents' records carry ``isSidechain``, ``agentId`` and ``agentName``.

A resumed session appends to its own file (its id names the file), so nothing is
replayed. ``/branch`` copies a session's records into a new session with the same
``uuid`` (``forkedFrom.messageUuid``): every call is keyed by its ``uuid``, so a copy is
counted once. The project is the record's ``cwd``.

``TOKENBUDDY_QWEN_DIR`` (comma-separated) names Qwen homes (``~/.qwen``); else
``QWEN_RUNTIME_DIR`` (where Qwen Code then writes ``projects/``) and ``~/.qwen`` (and the
Windows side's under WSL). Qwen's own model ids (``coder-model``, ``qwen3-coder-plus``)
may have no list price: they stay unpriced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tokenbuddy.core.records import (
    QWEN_CODE,
    ParseStats,
    PromptMark,
    RateLimitSnapshot,
    SkipReason,
    UsageRecord,
)
from tokenbuddy.sources.gemini_usage import ABORTED_CALL, USAGE_FIELDS, model_id, token_counts
from tokenbuddy.sources.jsonl import load_line, parse_timestamp, split_lines
from tokenbuddy.sources.locations import LogDir, configured_dirs, home_dirs

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

ENV_VAR = "TOKENBUDDY_QWEN_DIR"
RUNTIME_VAR = "QWEN_RUNTIME_DIR"
PROJECTS_DIR = "projects"

NO_USAGE = "assistant record without usageMetadata"
TELEMETRY_REPEATS = "usage repeated in ui_telemetry records (not counted again)"
NO_RECORD_ID = "assistant record without a uuid"
KNOWN_TYPES = frozenset({"user", "assistant", "tool_result", "system"})
PROMPT_SUBTYPES = frozenset({None, "mid_turn_user_message"})
"""``user`` record subtypes a person typed."""
NOT_TYPED = frozenset({"system", "goal_runtime", "goal_control"})
"""Provenances of ``user`` records a program wrote."""
WANTED = (b'"usageMetadata"', b'"type":"user"', b'"type":"assistant"', b'"ui_telemetry"')
"""A line holding none of these is neither a call, a prompt nor telemetry: not parsed."""


def log_dirs(
    environ: Mapping[str, str], home: Path, platform: str, windows_users: Path
) -> list[LogDir]:
    """``projects/`` of every Qwen home: ``TOKENBUDDY_QWEN_DIR``, else ``QWEN_RUNTIME_DIR``
    and ``~/.qwen`` (and the Windows side's under WSL)."""
    configured = configured_dirs(environ, ENV_VAR)
    if configured is not None:
        return [LogDir(path / PROJECTS_DIR, ENV_VAR) for path in configured]
    runtime = configured_dirs(environ, RUNTIME_VAR) or []
    found = [LogDir(path / PROJECTS_DIR, RUNTIME_VAR) for path in runtime]
    defaults = home_dirs(environ, home, platform, windows_users, ".qwen")
    return found + [LogDir(entry.path / PROJECTS_DIR, entry.origin) for entry in defaults]


def open_session(path: str, state: dict[str, Any], stats: ParseStats) -> SessionParser:
    """A parser for a session file's new lines (nothing carries over between reads)."""
    return SessionParser(state, stats)


class SessionParser:
    """Turns a Qwen Code session's lines into usage records and prompt marks."""

    def __init__(self, state: dict[str, Any], stats: ParseStats) -> None:
        self.state = state
        self.stats = stats
        self.records: list[UsageRecord] = []
        self.prompts: list[PromptMark] = []
        self.rate_limits: list[RateLimitSnapshot] = []

    def feed_chunk(self, chunk: bytes) -> None:
        """Every line of a buffer of complete lines; only those that may matter are parsed."""
        for line in split_lines(chunk):
            self.stats.lines += 1
            raw = line.tobytes()
            if not any(marker in raw for marker in WANTED):
                continue
            record = load_line(raw, self.stats)
            if record is not None:
                self.feed(record)

    def finish(self, overlong_edges: Iterable[tuple[bytes, bytes]]) -> int:
        """Nothing is rescued from lines too long to read whole (a tool's output, not a
        call's usage). Returns 0."""
        return 0

    def feed(self, record: dict[str, Any]) -> None:
        """One parsed record."""
        kind = record.get("type")
        if not isinstance(kind, str) or kind not in KNOWN_TYPES:
            self.stats.skip(SkipReason.UNKNOWN_TYPE)
        elif kind == "assistant":
            self.call(record)
        elif kind == "user":
            self.prompt(record)
        elif kind == "system" and record.get("subtype") == "ui_telemetry":
            self.stats.note(TELEMETRY_REPEATS)

    def prompt(self, record: dict[str, Any]) -> None:
        """A prompt mark for what a person typed in a main session."""
        subtype, provenance = _name(record.get("subtype")), _name(record.get("provenance"))
        if subtype not in PROMPT_SUBTYPES or provenance in NOT_TYPED:
            return
        ts_ms = parse_timestamp(record.get("timestamp"))
        session_id = record.get("sessionId")
        if ts_ms is None or not isinstance(session_id, str) or record.get("isSidechain"):
            return
        self.prompts.append(PromptMark(QWEN_CODE, session_id, ts_ms))

    def call(self, record: dict[str, Any]) -> None:
        """One model call, when the record carries its usage."""
        usage = record.get("usageMetadata")
        if usage is None:
            self.stats.note(NO_USAGE)
            return
        if not isinstance(usage, dict):
            self.stats.skip(SkipReason.BAD_USAGE)
            return
        uuid = record.get("uuid")
        if not isinstance(uuid, str) or not uuid:
            self.stats.skip(NO_RECORD_ID)
            return
        built = self.usage_record(record, usage, uuid)
        if built is not None:
            self.records.append(built)
            self.stats.records += 1

    def usage_record(
        self, record: dict[str, Any], usage: dict[str, Any], uuid: str
    ) -> UsageRecord | None:
        raw = tuple(usage.get(field) for field in USAGE_FIELDS)
        counts = token_counts(raw, thoughts_apart=False)
        ts_ms = parse_timestamp(record.get("timestamp"))
        model = model_id(record.get("model"))
        if counts is None:
            self.stats.skip(SkipReason.BAD_USAGE)
        elif ts_ms is None:
            self.stats.skip(SkipReason.NO_TIMESTAMP)
        elif not model:
            self.stats.skip(SkipReason.NO_MODEL)
        elif counts.is_empty:
            self.stats.skip(ABORTED_CALL)
        else:
            return UsageRecord(
                f"qw:{uuid}", QWEN_CODE, ts_ms, _text(record.get("sessionId")),
                _text(record.get("cwd")), model, counts.input_tokens, counts.output_tokens,
                0, 0, counts.cache_read_tokens, counts.reasoning_tokens, 0, "", "",
                bool(record.get("isSidechain") or record.get("agentId")),
                _text(record.get("agentId")), _text(record.get("agentName")),
            )  # fmt: skip
        return None


def _name(value: Any) -> str | None:
    """A subtype or provenance as written: a string, None when absent, "" when it is
    something else (which names nothing this reader knows)."""
    return value if value is None or isinstance(value, str) else ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
