"""Reading one task: its ``ui_messages.json`` turned into requests and prompts.

The extension rewrites the whole file on every message, so each read covers the whole
task; a request's key is the task id and its message's ``ts``, which no rewrite
changes, so the ledger keeps each request once with its largest counts. Beside the
messages, the task dir's ``task_metadata.json`` (Cline: ``model_usage``, the model and
provider from a given ``ts`` on) and ``history_item.json`` (Roo Code and Kilo Code:
``workspace``, and ``parentTaskId``/``rootTaskId`` for a subtask) say what the
messages do not.
"""

from __future__ import annotations

import bisect
import os
import re
from typing import Any, NamedTuple

import orjson

from tokenbuddy.core.records import CLINE, ParseStats, PromptMark, SkipReason, UsageRecord
from tokenbuddy.sources.cline.layout import entrypoint_of
from tokenbuddy.sources.cline.usage import Usage, model_id, usage_of
from tokenbuddy.sources.documents import DocumentRead

NOT_A_LIST = "ui_messages.json that is not a list of messages"
BAD_REQUEST_TEXT = "api_req_started whose text is not a JSON object"
ABORTED = "aborted call with no usage"
STREAMING = "request still streaming (no usage yet)"
NO_USAGE = "request that recorded no usage (failed, or a provider that reports none)"
NO_MODEL = "requests with no model recorded (unpriced)"
DELETED_COUNTED = "deleted requests counted from their totals (deleted_api_reqs)"
DELETED_REPEATED = "deleted_api_reqs totals of requests already counted (not counted again)"
SUBAGENTS = "subagent usage totals (subagent_usage), counted as subagent work"
CONDENSE_UNCOUNTED = "context condensing cost without token counts (not counted)"
SIDE_FILE_UNREADABLE = "task_metadata.json or history_item.json unreadable (ignored)"
SUBTASK = "subtask"
SUBAGENT = "subagents"
WORKING_DIRECTORY = re.compile(r"# Current (?:Working|Workspace) Directory \((.+?)\) Files")
"""How the environment details a request carries name the task's working directory."""
MODE_MODEL = re.compile(r"# Current Mode[ \t]*\n(?:[^\n]*\n){0,4}?[ \t]*<model>([^<\n]+)</model>")
"""How Roo Code's and Kilo Code's environment details name the model the request went to
(``# Current Mode`` with ``<slug>``, ``<name>`` and ``<model>``)."""


class Task(NamedTuple):
    """What the task dir says about the task, beside its messages."""

    task_id: str
    session_id: str
    """The task, or for a subtask the task that started it."""
    project: str
    is_subtask: bool
    entrypoint: str
    models: list[tuple[int, str, str]]
    """(from ts, model id, provider id), by ts: Cline's ``model_usage``."""


def read(path: str, state: dict[str, Any], stats: ParseStats) -> DocumentRead:
    """Every request and prompt of one task's messages document; a half-written
    document is a counted skip and leaves ``state`` as it was."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        messages = orjson.loads(data)
    except orjson.JSONDecodeError:
        stats.lines += 1
        stats.skip(SkipReason.INVALID_JSON)
        return DocumentRead([], [], state)
    if not isinstance(messages, list):
        stats.lines += 1
        stats.skip(NOT_A_LIST)
        return DocumentRead([], [], state)
    reading = TaskReading(task_of(path, stats), stats)
    for message in messages:
        reading.feed(message)
    return reading.finish(state)


def task_of(path: str, stats: ParseStats) -> Task:
    """The task a document belongs to, from its dir and the files beside it."""
    task_dir = os.path.dirname(path)
    task_id = os.path.basename(task_dir)
    history = _side_file(os.path.join(task_dir, "history_item.json"), stats)
    metadata = _side_file(os.path.join(task_dir, "task_metadata.json"), stats)
    parent = history.get("rootTaskId") or history.get("parentTaskId")
    workspace = history.get("workspace")
    return Task(
        task_id,
        parent if isinstance(parent, str) and parent else task_id,
        workspace if isinstance(workspace, str) else "",
        isinstance(parent, str) and bool(parent),
        entrypoint_of(path),
        _model_usage(metadata.get("model_usage")),
    )


def _side_file(path: str, stats: ParseStats) -> dict[str, Any]:
    """A small JSON object beside the messages; empty when absent or unreadable."""
    try:
        with open(path, "rb") as handle:
            value = orjson.loads(handle.read())
    except FileNotFoundError:
        return {}
    except (OSError, orjson.JSONDecodeError):
        stats.note(SIDE_FILE_UNREADABLE)
        return {}
    return value if isinstance(value, dict) else {}


def _model_usage(entries: object) -> list[tuple[int, str, str]]:
    """Cline's ``model_usage`` entries as (ts, model, provider), by ts."""
    if not isinstance(entries, list):
        return []
    found = []
    for entry in entries:
        if isinstance(entry, dict) and isinstance(ts := entry.get("ts"), int):
            model = model_id(entry.get("model_id"))
            provider = entry.get("model_provider_id")
            found.append((ts, model, provider if isinstance(provider, str) else ""))
    return sorted(found)


