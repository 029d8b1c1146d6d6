"""Claude Code lines parsed in full, into dicts: the reference reading.

Used for the lines the typed structs cannot read (a field of an unexpected type, a
malformed or repaired line) and for the two ends of a line too long to read whole.
Any value may be of any type here, so each is checked before the ``rules`` see it.
"""

from __future__ import annotations

from typing import Any

from tokenbuddy.core.records import ParseStats, PromptMark, SkipReason, UsageRecord
from tokenbuddy.sources.claude_code.layout import FileContext
from tokenbuddy.sources.claude_code.rules import (
    KNOWN_TYPES,
    prompt_mark,
    typed_by_a_person,
    usage_record,
    written_by_a_person,
)


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
            sub = context.for_subagent(str(agent_id or ""))
            return _assistant_record(inner, obj, sub, stats, sidechain=True)
        return None
    if (type(kind) is not str or kind not in KNOWN_TYPES) and _carries_usage(obj):
        stats.skip(SkipReason.UNKNOWN_TYPE)  # (a list or dict type is unhashable: checked first)
    return None


def prompt_from(obj: dict[str, Any], context: FileContext) -> PromptMark | None:
    """The human prompt a ``user`` record is, or None for tool results, injected text and
    other record types (see :func:`~tokenbuddy.sources.claude_code.rules.typed_by_a_person`)."""
    if obj.get("type") != "user" or not typed_by_a_person(
        obj.get("isSidechain"),
        obj.get("isMeta"),
        obj.get("isCompactSummary"),
        context.agent_id,
        "toolUseResult" in obj,
        obj.get("entrypoint"),
    ):
        return None
    message = obj.get("message")
    if not written_by_a_person(message.get("content") if isinstance(message, dict) else None):
        return None
    return prompt_mark(obj.get("timestamp"), _text(obj.get("sessionId")), context)


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
    """The checked values of an assistant record (inside ``envelope``), handed to the rules."""
    message = record.get("message")
    if type(message) is not dict:
        return None
    usage = message.get("usage")
    if type(usage) is not dict:
        return None
    model = message.get("model")
    breakdown = usage.get("cache_creation")
    if type(breakdown) is not dict:
        breakdown = None
    server_tools = usage.get("server_tool_use")
    searches = server_tools.get("web_search_requests") if type(server_tools) is dict else 0
    return usage_record(
        context,
        stats,
        sidechain,
        record.get("timestamp"),
        envelope.get("timestamp"),
        model if type(model) is str else None,
        record.get("isApiErrorMessage") or envelope.get("isApiErrorMessage"),
        _count(usage.get("input_tokens")),
        _count(usage.get("output_tokens")),
        _count(usage.get("cache_creation_input_tokens")),
        _count(usage.get("cache_read_input_tokens")),
        None if breakdown is None else _count(breakdown.get("ephemeral_5m_input_tokens")),
        0 if breakdown is None else _count(breakdown.get("ephemeral_1h_input_tokens")),
        searches if type(searches) is int else 0,
        usage.get("speed"),
        usage.get("inference_geo"),
        _text(message.get("id")),
        _text(record.get("requestId")),
        _text(record.get("uuid")) or _text(envelope.get("uuid")),
        _text(envelope.get("sessionId")),
        _text(envelope.get("cwd")),
        _text(envelope.get("agentId")),
        _text(envelope.get("entrypoint")),
    )


def _count(value: Any) -> int:
    """A token count as the rules take it: absent is 0, another type than int is -1
    (out of range, like a negative count, so the usage is bad)."""
    value = value or 0
    return value if type(value) is int else -1


def _text(value: Any) -> str:
    return value if type(value) is str else ""
