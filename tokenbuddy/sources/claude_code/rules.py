"""The decisions both readings of a Claude Code line share.

A line is read one of two ways: decoded into typed structs (``structs``, the fast
path) or parsed in full into dicts (``reference``, for lines the structs cannot
read). Each way only pulls plain values out of its line, checking their types as
it must; what those values mean is decided here, once: whether a request counts
and why not, its dedup key, how its cache writes split by TTL, which user lines a
person typed. The functions take plain values, so the fast path calls them in
place of the code it would otherwise hold inline, not on top of it.
"""

from __future__ import annotations

from typing import Any

from tokenbuddy.core.records import CLAUDE_CODE, ParseStats, PromptMark, SkipReason, UsageRecord
from tokenbuddy.sources.claude_code.layout import FileContext
from tokenbuddy.sources.jsonl import parse_timestamp

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
INT_LIMIT = 1 << 63
"""Counts must fit SQLite's integers; a larger one is bad usage."""
SYNTHETIC_MODEL = "<synthetic>"
"""The model of a reply Claude Code wrote itself (a client-side error): no request."""

_new_record = tuple.__new__
"""Builds a :class:`UsageRecord` from a tuple of its fields in one C call: the
NamedTuple constructor is a Python function, a measurable cost once per request."""


def usage_record(  # noqa: PLR0917 - one call per request on the hot path: no grouping
    context: FileContext,
    stats: ParseStats,
    sidechain: bool,
    timestamp: Any,
    envelope_timestamp: Any,
    model: str | None,
    api_error: object,
    input_tokens: int,
    output_tokens: int,
    cache_write: int,
    cache_read: int,
    write_5m: int | None,
    write_1h: int,
    searches: int,
    speed: Any,
    geo: Any,
    message_id: str | None,
    request_id: str | None,
    uuid: str | None,
    session_id: str | None,
    project: str | None,
    agent_id: str | None,
    entrypoint: str | None,
) -> UsageRecord | None:
    """The record an assistant message's usage makes, or None (counting why) when it
    does not count.

    Counts are ints, absent ones 0 and ones of another type -1 (out of range, so the
    usage is bad); ``write_5m`` is None when the usage has no TTL breakdown of its
    cache writes. ``timestamp`` is the
    message's own, ``envelope_timestamp`` the line's around it (a subagent's progress
    line). Text fields are None or empty when absent or not strings; ``session_id``,
    ``project`` and ``agent_id`` then fall back to what the file's path says, and
    ``entrypoint`` (how the session was started) to empty.
    """
    ts_ms = parse_timestamp(timestamp or envelope_timestamp)
    if (
        ts_ms is None
        or not 0 <= (input_tokens | output_tokens | cache_write | cache_read) < INT_LIMIT
        or not model
        or model == SYNTHETIC_MODEL
        or api_error
    ):
        stats.skip(skip_reason(model, api_error, ts_ms))
        return None
    # Cache writes by TTL; writes the breakdown does not explain count as 5-minute ones.
    if write_5m is None or not 0 <= (write_5m | write_1h) < INT_LIMIT:
        write_5m, write_1h = cache_write, 0
    elif cache_write > write_5m + write_1h:
        write_5m = cache_write - write_1h
    session_id = session_id or context.session_id
    # Dedup key: (message id, request id), else (session, message id), else the line's uuid.
    if message_id:
        key = f"c:{message_id}:{request_id}" if request_id else f"c:s:{session_id}:{message_id}"
    else:
        key = f"c:u:{uuid}" if uuid else f"c:x:{session_id}:{timestamp}"
    return _new_record(
        UsageRecord,
        (
            key,
            CLAUDE_CODE,
            ts_ms,
            session_id,
            project or context.project,
            model,
            input_tokens,
            output_tokens,
            write_5m,
            write_1h,
            cache_read,
            0,
            searches if 0 < searches < INT_LIMIT else 0,
            "fast" if speed == "fast" else "",
            "us" if geo == "us" else "",
            sidechain or bool(context.agent_id),
            agent_id or context.agent_id,
            context.agent_type or ("subagent" if sidechain else ""),
            entrypoint or "",
            None,
            0.0,
        ),
    )


def skip_reason(model: str | None, api_error: object, ts_ms: int | None) -> str:
    """Why an assistant message with usage is not counted, the first reason that holds."""
    if model == SYNTHETIC_MODEL:
        return SkipReason.SYNTHETIC
    if api_error:
        return SkipReason.API_ERROR
    if not model:
        return SkipReason.NO_MODEL
    if ts_ms is None:
        return SkipReason.NO_TIMESTAMP
    return SkipReason.BAD_USAGE


def typed_by_a_person(  # noqa: PLR0917 - once per user line on the hot path
    sidechain: object,
    meta: object,
    compact_summary: object,
    in_subagent: object,
    tool_result: object,
    entrypoint: object,
) -> bool:
    """Whether a user line's flags allow a human at the keyboard (its content aside).

    Subagent prompts (written by the parent agent), meta records (command caveats,
    reminders), compaction summaries, tool results and prompts sent through the SDK
    or ``claude -p`` (entrypoint ``sdk-*``: a script wrote them) are not.
    """
    if sidechain or meta or compact_summary or in_subagent or tool_result:
        return False
    return not (isinstance(entrypoint, str) and entrypoint.startswith("sdk"))


def written_by_a_person(content: Any) -> bool:
    """Whether a user message's content is typed text (or an image), not tool results."""
    if isinstance(content, list):
        kinds = {
            kind
            for block in content
            if isinstance(block, dict) and isinstance(kind := block.get("type"), str)
        }
        return "tool_result" not in kinds and bool(kinds & {"text", "image"})
    return isinstance(content, str)


def prompt_mark(timestamp: Any, session_id: str | None, context: FileContext) -> PromptMark | None:
    """The mark a human prompt leaves, or None when its time is unusable."""
    ts_ms = parse_timestamp(timestamp)
    if ts_ms is None:
        return None
    return PromptMark(CLAUDE_CODE, session_id or context.session_id, ts_ms)
