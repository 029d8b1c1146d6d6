"""Gemini CLI chats: ``~/.gemini/tmp/<project>/chats/session-*.json`` and ``session-*.jsonl``.

Gemini CLI records every conversation (``packages/core/src/services/chatRecordingService.ts``
and ``chatRecordingTypes.ts`` in google-gemini/gemini-cli) under its project's temp dir,
``tmp/<project>``, where ``<project>`` is the SHA-256 of the project root (before 0.2x)
or a short slug from ``~/.gemini/projects.json`` (``config/projectRegistry.ts``); the
slug dir holds the root in ``.project_root``. Two shapes, both read here:

- ``session-<time>-<id8>.json``: one ``ConversationRecord`` ``{sessionId, projectHash,
  startTime, lastUpdated, messages[]}``, rewritten whole on every message (earlier
  versions). Read whole each time it changes.
- ``session-<time>-<id8>.jsonl`` (current versions): a first line of metadata
  ``{sessionId, projectHash, startTime, lastUpdated, kind}``, then each message as it is
  recorded, *appended again* whenever it changes (its tokens arrive, a tool call
  completes), ``{"$set": {...}}`` metadata updates (whose ``messages`` repeat the whole
  conversation) and ``{"$rewindTo": id}`` marks. Read incrementally from the last
  complete line (``state["offset"]``); a message's copies keep their largest counts.

Subagents write ``chats/<parent session id>/<subagent session id>.jsonl`` (``kind:
"subagent"``): their calls are sidechains of the parent session.

Resuming a ``.json`` session migrates it whole into ``<same name>.jsonl`` with the same
``sessionId`` and message ids, and upgrading from hash dirs to slug dirs copies the dirs
(``config/storageMigration.ts``): every call is keyed by ``sessionId`` and message
``id``, so a call seen in several files counts once. ``/chat save`` checkpoints
(``tmp/<project>/checkpoint-*.json``) hold API history without ids or usage and are not
read; a rewound call stays counted (it was billed).

A ``gemini`` message carries ``model`` and ``tokens {input, output, cached, thoughts,
tool, total}`` copied from the API's usage metadata (see :mod:`gemini_usage` for what
each includes). ``recordMessageTokens`` queues a call's tokens until the next ``gemini``
message is recorded, and a synthetic message (``recordSyntheticMessage``) takes them with
no ``model``: such a call is priced at the model the chat's previous ``gemini`` message
named. Every message has an ``id`` (``newMessage``); one without is a counted skip.
``user`` messages are prompts a person typed (in main sessions);
``info``, ``error`` and ``warning`` messages carry nothing to count. The project is the
root the slug's ``.project_root`` or ``projects.json`` names (a hash dir is matched
against the SHA-256 of the roots ``projects.json`` lists); "" when neither knows it.

``TOKENBUDDY_GEMINI_DIR`` (comma-separated) names Gemini homes (``~/.gemini``); else
``$GEMINI_CLI_HOME/.gemini`` (Gemini CLI's own override of the home directory); else
``~/.gemini`` (and the Windows side's under WSL).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from tokenbuddy.core.records import GEMINI_CLI, ParseStats, PromptMark, SkipReason, UsageRecord
from tokenbuddy.sources.documents import DocumentRead
from tokenbuddy.sources.gemini_usage import ABORTED_CALL, model_id, token_counts
from tokenbuddy.sources.jsonl import load_line, parse_timestamp, split_lines
from tokenbuddy.sources.locations import LogDir, configured_dirs, home_dirs

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

ENV_VAR = "TOKENBUDDY_GEMINI_DIR"
AGENT_HOME_VAR = "GEMINI_CLI_HOME"
TMP_DIR = "tmp"
HOME_DIRS: tuple[str, ...] = (TMP_DIR,)
"""The directory of a Gemini home that holds the chats."""
CHATS_DIR = "chats"
SUFFIXES: tuple[str, ...] = (".json", ".jsonl")
TOKEN_FIELDS = ("input", "output", "cached", "thoughts", "tool", "total")
"""``tokens``' counts, in the order of :data:`gemini_usage.USAGE_FIELDS` they copy."""
SUBAGENT = "subagent"

