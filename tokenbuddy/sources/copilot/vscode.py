"""Copilot Chat in VS Code: ``User/workspaceStorage/<hash>/chatSessions/<session>.json(l)``
and ``User/globalStorage/emptyWindowChatSessions/`` (chats opened with no folder).

VS Code (microsoft/vscode ``src/vs/workbench/contrib/chat/common/model/chatModel.ts``,
``ISerializableChatData``) saved each chat as one JSON document rewritten whole; since
version 3 of that data it keeps a ``.jsonl`` mutation log instead
(``chatSessionOperationLog.ts`` and ``objectMutationLog.ts``): line 1 is ``{"kind": 0,
"v": <whole chat>}``, then ``kind 1`` sets the value at key path ``k``, ``kind 2``
pushes ``v`` onto the array at ``k`` after cutting it to ``i`` items, ``kind 3`` deletes
``k``; the log is rewritten as one ``kind 0`` line when it grows long. Either way the
document is read whole, as VS Code itself replays it.

Each of ``requests`` is one prompt a person typed and the model calls that answered it:
``requestId``, ``timestamp`` (ms, when sent), ``modelId`` (``copilot/claude-sonnet-4.5``),
``message.text``, and the Copilot Chat extension's ``result``: ``timings.totalElapsed``,
``details`` (``"Claude Sonnet 4.5 • 1x"``: the premium-request multiplier) and
``metadata`` with ``promptTokens`` (prompt count, cached tokens included), ``outputTokens``,
``resolvedModel`` (the model an ``auto`` pick ran), ``toolCallRounds[].thinking.tokens``
and, where recorded, ``copilotUsageNanoAiu`` (AI credits billed). Earlier builds put
``promptTokens`` / ``completionTokens`` on the request itself. VS Code's own usage, where a
build keeps it, comes first: the result's ``usage`` ``{promptTokens, completionTokens}``
(``IChatAgentResult.usage``, ``chatAgents.ts``) or a ``{"kind": "usage"}`` response part
(``IChatUsage`` in ``chatService.ts``: ``promptTokens``, ``completionTokens``,
``copilotCredits`` in AI credits, ``actualModelId`` the model an ``auto`` pick ran).
One record per request, keyed by ``requestId`` (kept by the agent when a chat moves
between windows), dated when its answer completed; the project is the workspace folder
of ``workspace.json``.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import unquote, urlparse

import orjson

from tokenbuddy.core.records import COPILOT, ParseStats, PromptMark, SkipReason, UsageRecord
from tokenbuddy.sources.copilot import usage

ENTRYPOINT = "vscode"
NO_USAGE = "request with no token counts (cancelled, failed, or not recorded)"
BAD_MUTATION = "mutation at a path the chat does not have"
HALF_WRITTEN = "half-written last line (read again on the next write)"
NO_REQUESTS = "chat with no requests list"
MULTIPLIER = re.compile(r"(\d+(?:\.\d+)?)x\s*$")


def read(path: str, stats: ParseStats) -> tuple[list[UsageRecord], list[PromptMark]] | None:
    """The records and prompts of one chat; None when it is unreadable as a whole (a
    half-written save), which is counted in ``stats``."""
    with open(path, "rb") as handle:
        data = handle.read()
    chat = replay(data, stats) if path.endswith(".jsonl") else whole(data, stats)
    if chat is None:
        return None
    requests = chat.get("requests")
    if not isinstance(requests, list):
        stats.skip(NO_REQUESTS)
        return [], []
    session = str(chat.get("sessionId") or os.path.basename(path).split(".")[0])
    project = workspace_folder(path)
    records, prompts = [], []
    for request in requests:
        stats.lines += 1
        found = request_record(request, session, project, stats)
        if found is not None:
            records.append(found)
        if isinstance(request, dict) and typed(request):
            prompts.append(PromptMark(COPILOT, session, int(request["timestamp"])))
    return records, prompts


def whole(data: bytes, stats: ParseStats) -> dict[str, Any] | None:
    """A chat saved as one JSON document."""
    try:
        chat = orjson.loads(data)
    except orjson.JSONDecodeError:
        stats.skip(SkipReason.INVALID_JSON)
        return None
    if not isinstance(chat, dict):
        stats.skip(SkipReason.NOT_AN_OBJECT)
        return None
    return chat


def replay(data: bytes, stats: ParseStats) -> dict[str, Any] | None:
    """A chat rebuilt from its mutation log; None when the log has no whole first entry."""
    end = data.rfind(b"\n") + 1
    if end < len(data.rstrip()):
        stats.skip(HALF_WRITTEN)
    state: Any = None
    for line in data[:end].splitlines():
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            stats.skip(SkipReason.INVALID_JSON)
            continue
        if not isinstance(entry, dict):
            stats.skip(SkipReason.NOT_AN_OBJECT)
        elif entry.get("kind") == 0 or (entry.get("kind") == 1 and entry.get("k") == []):
            state = entry.get("v")
        elif state is not None and not mutate(state, entry):
            stats.skip(BAD_MUTATION)
    if not isinstance(state, dict):
        stats.skip(SkipReason.INVALID_JSON)
        return None
    return state


def mutate(state: Any, entry: dict[str, Any]) -> bool:
    """Apply one log entry (set, push, delete) in place; False when its path is not there."""
    path, kind = entry.get("k"), entry.get("kind")
    if not isinstance(path, list) or not path or kind not in (1, 2, 3):
        return False
    parent = state
    try:
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if kind == 2:
            items = parent.get(last) if isinstance(parent, dict) else parent[last]
            items = list(items or [])
            if isinstance(entry.get("i"), int):
                del items[entry["i"] :]
            items.extend(entry.get("v") or [])
            parent[last] = items
        elif kind == 1:
            set_item(parent, last, entry.get("v"))
        elif isinstance(parent, dict):
            parent.pop(last, None)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def set_item(parent: Any, key: Any, value: Any) -> None:
    """``parent[key] = value``, growing a list by one when ``key`` is its length."""
    if isinstance(parent, list) and key == len(parent):
        parent.append(value)
    else:
        parent[key] = value


def typed(request: dict[str, Any]) -> bool:
    """Whether a request carries a person's prompt and a valid time."""
    message = request.get("message")
    text = message.get("text") if isinstance(message, dict) else message
    stamp = request.get("timestamp")
    return bool(text) and isinstance(stamp, int) and not isinstance(stamp, bool) and stamp > 0


