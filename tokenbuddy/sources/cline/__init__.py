"""Cline, Roo Code and Kilo Code: each task's ``ui_messages.json``, read whole on every
rewrite (source ``cline``, the entrypoint naming the extension).

Files: ``<User dir>/globalStorage/<extension id>/tasks/<task id>/ui_messages.json``
(``claude_messages.json`` in Cline before 2.x) for the extension ids
``saoudrizwan.claude-dev`` (Cline, entrypoint ``cline``), ``rooveterinaryinc.roo-cline``
and ``rooveterinaryinc.roo-code-nightly`` (Roo Code, ``roo-code``) and
``kilocode.kilo-code`` (Kilo Code, ``kilo-code``), under VS Code, VS Code Insiders,
VSCodium, Cursor and Windsurf; and Cline's CLI data dir ``~/.cline/data/tasks/<task id>/``
(``cline-cli``). :mod:`.layout` says where, and how ``TOKENBUDDY_VSCODE_USER_DIR``
replaces the defaults.

The document is a JSON array of ``ClineMessage`` (``ts`` in epoch ms, ``type`` ``say``
or ``ask``, ``say``, ``text``, and in Cline 3.x+ ``modelInfo {providerId, modelId}``).
Usage lives in these ``say`` messages, their ``text`` the JSON of ``ClineApiReqInfo``:

- ``api_req_started``: one model call. Written when the request starts (``{request}``,
  or Roo's ``{apiProtocol}``), rewritten once the stream ends with ``tokensIn``,
  ``tokensOut``, ``cacheWrites``, ``cacheReads`` and ``cost``; a cancelled or failed
  stream gets ``cancelReason``/``streamingFailedMessage`` and whatever usage arrived.
  A request is keyed by its task id and ``ts`` (the same across rewrites and copies)
  and becomes a request once it has usage; :mod:`.usage` says what ``tokensIn`` means.
- ``api_req_finished`` (Claude Dev 1.x): the counts of the ``api_req_started`` before
  it, merged into it as Cline's ``combineApiRequests`` does.
- ``deleted_api_reqs``: the summed counts of the requests a checkpoint restore or a
  message edit deleted (Cline ``src/core/task/index.ts``, restore of type ``task``),
  so the task's total survives the deletion. Those requests were counted already if an
  earlier read saw them: the entry is counted, as one request, only when none of the
  requests earlier reads counted has vanished (decided once, kept in the state).
- ``subagent_usage``: the summed usage of Cline's subagents, which write no requests of
  their own: one subagent request (``is_sidechain``).

The model is the message's ``modelInfo.modelId``, else the request's own ``modelId``/
``model`` (some forks), else the entry of Cline's ``task_metadata.json`` ``model_usage``
in force at the request's ``ts``, else (Roo Code, Kilo Code) the ``<model>`` of the
``# Current Mode`` section of the environment details the request's ``request`` text
carries (Roo ``src/core/environment/getEnvironmentDetails.ts``), or the one the task's
previous request named; none: unpriced. A DeepSeek model's ``cacheWrites`` are its cache
misses (Cline ``src/core/api/providers/deepseek.ts``), counted as input.
``cost`` is kept as the extension's own figure. The project is Roo's and Kilo's
``history_item.json`` ``workspace``, else the working directory the first request's
environment details name. A Roo/Kilo subtask (``parentTaskId``) is subagent work of its
root task. Prompts: the task's first message (``say: task``, not a subtask's) and
``user_feedback``.

Sources read: Cline ``src/shared/ExtensionMessage.ts`` (``ClineMessage``,
``ClineApiReqInfo``, ``ClineSubagentUsageInfo``), ``src/shared/getApiMetrics.ts``,
``src/shared/combineApiRequests.ts``, ``src/core/task/index.ts`` (the usage chunks'
sums, ``deleted_api_reqs``), ``src/core/api/providers/openai.ts``/``openrouter.ts``,
``src/core/storage/disk.ts`` (``GlobalFileNames``, ``task_metadata.json``); Roo Code
``packages/types`` (``ClineApiReqInfo.apiProtocol``, ``HistoryItem``),
``src/shared/cost.ts`` and ``src/core/task/Task.ts``; Kilo Code's ``ClineApiReqInfo``
(``usageMissing``, ``inferenceProvider``) and ``packages/types/src/message.ts``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from tokenbuddy.sources.cline.layout import DOCUMENT_NAMES, GLOBAL_STORAGE, find, log_dirs

if TYPE_CHECKING:
    from tokenbuddy.core.records import ParseStats
    from tokenbuddy.sources.documents import DocumentRead

HOME_DIRS = (GLOBAL_STORAGE,)
"""A ``User`` dir named on the command line is read for its ``globalStorage``."""
WATCHED_NAMES = frozenset(DOCUMENT_NAMES)
"""The files whose writes mean a task saved its messages."""


def claims(path: str) -> bool:
    """Whether a written file is a task's messages document."""
    return os.path.basename(path) in WATCHED_NAMES


def read(path: str, state: dict[str, Any], stats: ParseStats) -> DocumentRead:
    """One task's messages document (see :func:`.task.read`); the reader, which needs the
    registry's types, loads on first use, as the registry loads this package."""
    from tokenbuddy.sources.cline.task import read as read_task

    return read_task(path, state, stats)


__all__ = ["HOME_DIRS", "WATCHED_NAMES", "find", "log_dirs", "read"]