NOT_A_CONVERSATION = "not a Gemini CLI conversation"
NO_TOKENS = "gemini message without token counts (yet)"
NO_MESSAGE_ID = "message without an id"
MODEL_CARRIED = "gemini message naming no model (the chat's previous model used)"
NO_MODEL = "gemini message naming no model, nor any before it (unpriced)"
REPEATED_MESSAGES = "messages repeated in a metadata update (not counted again)"
KNOWN_TYPES = frozenset({"user", "gemini", "info", "error", "warning"})


def log_dirs(
    environ: Mapping[str, str], home: Path, platform: str, windows_users: Path
) -> list[LogDir]:
    """``tmp/`` of every Gemini home: ``TOKENBUDDY_GEMINI_DIR``, else ``GEMINI_CLI_HOME``'s
    ``.gemini``, else ``~/.gemini`` (and the Windows side's under WSL)."""
    configured = configured_dirs(environ, ENV_VAR)
    if configured is not None:
        return [LogDir(path / TMP_DIR, ENV_VAR) for path in configured]
    agent_home = configured_dirs(environ, AGENT_HOME_VAR)
    if agent_home is not None:
        return [LogDir(path / ".gemini" / TMP_DIR, AGENT_HOME_VAR) for path in agent_home]
    found = home_dirs(environ, home, platform, windows_users, ".gemini")
    return [LogDir(entry.path / TMP_DIR, entry.origin) for entry in found]


def find(root: Path, errors: list[str]) -> list[str]:
    """Every chat under ``tmp/<project>/chats/`` (subagents' one level down), sorted."""
    found: list[str] = []
    for project in _subdirs(root, errors):
        chats = os.path.join(project, CHATS_DIR)
        if not os.path.isdir(chats):
            continue
        for entry in _entries(chats, errors):
            if entry.is_dir(follow_symlinks=False):
                found.extend(e.path for e in _entries(entry.path, errors) if _is_jsonl(e))
            elif entry.name.endswith(SUFFIXES):
                found.append(entry.path)
    return sorted(found)


def _subdirs(path: Path | str, errors: list[str]) -> list[str]:
    return [e.path for e in _entries(path, errors) if e.is_dir(follow_symlinks=False)]


def _entries(path: Path | str, errors: list[str]) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as scan:
            return list(scan)
    except OSError as error:
        errors.append(f"cannot read {path}: {error.strerror}")
        return []


def _is_jsonl(entry: os.DirEntry[str]) -> bool:
    return entry.name.endswith(".jsonl") and entry.is_file(follow_symlinks=False)


class ChatFile(NamedTuple):
    """Where a chat file sits, and what that says about its calls."""

    project_dir: Path
    """``tmp/<project>``."""
    parent_session: str
    """For a subagent's chat, the session it works for (its directory's name); else ""."""


def chat_file(path: str) -> ChatFile | None:
    """Where a chat file sits; None for any other file under a Gemini ``tmp/`` (logs,
    checkpoints, shell history) that the live watcher may hand over."""
    file = Path(path)
    if not file.name.endswith(SUFFIXES):
        return None
    if file.parent.name == CHATS_DIR:
        return ChatFile(file.parent.parent, "")
    if file.parent.parent.name == CHATS_DIR and file.name.endswith(".jsonl"):
        return ChatFile(file.parent.parent.parent, file.parent.name)
    return None


def claims(path: str) -> bool:
    """Whether a written file is a chat (not a log, checkpoint or shell history)."""
    return chat_file(path) is not None


def read(path: str, state: dict[str, Any], stats: ParseStats) -> DocumentRead:
    """One chat: a ``.json`` whole, a ``.jsonl`` from where the last read stopped."""
    where = chat_file(path)
    if where is None:
        return DocumentRead([], [], state)
    chat = ChatReader(where, stats)
    if path.endswith(".jsonl"):
        return chat.read_jsonl(path, state)
    return chat.read_json(path, state)