class Request(NamedTuple):
    """One ``api_req_started`` message (with an old ``api_req_finished`` merged in)."""

    ts: int
    info: dict[str, Any]
    model: str
    provider: str


class TaskReading:
    """Collects one read's requests, usage summaries and prompts, message by message."""

    def __init__(self, task: Task, stats: ParseStats) -> None:
        self.task = task
        self.stats = stats
        self.project = task.project
        self.requests: dict[int, Request] = {}
        self.deleted: list[tuple[int, dict[str, Any]]] = []
        self.subagents: list[tuple[int, dict[str, Any]]] = []
        self.prompts: list[PromptMark] = []
        self._last_request = -1
        self._named_model = ""

    def feed(self, message: object) -> None:
        """Take in one message of the document."""
        self.stats.lines += 1
        if not isinstance(message, dict):
            self.stats.skip(SkipReason.NOT_AN_OBJECT)
            return
        say = message.get("say")
        if say in ("api_req_started", "api_req_finished", "deleted_api_reqs", "subagent_usage"):
            self._usage_message(say, message)
        elif say in ("task", "user_feedback"):
            self._prompt(say, message)
        elif say == "condense_context":
            self._condense(message)

    def _usage_message(self, say: str, message: dict[str, Any]) -> None:
        ts = message.get("ts")
        if isinstance(ts, bool) or not isinstance(ts, int) or ts <= 0:
            self.stats.skip(SkipReason.NO_TIMESTAMP)
            return
        info = _info_of(message.get("text"))
        if info is None:
            self.stats.skip(BAD_REQUEST_TEXT)
            return
        if say == "api_req_started":
            self._start(ts, info, message)
        elif say == "api_req_finished" and self._last_request in self.requests:
            started = self.requests[self._last_request]
            self.requests[started.ts] = started._replace(info={**started.info, **info})
        elif say == "deleted_api_reqs":
            self.deleted.append((ts, info))
        elif say == "subagent_usage":
            self.subagents.append((ts, info))

    def _start(self, ts: int, info: dict[str, Any], message: dict[str, Any]) -> None:
        request = info.get("request")
        request = request if isinstance(request, str) else ""
        named = MODE_MODEL.search(request)
        if named and (model := model_id(named.group(1))) and model != "unknown":
            self._named_model = model
        model, provider = self._model_at(ts, info, message)
        self.requests[ts] = Request(ts, info, model, provider)
        self._last_request = ts
        found = WORKING_DIRECTORY.search(request)
        if found and not self.project:
            self.project = found.group(1)

    def _model_at(self, ts: int, info: dict[str, Any], message: dict[str, Any]) -> tuple[str, str]:
        """(model, provider) of a request: the message's ``modelInfo``, the request's own
        ``modelId``/``model``, Cline's ``model_usage`` entry in force at ``ts``, else the
        model the latest environment details named (Roo Code, Kilo Code)."""
        model_info = message.get("modelInfo")
        if isinstance(model_info, dict) and (model := model_id(model_info.get("modelId"))):
            provider = model_info.get("providerId")
            return model, provider if isinstance(provider, str) else ""
        if model := model_id(info.get("modelId") or info.get("model")):
            return model, ""
        models = self.task.models
        if not models:
            return self._named_model, ""
        index = max(bisect.bisect_right(models, (ts, "\uffff", "\uffff")) - 1, 0)
        return models[index][1], models[index][2]

    def _prompt(self, say: str, message: dict[str, Any]) -> None:
        """A person's words: the task's first message (unless a parent task wrote it)
        and feedback typed in reply."""
        ts = message.get("ts")
        if isinstance(ts, bool) or not isinstance(ts, int) or ts <= 0:
            return
        if say == "task" and self.task.is_subtask:
            return
        self.prompts.append(PromptMark(CLINE, self.task.session_id, ts))

    def _condense(self, message: dict[str, Any]) -> None:
        condense = message.get("contextCondense")
        cost = condense.get("cost") if isinstance(condense, dict) else None
        if isinstance(cost, (int, float)) and cost > 0:
            self.stats.note(CONDENSE_UNCOUNTED)

    def finish(self, state: dict[str, Any]) -> DocumentRead:
        """The read's records, prompts and the state the next read starts from."""
        records = [r for request in self.requests.values() if (r := self._request(request))]
        counted = sorted(r.ts_ms for r in records)
        decided = self._deleted_decisions(state, set(counted))
        own_agent = SUBTASK if self.task.is_subtask else ""
        for ts, info in self.deleted:
            if decided[str(ts)]:
                self.stats.note(DELETED_COUNTED)
                records += self._summary(ts, info, "deleted", own_agent)
            else:
                self.stats.note(DELETED_REPEATED)
        for ts, info in self.subagents:
            self.stats.note(SUBAGENTS)
            records += self._summary(ts, info, SUBAGENT, SUBAGENT)
        return DocumentRead(records, self.prompts, {"calls": counted, "deleted": decided})

    def _request(self, request: Request) -> UsageRecord | None:
        usage = usage_of(request.info, request.provider, request.model)
        if usage is None:
            self.stats.skip(SkipReason.BAD_USAGE)
            return None
        if usage.total == 0:
            self.stats.note(self._why_empty(request))
            return None
        own_agent = SUBTASK if self.task.is_subtask else ""
        return self._record(request.ts, str(request.ts), usage, request.model, own_agent)

    def _why_empty(self, request: Request) -> str:
        if request.info.get("cancelReason") or request.info.get("streamingFailedMessage"):
            return ABORTED
        return STREAMING if request.ts == self._last_request else NO_USAGE

    def _deleted_decisions(self, state: dict[str, Any], counted: set[int]) -> dict[str, bool]:
        """Whether each ``deleted_api_reqs`` entry is counted, decided when first seen: only
        when no request counted by an earlier read of this task has since vanished (the
        entry then repeats requests already in the ledger)."""
        decided = state.get("deleted")
        decided = dict(decided) if isinstance(decided, dict) else {}
        before = state.get("calls")
        vanished = set(before) - counted if isinstance(before, list) else set()
        for ts, _info in self.deleted:
            decided.setdefault(str(ts), not vanished)
        return decided

    def _summary(self, ts: int, info: dict[str, Any], tag: str, agent: str) -> list[UsageRecord]:
        """A totals entry (deleted requests, subagents) as one request, if it has usage."""
        model, provider = self._model_at(ts, info, {})
        usage = usage_of(info, provider, model)
        if usage is None:
            self.stats.skip(SkipReason.BAD_USAGE)
            return []
        if usage.total == 0:
            return []
        return [self._record(ts, f"{ts}:{tag}", usage, model, agent)]

    def _record(self, ts: int, key: str, usage: Usage, model: str, agent: str) -> UsageRecord:
        if not model:
            self.stats.note(NO_MODEL)
        task = self.task
        return UsageRecord(
            f"cline:{task.task_id}:{key}", CLINE, ts, task.session_id, self.project, model,
            usage.input_tokens, usage.output_tokens, usage.cache_write_tokens, 0,
            usage.cache_read_tokens, 0, 0, "", "", bool(agent), task.task_id if agent else "",
            agent, task.entrypoint, usage.cost_usd,
        )  # fmt: skip


def _info_of(text: object) -> dict[str, Any] | None:
    """The JSON object a usage message's text holds; None when it holds none."""
    if not isinstance(text, str):
        return None
    try:
        info = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return info if isinstance(info, dict) else None
