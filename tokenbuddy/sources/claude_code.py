"""Claude Code transcripts: ``<config dir>/projects/**/*.jsonl``.

Only ``assistant`` records carry usage, plus the ``progress`` records of
Claude Code 2.1.8x that embed a subagent's assistant message. One API
response is written as several lines (one per content block, early ones with
partial output counts), and side files replay the parent conversation, so
each record carries a dedup key and the ledger keeps the largest copy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson

from tokenbuddy.core.records import CLAUDE_CODE, ParseStats, PromptMark, SkipReason, UsageRecord
from tokenbuddy.sources.jsonl import parse_in_full, parse_timestamp, split_lines

USAGE_NEEDLE = b'"usage"'
KNOWN_TYPES = frozenset(
    {
        "assistant",
        "user",
        "attachment",
        "file-history-snapshot",
        "queue-operation",
        "system",
        "last-prompt",
        "progress",
        "permission-mode",
        "pr-link",
        "custom-title",
        "agent-name",
        "summary",
    }
)
"""Record types Claude Code writes; only assistant and progress records carry usage.

The format changes with every release and new types are normal: a record of another
type is skipped, and counted (``unknown record type``) only when it carries usage the
way assistant records do, in ``message.usage``: usage that would otherwise go unseen."""
USAGE_TYPES = frozenset({"assistant", "progress"})
_SIDE_FILE_TYPES = {"aside_question": "aside_question", "acompact": "compact"}


@dataclass(frozen=True, slots=True)
class FileContext:
    """What a transcript's path says about the records inside it."""

    session_id: str
    """Fallback session id: the file name (or, for subagent files, the parent dir)."""
    project: str
    """Fallback project: the lossy dir slug, used only when a record lacks ``cwd``."""
    agent_id: str = ""
    agent_type: str = ""


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


def parse_chunk(
    chunk: bytes,
    context: FileContext,
    stats: ParseStats,
    prompts: list[PromptMark] | None = None,
) -> list[UsageRecord]:
    """Every usage record in a buffer of complete lines; human prompts go to ``prompts``.

    Every line is parsed, into typed structs that declare only the fields records
    and prompts need: the rest of each line (message text, tool inputs and
    results, most of the bytes) is skipped at C speed, without building a Python
    object for it. The whole buffer is decoded in one call; when that fails (a
    malformed line anywhere in it, a field of an unexpected type), it is read line
    by line instead, and a line that does not fit the structs goes through
    ``load_line`` and the dict-based functions below, which count why it is skipped.

    What is not read is not checked: invalid UTF-8 or a number out of range inside
    skipped text does not lose the record (a full parse would repair or reject the
    line). Read whole, two records written on one line without a newline between
    them both count, as two lines.
    """
    try:
        values = _decode_lines(chunk)
        whole = ParseStats()
        found: list[PromptMark] = []
        records = _from_values(values, context, whole, found)
    except (msgspec.MsgspecError, RecursionError, _Unreadable):
        return _parse_lines(chunk, context, stats, prompts)
    stats.merge(whole)
    if prompts is not None:
        prompts += found
    return records


def _from_values(
    values: list[_Line], context: FileContext, stats: ParseStats, prompts: list[PromptMark]
) -> list[UsageRecord]:
    """Records and prompts from decoded lines; raises :class:`_Unreadable` when a part
    read only now (a prompt's content) does not decode."""
    records = []
    for value in values:
        record = _judge(value, context, stats, prompts)
        if record is not None:
            records.append(record)
    stats.lines += len(values)
    stats.records += len(records)
    return records


def _judge(
    value: _Line, context: FileContext, stats: ParseStats, prompts: list[PromptMark] | None
) -> UsageRecord | None:
    """The record one decoded line carries; its prompt, if it is one, goes to ``prompts``."""
    kind = value.type
    if kind in USAGE_TYPES:
        return _record_from_value(value, context, stats)
    if kind == "user":
        if prompts is not None:
            prompt = _prompt_from_value(value, context)
            if prompt is not None:
                prompts.append(prompt)
    elif kind not in KNOWN_TYPES and isinstance(value.message, _Message) and value.message.usage:
        stats.skip(SkipReason.UNKNOWN_TYPE)  # usage where assistant records carry it
    return None