class ChatReader:
    """Turns one chat's messages into usage records and prompt marks."""

    def __init__(self, where: ChatFile, stats: ParseStats) -> None:
        self.where = where
        self.stats = stats
        self.project = project_root(where.project_dir)
        self.session_id = ""
        self.subagent = bool(where.parent_session)
        self.model = ""
        """The model the chat's latest ``gemini`` message named: a message recorded with
        no model (a synthetic one that took queued tokens) ran on it."""
        self.calls: dict[str, UsageRecord] = {}
        self.prompts: dict[tuple[str, int], PromptMark] = {}

    def result(self, state: dict[str, Any], whole: bool) -> DocumentRead:
        """What the read found, each call once (its largest copy)."""
        return DocumentRead(list(self.calls.values()), list(self.prompts.values()), state, whole)

    def read_json(self, path: str, state: dict[str, Any]) -> DocumentRead:
        """A whole ``ConversationRecord``; a half-written one is a counted skip."""
        with open(path, "rb") as handle:
            data = handle.read()
        try:
            conversation = orjson.loads(data)
        except orjson.JSONDecodeError:
            self.stats.lines += 1
            self.stats.skip(SkipReason.INVALID_JSON)
            return DocumentRead([], [], state)
        messages = conversation.get("messages") if isinstance(conversation, dict) else None
        if not isinstance(messages, list):
            self.stats.lines += 1
            self.stats.skip(NOT_A_CONVERSATION)
            return DocumentRead([], [], state)
        self.metadata(conversation)
        self.session_id = self.session_id or Path(path).stem
        for message in messages:
            self.stats.lines += 1
            self.message(message)
        return self.result({}, True)

    def read_jsonl(self, path: str, state: dict[str, Any]) -> DocumentRead:
        """The complete lines appended since ``state["offset"]`` (all of them when the
        file is new or shrank); a line still being written waits for the next read."""
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            offset = state.get("offset", 0)
            if not isinstance(offset, int) or not 0 <= offset <= size:
                offset = 0
            handle.seek(offset)
            data = handle.read(size - offset)
        end = data.rfind(b"\n") + 1
        carried = state if offset else {}
        self.session_id = str(carried.get("session_id", "")) or Path(path).stem
        self.model = str(carried.get("model", ""))
        self.subagent = self.subagent or carried.get("kind") == SUBAGENT
        for line in split_lines(data[:end]):
            self.stats.lines += 1
            record = load_line(line.tobytes(), self.stats)
            if record is not None:
                self.line(record)
        kind = SUBAGENT if self.subagent else ""
        new_state = {"offset": offset + end, "session_id": self.session_id, "kind": kind,
                     "model": self.model}  # fmt: skip
        return self.result(new_state, offset == 0)

    def line(self, record: dict[str, Any]) -> None:
        """One line of a ``.jsonl`` chat: a message, metadata, an update, or a rewind."""
        if isinstance(record.get("id"), str):
            self.message(record)
        elif isinstance(record.get("$set"), dict):
            update = record["$set"]
            if "messages" in update:
                self.stats.note(REPEATED_MESSAGES)
            self.metadata(update)
        elif isinstance(record.get("sessionId"), str) or "$rewindTo" in record:
            self.metadata(record)
        else:
            self.stats.skip(SkipReason.UNKNOWN_TYPE)

    def metadata(self, record: dict[str, Any]) -> None:
        """Session id and kind from the metadata line, an update, or a whole record."""
        session_id = record.get("sessionId")
        if isinstance(session_id, str) and session_id:
            self.session_id = session_id
        if record.get("kind") == SUBAGENT:
            self.subagent = True

    def message(self, message: Any) -> None:
        """A ``gemini`` message's call, a ``user`` message's prompt; others carry neither."""
        kind = message.get("type") if isinstance(message, dict) else None
        if not isinstance(kind, str) or kind not in KNOWN_TYPES:
            self.stats.skip(SkipReason.UNKNOWN_TYPE)
            return
        if not isinstance(message.get("id"), str) or not message["id"]:
            self.stats.skip(NO_MESSAGE_ID)
            return
        if kind == "user":
            self.prompt(message)
        elif kind == "gemini":
            self.call(message)

    def prompt(self, message: dict[str, Any]) -> None:
        ts_ms = parse_timestamp(message.get("timestamp"))
        if ts_ms is not None and not self.subagent:
            self.prompts[(self.session_id, ts_ms)] = PromptMark(GEMINI_CLI, self.session_id, ts_ms)

    def call(self, message: dict[str, Any]) -> None:
        """One model call, when its tokens are known; copies keep the largest."""
        named = model_id(message.get("model"))
        model = named or self.model
        self.model = model
        tokens = message.get("tokens")
        if tokens is None:
            self.stats.note(NO_TOKENS)
            return
        if not named:
            self.stats.note(MODEL_CARRIED if model else NO_MODEL)
        record = self.usage(message, tokens, model)
        if record is None:
            return
        known = self.calls.get(record.dedup_key)
        if known is None or record.total_tokens >= known.total_tokens:
            self.calls[record.dedup_key] = record

    def usage(self, message: dict[str, Any], tokens: Any, model: str) -> UsageRecord | None:
        if not isinstance(tokens, dict):
            self.stats.skip(SkipReason.BAD_USAGE)
            return None
        raw = tuple(tokens.get(field) for field in TOKEN_FIELDS)
        counts = token_counts(raw, thoughts_apart=True)
        ts_ms = parse_timestamp(message.get("timestamp"))
        reason = _skip_reason(counts is None, ts_ms is None)
        if reason or counts is None or ts_ms is None:
            self.stats.skip(reason or SkipReason.BAD_USAGE)
            return None
        if counts.is_empty:
            self.stats.skip(ABORTED_CALL)
            return None
        session = self.where.parent_session or self.session_id
        agent_id = self.session_id if self.subagent else ""
        return UsageRecord(
            f"gm:{self.session_id}:{message['id']}", GEMINI_CLI, ts_ms, session, self.project,
            model, counts.input_tokens, counts.output_tokens, 0, 0, counts.cache_read_tokens,
            counts.reasoning_tokens, 0, "", "", self.subagent, agent_id,
            SUBAGENT if self.subagent else "",
        )  # fmt: skip


