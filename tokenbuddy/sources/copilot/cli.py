"""The Copilot CLI's session logs: ``~/.copilot/session-state/<session>/events.jsonl``.

Every CLI build since the directory layout (and the flat ``session-state/<session>.jsonl``
of earlier builds) appends one event a line: ``{"type", "data", "id", "timestamp",
"parentId"}`` (github/copilot-sdk ``nodejs/src/generated/session-events.ts``, the
schema the CLI runtime generates). What is persisted about usage:

- ``assistant.message``: ``outputTokens`` (the API's completion tokens, reasoning
  included), ``model``, ``apiCallId`` (shared by the chunks one call's response is
  split into). The per-call ``assistant.usage`` event with input and cache counts is
  ephemeral: never written to disk.
- ``session.shutdown``: at a clean exit, ``modelMetrics`` per model: ``usage``
  (``inputTokens``, an OpenAI-style prompt count with cache reads included,
  ``outputTokens``, ``cacheReadTokens``, ``cacheWriteTokens``, ``reasoningTokens``),
  ``requests.cost`` (premium requests) and ``totalNanoAiu`` (AI credits); older builds
  only ``tokenDetails`` for the whole session. A resumed session appends a second
  shutdown. Builds that write ``session.usage_checkpoint`` restore the session's totals
  on resume, so their shutdowns are cumulative; earlier ones cover one process.

Counting each call once while usage is known only at shutdown: a process lifetime
(a *segment*, ended by a shutdown) is counted as one record per (model, hour), keyed
``copilot-cli:<session>:<segment>:<model>:<hour>``. While the session runs, each record
holds the output tokens of that hour's messages. At shutdown the same records are written
again with the segment's exact totals split over them in proportion to their output (the
ledger keeps a key's largest copy, and the totals only add): the sums are the shutdown's
figures exactly, once, and the spend stays in the hours it happened. A killed session
keeps its output-only records. The read carries on from a byte offset (``state``).
"""

from __future__ import annotations

import os
from typing import Any

import orjson

from tokenbuddy.core.records import COPILOT, ParseStats, PromptMark, SkipReason, UsageRecord
from tokenbuddy.sources.copilot import usage
from tokenbuddy.sources.copilot.shutdown import record, segment_records, segment_totals
from tokenbuddy.sources.jsonl import parse_timestamp

HOUR_MS = 3_600_000
NO_MODEL = "assistant message with no model (counted at shutdown only)"
NO_OUTPUT = "assistant message with no output tokens"
EMPTY_METRIC = "model with no usage at shutdown (aborted calls)"
BAD_SHUTDOWN = "session.shutdown with no usable metrics"
HALF_WRITTEN = "half-written last line (read again on the next write)"
KNOWN_TYPES = frozenset(
    {"session.start", "session.resume", "session.model_change", "session.context_changed",
     "assistant.message", "assistant.turn_start", "assistant.turn_end", "user.message",
     "session.shutdown", "session.usage_checkpoint"}
)  # fmt: skip
NOT_A_PERSON = ("system", "command", "schedule", "skill", "notification", "hook", "autopilot")


def initial_state(path: str) -> dict[str, Any]:
    """Carry-over for an events file read from its start."""
    directory, name = os.path.split(path)
    session = os.path.basename(directory) if name == "events.jsonl" else name.split(".")[0]
    return {
        "offset": 0, "session": session, "cwd": workspace_cwd(directory), "model": "",
        "segment": 0, "buckets": {}, "calls": {}, "totals": {}, "checkpoint": False,
    }  # fmt: skip


