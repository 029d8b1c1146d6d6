"""Task files as Cline, Roo Code and Kilo Code write them, built from their documented
shapes (``ClineMessage``, ``ClineApiReqInfo``, ``HistoryItem``, ``task_metadata.json``).

Versions they stand for:

- Claude Dev 1.x (Cline's first name): ``claude_messages.json``, the request's text
  ``{request}`` and its counts in the ``api_req_finished`` message after it;
- Cline 2.x-3.x: ``ui_messages.json``, counts filled into ``api_req_started`` once the
  stream ends, the model only in ``task_metadata.json`` ``model_usage``;
- Cline 3.2x+: messages carry ``modelInfo {providerId, modelId}``; ``deleted_api_reqs``
  after a checkpoint restore, ``subagent_usage`` for subagents;
- Roo Code 3.2x / Kilo Code 4.x: ``apiProtocol`` in every request, ``history_item.json``
  with ``workspace`` and, for a subtask, ``parentTaskId``/``rootTaskId``; the model only
  in the ``# Current Mode`` section of the environment details the request's text
  carries (``<slug>``, ``<name>``, ``<model>``: Roo ``getEnvironmentDetails``).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson

CLINE = "saoudrizwan.claude-dev"
ROO = "rooveterinaryinc.roo-cline"
KILO = "kilocode.kilo-code"
BASE_TS = 1_772_360_000_000
"""2026-03-01T10:13:20Z, in epoch ms."""
CWD = "/home/dev/shop"


def environment(cwd: str = CWD, noun: str = "Working") -> str:
    """A request's text as the extensions write it, environment details included."""
    return (
        "<task>\nfix the tests\n</task>\n\n<environment_details>\n"
        f"# Current {noun} Directory ({cwd}) Files\nsrc/\n</environment_details>"
    )


def roo_environment(model: str, cwd: str = CWD) -> str:
    """A Roo Code / Kilo Code request's text: the environment details name the mode and
    the model the request goes to."""
    return (
        "<task>\nfix the tests\n</task>\n\n<environment_details>\n# Current Time\n2026-03-01\n\n"
        f"# Current Mode\n<slug>code</slug>\n<name>Code</name>\n<model>{model}</model>\n\n"
        f"# Current Workspace Directory ({cwd}) Files\nsrc/\n</environment_details>"
    )


def started(ts: int, info: dict[str, Any]) -> dict[str, Any]:
    """An ``api_req_started`` message whose text is ``info``."""
    return {"ts": ts, "type": "say", "say": "api_req_started", "text": orjson.dumps(info).decode()}


def usage(
    tokens_in: int,
    tokens_out: int,
    cache_writes: int = 0,
    cache_reads: int = 0,
    cost: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ``ClineApiReqInfo`` once its stream ended."""
    info: dict[str, Any] = {
        "tokensIn": tokens_in,
        "tokensOut": tokens_out,
        "cacheWrites": cache_writes,
        "cacheReads": cache_reads,
        **extra,
    }
    if cost is not None:
        info["cost"] = cost
    return info


def said(ts: int, say: str, text: str = "", **extra: Any) -> dict[str, Any]:
    """Any other ``say`` message."""
    return {"ts": ts, "type": "say", "say": say, "text": text, **extra}


def with_model(message: dict[str, Any], model: str, provider: str) -> dict[str, Any]:
    """A Cline 3.2x+ message, naming the model it was made with."""
    return {**message, "modelInfo": {"providerId": provider, "modelId": model, "mode": "act"}}


def task_dir(storage: Path, extension: str, task_id: str) -> Path:
    """``<globalStorage>/<extension>/tasks/<task id>/``, created."""
    path = storage / extension / "tasks" / task_id
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_messages(
    directory: Path, messages: list[dict[str, Any]], name: str = "ui_messages.json"
) -> Path:
    """The task's messages document, rewritten whole as the extensions do."""
    path = directory / name
    path.write_bytes(orjson.dumps(messages))
    return path


def write_metadata(directory: Path, *models: tuple[int, str, str]) -> None:
    """Cline's ``task_metadata.json``, its ``model_usage`` from (ts, model, provider)."""
    entries = [
        {"ts": ts, "model_id": model, "model_provider_id": provider, "mode": "act"}
        for ts, model, provider in models
    ]
    metadata = {"files_in_context": [], "model_usage": entries, "environment_history": []}
    (directory / "task_metadata.json").write_bytes(orjson.dumps(metadata))


def write_history_item(directory: Path, workspace: str, parent: str = "") -> None:
    """Roo's and Kilo's ``history_item.json``; a subtask names its parent and root."""
    item: dict[str, Any] = {
        "id": directory.name,
        "number": 1,
        "ts": BASE_TS,
        "task": "fix the tests",
        "tokensIn": 0,
        "tokensOut": 0,
        "totalCost": 0,
        "workspace": workspace,
        "mode": "code",
    }
    if parent:
        item |= {"parentTaskId": parent, "rootTaskId": parent}
    (directory / "history_item.json").write_bytes(orjson.dumps(item))


def history(root: Path, sessions: int, calls: int, seed: int = 0) -> None:
    """A large history under a ``User`` dir: ``sessions`` tasks of ``calls`` requests,
    spread over the three extensions, each request's text carrying a realistic
    request body (the bulk of real files)."""
    rng = random.Random(seed)
    storage = root / "globalStorage"
    extensions = (CLINE, ROO, KILO)
    body = environment() + "\n" + "x" * 2000
    for session in range(sessions):
        extension = extensions[session % 3]
        directory = task_dir(storage, extension, f"task-{seed}-{session:05d}")
        ts = BASE_TS + session * 3_600_000
        messages = [said(ts, "task", "fix the tests")]
        for _call in range(calls):
            ts += rng.randint(2_000, 60_000)
            info = usage(rng.randint(1, 900), rng.randint(50, 4000), rng.randint(0, 8000))
            info |= {"cacheReads": rng.randint(0, 90_000), "cost": 0.01, "request": body}
            if extension != CLINE:
                info["apiProtocol"] = "anthropic"
            messages += [started(ts, info), said(ts + 1, "text", "done " * 40)]
        write_messages(directory, messages)
        if extension == CLINE:
            write_metadata(directory, (BASE_TS, "claude-sonnet-4-5-20250929", "anthropic"))
        else:
            write_history_item(directory, CWD)