def _skip_reason(bad_usage: bool, no_timestamp: bool) -> str:
    if bad_usage:
        return SkipReason.BAD_USAGE
    return SkipReason.NO_TIMESTAMP if no_timestamp else ""


PROJECT_ROOT_FILE = ".project_root"
REGISTRY_FILE = "projects.json"
_registry_cache: dict[str, tuple[int, dict[str, str]]] = {}


def project_root(project_dir: Path) -> str:
    """The project a ``tmp/<project>`` dir stands for: its ``.project_root``, else the
    root ``projects.json`` gives its slug or hash; "" when neither knows it."""
    try:
        with open(project_dir / PROJECT_ROOT_FILE, encoding="utf-8") as handle:
            named = handle.read().strip()
    except (OSError, UnicodeDecodeError):
        named = ""
    if named:
        return named
    return registered_roots(project_dir.parent.parent / REGISTRY_FILE).get(project_dir.name, "")


def registered_roots(registry: Path) -> dict[str, str]:
    """``{slug or SHA-256 of the root: root}`` from a ``projects.json``; re-read only when
    it changes."""
    try:
        mtime_ns = os.stat(registry).st_mtime_ns
    except OSError:
        return {}
    cached = _registry_cache.get(str(registry))
    if cached is not None and cached[0] == mtime_ns:
        return cached[1]
    roots = _parse_registry(registry)
    _registry_cache[str(registry)] = (mtime_ns, roots)
    return roots


def _parse_registry(registry: Path) -> dict[str, str]:
    try:
        projects = orjson.loads(registry.read_bytes()).get("projects")
    except (OSError, orjson.JSONDecodeError, AttributeError):
        return {}
    if not isinstance(projects, dict):
        return {}
    roots: dict[str, str] = {}
    for root, slug in _string_pairs(projects.items()):
        roots[slug] = root
        roots[hashlib.sha256(root.encode()).hexdigest()] = root
    return roots


def _string_pairs(items: Iterable[tuple[Any, Any]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in items if isinstance(k, str) and isinstance(v, str)]
