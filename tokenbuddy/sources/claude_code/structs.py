"""Claude Code lines decoded into typed structs: the fast path.

Building a dict of every key of a line (its content blocks, tool inputs and text
included) costs more than everything else done with it. These structs declare
only what records and prompts need; msgspec skips everything else. Field names
are the JSON keys, camelCase included. A field of another type than declared
fails the decode, and the line is then judged by the dict-based ``reference``
functions; both pull plain values out of their line and leave the decisions to
``rules``, so they decide alike (tests/sources/claude_code/test_claude_fast_path.py
checks field by field).
"""

from __future__ import annotations

import msgspec

from tokenbuddy.core.records import ParseStats, PromptMark, SkipReason, UsageRecord
from tokenbuddy.sources.claude_code.layout import FileContext
from tokenbuddy.sources.claude_code.rules import (
    KNOWN_TYPES,
    USAGE_TYPES,
    prompt_mark,
    typed_by_a_person,
    usage_record,
    written_by_a_person,
)


class CacheCreation(msgspec.Struct):
    ephemeral_5m_input_tokens: int | None = None
    ephemeral_1h_input_tokens: int | None = None


class ServerToolUse(msgspec.Struct):
    web_search_requests: int | None = None


class Usage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: CacheCreation | None = None
    server_tool_use: ServerToolUse | None = None
    speed: str | None = None
    inference_geo: str | None = None


class Message(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    usage: Usage | None = None
    content: msgspec.Raw = msgspec.Raw(b"")
    """Kept unparsed (a view of the line, no copy): only a possible prompt's is read."""


class Progress(msgspec.Struct):
    message: Line | str | None = None
    """A nested record (agent progress); other kinds of progress may carry text."""
    agentId: str | None = None


class Line(msgspec.Struct):
    type: str | None = None
    message: Message | str | None = None
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
    data: Progress | None = None


class Unreadable(Exception):
    """A part of a decoded line read only later (a prompt's content) does not decode."""


def from_values(
    values: list[Line], context: FileContext, stats: ParseStats, prompts: list[PromptMark]
) -> list[UsageRecord]:
    """Records and prompts from decoded lines; raises :class:`Unreadable` when a part
    read only now (a prompt's content) does not decode."""
    records = []
    for value in values:
        record = judge(value, context, stats, prompts)
        if record is not None:
            records.append(record)
    stats.lines += len(values)
    stats.records += len(records)
    return records


def judge(
    value: Line, context: FileContext, stats: ParseStats, prompts: list[PromptMark] | None
) -> UsageRecord | None:
    """The record one decoded line carries; its prompt, if it is one, goes to ``prompts``."""
    kind = value.type
    if kind in USAGE_TYPES:
        return record_from_value(value, context, stats)
    if kind == "user":
        if prompts is not None and typed_by_a_person(
            value.isSidechain,
            value.isMeta,
            value.isCompactSummary,
            context.agent_id,
            len(value.toolUseResult),
            value.entrypoint,
        ):
            prompt = _prompt_from_value(value, context)
            if prompt is not None:
                prompts.append(prompt)
    elif kind not in KNOWN_TYPES and isinstance(value.message, Message) and value.message.usage:
        stats.skip(SkipReason.UNKNOWN_TYPE)  # usage where assistant records carry it
    return None


def record_from_value(value: Line, context: FileContext, stats: ParseStats) -> UsageRecord | None:
    """The record of an assistant line, or of the subagent reply a progress line embeds."""
    if value.type == "assistant":
        return _assistant_from_value(value, value, context, stats, bool(value.isSidechain))
    data = value.data
    inner = None if data is None else data.message
    if data is None or not isinstance(inner, Line) or inner.type != "assistant":
        return None
    subagent = context.for_subagent(data.agentId or "")
    return _assistant_from_value(inner, value, subagent, stats, True)


def _assistant_from_value(
    record: Line, envelope: Line, context: FileContext, stats: ParseStats, sidechain: bool
) -> UsageRecord | None:
    """The values of an assistant record (inside ``envelope``), handed to the rules."""
    message = record.message
    if not isinstance(message, Message) or message.usage is None:
        return None
    usage = message.usage
    breakdown = usage.cache_creation
    tools = usage.server_tool_use
    return usage_record(
        context,
        stats,
        sidechain,
        record.timestamp,
        envelope.timestamp,
        message.model,
        record.isApiErrorMessage or envelope.isApiErrorMessage,
        usage.input_tokens or 0,
        usage.output_tokens or 0,
        usage.cache_creation_input_tokens or 0,
        usage.cache_read_input_tokens or 0,
        None if breakdown is None else breakdown.ephemeral_5m_input_tokens or 0,
        0 if breakdown is None else breakdown.ephemeral_1h_input_tokens or 0,
        0 if tools is None else tools.web_search_requests or 0,
        usage.speed,
        usage.inference_geo,
        message.id,
        record.requestId,
        record.uuid or envelope.uuid,
        envelope.sessionId,
        envelope.cwd,
        envelope.agentId,
        envelope.entrypoint,
    )


def _prompt_from_value(value: Line, context: FileContext) -> PromptMark | None:
    """The prompt a user line whose flags allow a person is, once its content is read."""
    raw = value.message.content if isinstance(value.message, Message) else None
    try:
        content = msgspec.json.decode(raw) if raw else None
    except (msgspec.MsgspecError, RecursionError) as error:  # invalid UTF-8, say
        raise Unreadable from error
    if not written_by_a_person(content):
        return None
    return prompt_mark(value.timestamp, value.sessionId, context)