def workspace_cwd(directory: str) -> str:
    """The ``cwd:`` of the ``workspace.yaml`` beside a session's events, if any."""
    try:
        with open(os.path.join(directory, "workspace.yaml"), encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("cwd:"):
                    return line[4:].strip().strip("'\"")
    except (OSError, UnicodeDecodeError):
        pass
    return ""


def read(path: str, state: dict[str, Any], stats: ParseStats) -> tuple[
    list[UsageRecord], list[PromptMark], dict[str, Any], bool
]:  # fmt: skip
    """Read the events appended since ``state`` (from the start when the file shrank);
    the flag says the read started from the start, so it covers the whole file."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if not state or state.get("offset", 0) > size:
            state = initial_state(path)
        handle.seek(state["offset"])
        data = handle.read()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        stats.skip(HALF_WRITTEN)
    events = EventReader(state, stats)
    for line in data[:end].splitlines():
        if line.strip():
            events.feed(line)
    whole = events.state["offset"] == 0
    events.state["offset"] += end
    return events.finish(), events.prompts, events.state, whole


class EventReader:
    """Replays events into per-(model, hour) records for one session file."""

    def __init__(self, state: dict[str, Any], stats: ParseStats) -> None:
        self.state = state
        self.stats = stats
        self.prompts: list[PromptMark] = []
        self.touched: set[tuple[str, str]] = set()
        self.final: list[UsageRecord] = []

    def feed(self, line: bytes) -> None:
        """One event line."""
        self.stats.lines += 1
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            self.stats.skip(SkipReason.INVALID_JSON)
            return
        if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
            self.stats.skip(SkipReason.NOT_AN_OBJECT)
            return
        kind, data = event.get("type"), event["data"]
        if not isinstance(kind, str) or kind not in KNOWN_TYPES:
            return
        ts_ms = parse_timestamp(event.get("timestamp"))
        if ts_ms is None:
            self.stats.skip(SkipReason.NO_TIMESTAMP)
            return
        self.apply(str(kind), data, ts_ms, event)

    def apply(self, kind: str, data: dict[str, Any], ts_ms: int, event: dict[str, Any]) -> None:
        """Update the session's state with one event."""
        state = self.state
        if kind in ("session.start", "session.resume"):
            state["session"] = str(data.get("sessionId") or state["session"])
            state["model"] = usage.model_id(data.get("selectedModel")) or state["model"]
            self.set_cwd(data.get("context"))
        elif kind == "session.context_changed":
            self.set_cwd(data)
        elif kind == "session.model_change":
            state["model"] = usage.model_id(data.get("newModel")) or state["model"]
        elif kind in ("assistant.turn_start", "assistant.turn_end"):
            state["model"] = usage.model_id(data.get("model")) or state["model"]
        elif kind == "assistant.message":
            self.message(data, ts_ms, event)
        elif kind == "user.message":
            self.user_message(data, ts_ms, event)
        elif kind == "session.usage_checkpoint":
            state["checkpoint"] = True
        else:
            self.shutdown(data, ts_ms)

    def set_cwd(self, context: Any) -> None:
        """Take the working directory from a working-directory context."""
        if isinstance(context, dict) and isinstance(context.get("cwd"), str) and context["cwd"]:
            self.state["cwd"] = context["cwd"]

    def user_message(self, data: dict[str, Any], ts_ms: int, event: dict[str, Any]) -> None:
        """A prompt typed by a person (not a subagent's, a command's or a schedule's)."""
        origin = str(data.get("source") or "").lower()
        if event.get("agentId") or any(word in origin for word in NOT_A_PERSON):
            return
        self.prompts.append(PromptMark(COPILOT, self.state["session"], ts_ms))

    def message(self, data: dict[str, Any], ts_ms: int, event: dict[str, Any]) -> None:
        """Add an assistant message's output tokens to its hour's record."""
        output = usage.count(data.get("outputTokens"))
        if output == 0:
            self.stats.note(NO_OUTPUT)
            return
        model = usage.model_id(data.get("model")) or self.state["model"]
        if not model:
            self.stats.note(NO_MODEL)
            return
        call = str(data.get("apiCallId") or data.get("messageId") or event.get("id") or "")
        counted = self.state["calls"].get(call, 0) if call else 0
        if call:
            self.state["calls"][call] = max(counted, output)
        added = max(output - counted, 0)
        hour = str(ts_ms // HOUR_MS)
        bucket = self.state["buckets"].setdefault(model, {}).setdefault(hour, [0, ts_ms])
        bucket[0] += added
        bucket[1] = max(bucket[1], ts_ms)
        self.touched.add((model, hour))

    def shutdown(self, data: dict[str, Any], ts_ms: int) -> None:
        """Count the segment's exact totals over its records, then start the next one."""
        totals = segment_totals(data, self.state)
        if not totals:
            self.stats.skip(BAD_SHUTDOWN)
        for model, figures in totals.items():
            if not any(figures[:5]):
                self.stats.note(EMPTY_METRIC)
                continue
            buckets = self.state["buckets"].get(model) or {str(ts_ms // HOUR_MS): [0, ts_ms]}
            self.final.extend(segment_records(self.state, model, buckets, figures))
        self.touched = {(model, hour) for model, hour in self.touched if model not in totals}
        self.flush_touched()
        self.state.update(segment=self.state["segment"] + 1, buckets={}, calls={})

    def flush_touched(self) -> None:
        """Output-only records of the hours this read added to."""
        buckets = self.state["buckets"]
        for model, hour in sorted(self.touched):
            output, ts_ms = buckets[model][hour]
            if output:
                self.final.append(record(self.state, model, hour, ts_ms, [0, output, 0, 0, 0]))
        self.touched.clear()

    def finish(self) -> list[UsageRecord]:
        """Every record this read produced."""
        self.flush_touched()
        return self.final