def _parse_lines(
    chunk: bytes,
    context: FileContext,
    stats: ParseStats,
    prompts: list[PromptMark] | None,
) -> list[UsageRecord]:
    """:func:`parse_chunk` line by line, for a buffer that does not decode whole."""
    records = []
    for line in split_lines(chunk):
        record = _parse_line(line, context, stats, prompts)
        if record is not None:
            records.append(record)
    stats.records += len(records)
    return records


def _parse_line(
    line: memoryview, context: FileContext, stats: ParseStats, prompts: list[PromptMark] | None
) -> UsageRecord | None:
    """One non-empty line: as structs, else through the dict-based functions."""
    try:
        value = _decode_line(line)
    except (msgspec.MsgspecError, RecursionError):
        value = None
    if value is not None:
        found: list[PromptMark] = []
        try:
            record = _judge(value, context, stats, found)
        except _Unreadable:
            pass
        else:
            stats.lines += 1
            if prompts is not None:
                prompts += found
            return record
    obj = parse_in_full(line, stats)
    if obj is None:
        return None
    record = record_from(obj, context, stats)
    if record is None and prompts is not None:
        prompt = prompt_from(obj, context)
        if prompt is not None:
            prompts.append(prompt)
    return record


# -- the typed structs -------------------------------------------------------------------
#
# Building a dict of every key of a line (its content blocks, tool inputs and text
# included) costs more than everything else done with it. These structs declare
# only what records and prompts need; msgspec skips everything else. Field names
# are the JSON keys, camelCase included. A field of another type than declared
# fails the decode, and the line is then judged by the dict-based functions below,
# which are the reference: the struct-based ones must decide exactly as they do
# (tests/sources/test_claude_fast_path.py checks field by field).


class _CacheCreation(msgspec.Struct):
    ephemeral_5m_input_tokens: int | None = None
    ephemeral_1h_input_tokens: int | None = None


class _ServerToolUse(msgspec.Struct):
    web_search_requests: int | None = None


class _Usage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: _CacheCreation | None = None
    server_tool_use: _ServerToolUse | None = None
    speed: str | None = None
    inference_geo: str | None = None