def request_record(
    request: Any, session: str, project: str, stats: ParseStats
) -> UsageRecord | None:
    """The record of one request; None (counted) when it has no usage."""
    if not isinstance(request, dict):
        stats.skip(SkipReason.NOT_AN_OBJECT)
        return None
    result = mapping(request.get("result"))
    meta = mapping(result.get("metadata"))
    reported = usage_report(request, result)
    prompt = first_count(
        reported.get("promptTokens"), request.get("promptTokens"), meta.get("promptTokens")
    )
    output = first_count(
        reported.get("completionTokens"), request.get("completionTokens"),
        meta.get("outputTokens"), meta.get("completionTokens"),
    )  # fmt: skip
    if prompt == 0 and output == 0:
        stats.note(NO_USAGE)
        return None
    stamp = request.get("timestamp")
    if not isinstance(stamp, int) or isinstance(stamp, bool) or stamp <= 0:
        stats.skip(SkipReason.NO_TIMESTAMP)
        return None
    model = (
        usage.model_id(reported.get("actualModelId"))
        or usage.model_id(meta.get("resolvedModel"))
        or usage.model_id(request.get("modelId"))
    )
    if not model:
        stats.skip(SkipReason.NO_MODEL)
        return None
    cached = first_count(meta.get("cachedTokens"), meta.get("cacheReadTokens"))
    timings = mapping(result.get("timings"))
    request_id = str(request.get("requestId") or f"{session}:{stamp}")
    return UsageRecord(
        f"copilot-vscode:{request_id}", COPILOT, stamp + usage.count(timings.get("totalElapsed")),
        session, project, model, usage.fresh_input(prompt, cached, 0), output, 0, 0, cached,
        min(thinking_tokens(meta), output), 0, "", "", False, "", "", ENTRYPOINT,
        billed_usd(reported, result, meta), multiplier(result.get("details")),
    )  # fmt: skip