class _Message(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    usage: _Usage | None = None
    content: msgspec.Raw = msgspec.Raw(b"")
    """Kept unparsed (a view of the line, no copy): only a possible prompt's is read."""


class _Progress(msgspec.Struct):
    message: _Line | str | None = None
    """A nested record (agent progress); other kinds of progress may carry text."""
    agentId: str | None = None


class _Line(msgspec.Struct):
    type: str | None = None
    message: _Message | str | None = None
    timestamp: str | None = None
    requestId: str | None = None
    sessionId: str | None = None
    cwd: str | None = None
    agentId: str | None = None
    uuid: str | None = None
    isSidechain: bool | None = None
    isApiErrorMessage: bool | None = None
    isMeta: bool | None = None
    isCompactSummary: bool | None = None
    entrypoint: str | None = None
    toolUseResult: msgspec.Raw = msgspec.Raw(b"")
    """Only whether it is there matters (a tool result): kept as raw bytes, unparsed."""
    data: _Progress | None = None


_decode_lines = msgspec.json.Decoder(_Line).decode_lines
_decode_line = msgspec.json.Decoder(_Line).decode
_INT_LIMIT = 1 << 63
"""Counts must fit SQLite's integers; a larger one is bad usage."""


class _Unreadable(Exception):
    """A part of a decoded line read only later (a prompt's content) does not decode."""


def _record_from_value(value: _Line, context: FileContext, stats: ParseStats) -> UsageRecord | None:
    """:func:`record_from` for an assistant or progress line decoded into structs."""
    if value.type == "assistant":
        return _assistant_from_value(value, value, context, stats, bool(value.isSidechain))
    data = value.data
    inner = None if data is None else data.message
    if data is None or not isinstance(inner, _Line) or inner.type != "assistant":
        return None
    sub = FileContext(context.session_id, context.project, data.agentId or "", "subagent")
    return _assistant_from_value(inner, value, sub, stats, True)


def _assistant_from_value(
    record: _Line, envelope: _Line, context: FileContext, stats: ParseStats, sidechain: bool
) -> UsageRecord | None:
    """:func:`_assistant_record` on structs."""
    message = record.message
    usage = message.usage if isinstance(message, _Message) else None
    if not isinstance(message, _Message) or usage is None:
        return None
    model = message.model
    ts_ms = parse_timestamp(record.timestamp or envelope.timestamp)
    input_tokens = usage.input_tokens or 0
    output_tokens = usage.output_tokens or 0
    cache_write = usage.cache_creation_input_tokens or 0
    cache_read = usage.cache_read_input_tokens or 0
    if (
        ts_ms is None
        or not 0 <= (input_tokens | output_tokens | cache_write | cache_read) < _INT_LIMIT
        or not model
        or model == "<synthetic>"
        or record.isApiErrorMessage
        or envelope.isApiErrorMessage
    ):
        stats.skip(_value_skip_reason(model, record, envelope, ts_ms))
        return None
    write_5m, write_1h = cache_write, 0
    breakdown = usage.cache_creation
    if breakdown is not None:
        split_5m = breakdown.ephemeral_5m_input_tokens or 0
        split_1h = breakdown.ephemeral_1h_input_tokens or 0
        if 0 <= (split_5m | split_1h) < _INT_LIMIT:
            unexplained = cache_write - split_5m - split_1h
            write_5m, write_1h = split_5m + (unexplained if unexplained > 0 else 0), split_1h
    tools = usage.server_tool_use
    searches = (tools.web_search_requests or 0) if tools is not None else 0
    session_id = envelope.sessionId or context.session_id
    return _new_record(
        UsageRecord,
        (
            _value_dedup_key(message, record, envelope, session_id),
            CLAUDE_CODE,
            ts_ms,
            session_id,
            envelope.cwd or context.project,
            model,
            input_tokens,
            output_tokens,
            write_5m,
            write_1h,
            cache_read,
            0,
            searches if 0 < searches < _INT_LIMIT else 0,
            "fast" if usage.speed == "fast" else "",
            "us" if usage.inference_geo == "us" else "",
            sidechain or bool(context.agent_id),
            envelope.agentId or context.agent_id,
            context.agent_type or ("subagent" if sidechain else ""),
        ),
    )


def _value_skip_reason(model: str | None, record: _Line, envelope: _Line, ts_ms: int | None) -> str:
    """:func:`_skip_reason` on structs."""
    if model == "<synthetic>":
        return SkipReason.SYNTHETIC
    if record.isApiErrorMessage or envelope.isApiErrorMessage:
        return SkipReason.API_ERROR
    if not model:
        return SkipReason.NO_MODEL
    if ts_ms is None:
        return SkipReason.NO_TIMESTAMP
    return SkipReason.BAD_USAGE


def _value_dedup_key(message: _Message, record: _Line, envelope: _Line, session_id: str) -> str:
    """:func:`_dedup_key` on structs."""
    if message.id:
        if record.requestId:
            return f"c:{message.id}:{record.requestId}"
        return f"c:s:{session_id}:{message.id}"
    uuid = record.uuid or envelope.uuid
    return f"c:u:{uuid}" if uuid else f"c:x:{session_id}:{record.timestamp}"


def _prompt_from_value(value: _Line, context: FileContext) -> PromptMark | None:
    """:func:`prompt_from` for a line decoded into structs."""
    if (
        value.type != "user"
        or value.isSidechain
        or value.isMeta
        or value.isCompactSummary
        or context.agent_id
        or len(value.toolUseResult)
        or (value.entrypoint or "").startswith("sdk")
    ):
        return None
    raw = value.message.content if isinstance(value.message, _Message) else None
    try:
        content = msgspec.json.decode(raw) if raw else None
    except (msgspec.MsgspecError, RecursionError) as error:  # invalid UTF-8, say
        raise _Unreadable from error
    if not _written_by_a_person(content):
        return None
    ts_ms = parse_timestamp(value.timestamp)
    if ts_ms is None:
        return None
    return PromptMark(CLAUDE_CODE, value.sessionId or context.session_id, ts_ms)


def recover_overlong(
    head: bytes, tail: bytes, context: FileContext, stats: ParseStats
) -> UsageRecord | None:
    """The usage record of an assistant line too long to read whole, from its two ends.

    Claude Code writes ``message`` with its id and model before the content and
    ``usage``, ``requestId`` and ``timestamp`` after it; the content (a huge tool
    result or text) is replaced by an empty list. None unless that parses into a
    record: the line then stays counted as skipped.
    """
    start = head.find(b'"content":')
    end = tail.rfind(b'"stop_reason"')
    if start < 0 or end < 0 or USAGE_NEEDLE not in tail[end:]:
        return None
    try:
        obj = orjson.loads(head[:start] + b'"content":[],' + tail[end:])
    except orjson.JSONDecodeError:
        return None
    return record_from(obj, context, stats) if isinstance(obj, dict) else None


def prompt_from(obj: dict[str, Any], context: FileContext) -> PromptMark | None:
    """The human prompt a ``user`` record is, or None for tool results, injected text and
    other record types.

    Subagent prompts (written by the parent agent), meta records (command
    caveats, reminders), compaction summaries and prompts sent through the SDK or
    ``claude -p`` (entrypoint ``sdk-*``) are not a human at the keyboard.
    """
    if obj.get("type") != "user" or not _typed_by_a_person(obj, context):
        return None
    ts_ms = parse_timestamp(obj.get("timestamp"))
    if ts_ms is None:
        return None
    session_id = obj.get("sessionId")
    if type(session_id) is not str or not session_id:
        session_id = context.session_id
    return PromptMark(CLAUDE_CODE, session_id, ts_ms)


def _typed_by_a_person(obj: dict[str, Any], context: FileContext) -> bool:
    if obj.get("isSidechain") or obj.get("isMeta") or obj.get("isCompactSummary"):
        return False
    if context.agent_id or "toolUseResult" in obj:
        return False
    entrypoint = obj.get("entrypoint")
    if isinstance(entrypoint, str) and entrypoint.startswith("sdk"):
        return False  # claude -p and SDK programs: a script, not a person, wrote it
    message = obj.get("message")
    return _written_by_a_person(message.get("content") if isinstance(message, dict) else None)


def _written_by_a_person(content: Any) -> bool:
    """Whether a user message's content is typed text (or an image), not tool results."""
    if isinstance(content, list):
        kinds = {
            kind
            for block in content
            if isinstance(block, dict) and isinstance(kind := block.get("type"), str)
        }
        return "tool_result" not in kinds and bool(kinds & {"text", "image"})
    return isinstance(content, str)


def record_from(obj: dict[str, Any], context: FileContext, stats: ParseStats) -> UsageRecord | None:
    """The usage record one parsed line carries, or None (counting why, if it matters)."""
    kind = obj.get("type")
    if kind == "assistant":
        return _assistant_record(obj, obj, context, stats, sidechain=bool(obj.get("isSidechain")))
    if kind == "progress":
        data = obj.get("data")
        inner = data.get("message") if isinstance(data, dict) else None
        if isinstance(inner, dict) and inner.get("type") == "assistant":
            agent_id = data.get("agentId") if isinstance(data, dict) else None
            sub = FileContext(context.session_id, context.project, str(agent_id or ""), "subagent")
            return _assistant_record(inner, obj, sub, stats, sidechain=True)
        return None
    if (type(kind) is not str or kind not in KNOWN_TYPES) and _carries_usage(obj):
        stats.skip(SkipReason.UNKNOWN_TYPE)  # (a list or dict type is unhashable: checked first)
    return None


def _carries_usage(obj: dict[str, Any]) -> bool:
    """Whether a record has usage where assistant records carry it (``message.usage``)."""
    message = obj.get("message")
    return isinstance(message, dict) and isinstance(message.get("usage"), dict)


def _assistant_record(
    record: dict[str, Any],
    envelope: dict[str, Any],
    context: FileContext,
    stats: ParseStats,
    *,
    sidechain: bool,
) -> UsageRecord | None:
    message = record.get("message")
    if type(message) is not dict:
        return None
    usage = message.get("usage")
    if type(usage) is not dict:
        return None
    model = message.get("model")
    ts_ms = parse_timestamp(record.get("timestamp") or envelope.get("timestamp"))
    tokens = _tokens(usage)
    if (
        ts_ms is None
        or tokens is None
        or type(model) is not str
        or not model
        or model == "<synthetic>"
        or record.get("isApiErrorMessage")
        or envelope.get("isApiErrorMessage")
    ):
        stats.skip(_skip_reason(model, record, envelope, ts_ms, tokens))
        return None
    session_id = envelope.get("sessionId")
    if type(session_id) is not str or not session_id:
        session_id = context.session_id
    project = envelope.get("cwd")
    agent_id = envelope.get("agentId")
    return _new_record(
        UsageRecord,
        (
            _dedup_key(message, record, envelope, session_id),
            CLAUDE_CODE,
            ts_ms,
            session_id,
            project if type(project) is str and project else context.project,
            model,
            *tokens,
            "fast" if usage.get("speed") == "fast" else "",
            "us" if usage.get("inference_geo") == "us" else "",
            sidechain or bool(context.agent_id),
            agent_id if type(agent_id) is str and agent_id else context.agent_id,
            context.agent_type or ("subagent" if sidechain else ""),
        ),
    )


_new_record = tuple.__new__
"""Builds a :class:`UsageRecord` from a tuple of its fields in one C call: the
NamedTuple constructor is a Python function, a measurable cost once per request."""


def _skip_reason(
    model: Any, record: dict[str, Any], envelope: dict[str, Any], ts_ms: int | None, tokens: Any
) -> str:
    """Why an assistant record with usage is not counted."""
    if model == "<synthetic>":
        return SkipReason.SYNTHETIC
    if record.get("isApiErrorMessage") or envelope.get("isApiErrorMessage"):
        return SkipReason.API_ERROR
    if not isinstance(model, str) or not model:
        return SkipReason.NO_MODEL
    if ts_ms is None:
        return SkipReason.NO_TIMESTAMP
    return SkipReason.BAD_USAGE


def _dedup_key(
    message: dict[str, Any], record: dict[str, Any], envelope: dict[str, Any], session_id: str
) -> str:
    """(message.id, requestId), else (sessionId, message.id), else the line's uuid."""
    message_id = message.get("id")
    request_id = record.get("requestId")
    if type(message_id) is str and message_id:
        if type(request_id) is str and request_id:
            return f"c:{message_id}:{request_id}"
        return f"c:s:{session_id}:{message_id}"
    uuid = _text(record.get("uuid")) or _text(envelope.get("uuid"))
    return f"c:u:{uuid}" if uuid else f"c:x:{session_id}:{record.get('timestamp')}"


def _tokens(usage: dict[str, Any]) -> tuple[int, int, int, int, int, int, int] | None:
    """(input, output, cache 5m, cache 1h, cache read, reasoning, web searches) or None.

    On the hot path: one call per usage line, so plain ``type() is int`` checks and
    a bitwise OR for "none negative" rather than helper calls.
    """
    get = usage.get
    input_tokens = get("input_tokens") or 0
    output_tokens = get("output_tokens") or 0
    cache_write = get("cache_creation_input_tokens") or 0
    cache_read = get("cache_read_input_tokens") or 0
    if not (
        type(input_tokens) is int
        and type(output_tokens) is int
        and type(cache_write) is int
        and type(cache_read) is int
        and 0 <= (input_tokens | output_tokens | cache_write | cache_read) < _INT_LIMIT
    ):
        return None
    write_5m, write_1h = _cache_split(get("cache_creation"), cache_write)
    server_tools = get("server_tool_use")
    searches = server_tools.get("web_search_requests") if type(server_tools) is dict else 0
    return (
        input_tokens,
        output_tokens,
        write_5m,
        write_1h,
        cache_read,
        0,
        searches if type(searches) is int and 0 < searches < _INT_LIMIT else 0,
    )


def _cache_split(breakdown: Any, cache_write: int) -> tuple[int, int]:
    """(5-minute, 1-hour) cache writes; writes the breakdown does not explain count as 5m."""
    if type(breakdown) is not dict:
        return cache_write, 0
    write_5m = breakdown.get("ephemeral_5m_input_tokens") or 0
    write_1h = breakdown.get("ephemeral_1h_input_tokens") or 0
    if (
        type(write_5m) is not int
        or type(write_1h) is not int
        or not 0 <= (write_5m | write_1h) < _INT_LIMIT
    ):
        return cache_write, 0
    unexplained = cache_write - write_5m - write_1h
    return write_5m + (unexplained if unexplained > 0 else 0), write_1h


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