def usage_report(request: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """The usage VS Code itself keeps for a request, where this build writes one: the
    result's ``usage`` (``IChatAgentResult.usage``), the request's or response's ``usage``,
    or the ``{"kind": "usage"}`` part (``IChatUsage``) among the response parts; empty
    when there is none (builds that keep the counts only in the result metadata)."""
    for found in (result.get("usage"), request.get("usage")):
        if isinstance(found, dict):
            return found
    response = request.get("response")
    parts = response if isinstance(response, list) else mapping(response).get("value")
    usage_parts = [
        part for part in (parts if isinstance(parts, list) else [])
        if isinstance(part, dict) and part.get("kind") == "usage"
    ]  # fmt: skip
    return usage_parts[-1] if usage_parts else mapping(mapping(response).get("usage"))


def billed_usd(
    reported: dict[str, Any], result: dict[str, Any], meta: dict[str, Any]
) -> float | None:
    """What Copilot billed for the request in dollars: ``copilotUsageNanoAiu``, else the
    ``copilotCredits`` of VS Code's usage (AI credits, $0.01 each); None when neither."""
    nano = first_amount(meta.get("copilotUsageNanoAiu"), result.get("copilotUsageNanoAiu"))
    if nano is not None:
        return usage.credits_usd(nano)
    credits = usage.amount(reported.get("copilotCredits"))
    return None if credits is None else credits * usage.USD_PER_CREDIT


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def first_count(*values: Any) -> int:
    """The first positive count among ``values``; 0 when none is."""
    return next((found for value in values if (found := usage.count(value))), 0)


def first_amount(*values: Any) -> float | None:
    """The first number among ``values``; None when none is."""
    return next((found for value in values if (found := usage.amount(value)) is not None), None)


def thinking_tokens(meta: dict[str, Any]) -> int:
    """The reasoning tokens the request's tool-call rounds recorded."""
    rounds = meta.get("toolCallRounds")
    if not isinstance(rounds, list):
        return 0
    return sum(
        usage.count(item["thinking"].get("tokens"))
        for item in rounds
        if isinstance(item, dict) and isinstance(item.get("thinking"), dict)
    )


def multiplier(details: Any) -> float:
    """Premium requests from a result's ``details`` (``"GPT-5 • 1x"``); 0 when absent."""
    found = MULTIPLIER.search(details) if isinstance(details, str) else None
    return float(found.group(1)) if found else 0.0


def workspace_folder(path: str) -> str:
    """The folder of the workspace a chat belongs to, from ``workspace.json`` two levels up;
    empty for a chat without one (an empty window)."""
    storage = os.path.dirname(os.path.dirname(path))
    try:
        with open(os.path.join(storage, "workspace.json"), "rb") as handle:
            described = orjson.loads(handle.read())
    except (OSError, orjson.JSONDecodeError):
        return ""
    folder = (
        described.get("folder") or described.get("workspace")
        if isinstance(described, dict)
        else None
    )
    return uri_path(folder) if isinstance(folder, str) else ""


def uri_path(uri: str) -> str:
    """The path of a ``file://`` (or remote) folder URI; ``/c:/x`` becomes ``c:/x``."""
    parsed = urlparse(uri)
    path = unquote(parsed.path) if parsed.scheme else uri
    if re.match(r"^/[A-Za-z]:", path):
        path = path[1:]
    return path
