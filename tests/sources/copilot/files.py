"""Copilot files built from their documented shapes (no real user's data).

- CLI events: github/copilot-sdk ``session-events.ts`` as of CLI 0.0.4xx (events with
  ``outputTokens`` on ``assistant.message`` and ``modelMetrics`` at ``session.shutdown``);
  ``session.usage_checkpoint`` stands for the later builds that restore totals on resume;
  ``tokenDetails``-only shutdowns for the earlier ones.
- VS Code chats: ``ISerializableChatData`` v3 as a ``.json`` document (VS Code before the
  mutation log) and as a ``.jsonl`` mutation log (VS Code 1.10x on).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

BASE_MS = 1_790_000_000_000  # 2026-09-21T13:33:20Z


def iso(ms: int) -> str:
    """An ISO timestamp as the CLI writes it."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def event(kind: str, ms: int, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One CLI event line."""
    return {"type": kind, "data": data, "id": f"e{ms}-{kind}", "timestamp": iso(ms),
            "parentId": None, **extra}  # fmt: skip


def start(ms: int, session: str, model: str, cwd: str = "/home/dev/app") -> dict[str, Any]:
    """``session.start`` of a CLI session."""
    return event("session.start", ms, {
        "sessionId": session, "version": 1, "producer": "copilot-agent",
        "copilotVersion": "0.0.420", "startTime": iso(ms), "selectedModel": model,
        "context": {"cwd": cwd, "gitRoot": cwd},
    })  # fmt: skip


def prompt(ms: int, text: str = "fix the tests") -> dict[str, Any]:
    """A person's prompt."""
    return event("user.message", ms, {"content": text, "messageId": f"u{ms}"})


def message(ms: int, output: int, model: str | None = None, call: str = "") -> dict[str, Any]:
    """An assistant message with its output tokens."""
    data: dict[str, Any] = {"messageId": f"m{ms}", "content": "done", "outputTokens": output}
    if model:
        data["model"] = model
    if call:
        data["apiCallId"] = call
    return event("assistant.message", ms, data)


def metric(prompt_tokens: int, output: int, cache_read: int, cache_write: int = 0,
           premium: float = 1.0, nano: int | None = None) -> dict[str, Any]:  # fmt: skip
    """One ``modelMetrics`` entry."""
    entry: dict[str, Any] = {
        "requests": {"count": 3, "cost": premium},
        "usage": {"inputTokens": prompt_tokens, "outputTokens": output,
                  "cacheReadTokens": cache_read, "cacheWriteTokens": cache_write},
    }  # fmt: skip
    if nano is not None:
        entry["totalNanoAiu"] = nano
    return entry


def shutdown(ms: int, metrics: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """``session.shutdown`` with per-model metrics."""
    return event("session.shutdown", ms, {
        "shutdownType": "routine", "totalApiDurationMs": 1000, "sessionStartTime": BASE_MS,
        "codeChanges": {"linesAdded": 1, "linesRemoved": 0, "filesModified": []},
        "modelMetrics": metrics, **extra,
    })  # fmt: skip


def lines(*events: dict[str, Any]) -> bytes:
    """Events as JSONL bytes."""
    return b"".join(json.dumps(item).encode() + b"\n" for item in events)


def cli_session(home: Path, session: str, *events: dict[str, Any]) -> Path:
    """``<home>/session-state/<session>/events.jsonl`` holding ``events``."""
    path = home / "session-state" / session / "events.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(lines(*events))
    return path


def request(
    request_id: str,
    ms: int,
    prompt_tokens: int,
    output: int,
    *,
    model: str = "copilot/claude-sonnet-4.5",
    nano: int | None = None,
    details: str = "Claude Sonnet 4.5 • 1x",
    text: str = "why?",
) -> dict[str, Any]:
    """One chat request with the Copilot Chat extension's result metadata."""
    rounds = [{"response": "x", "thinking": {"tokens": 5}}]
    metadata: dict[str, Any] = {
        "promptTokens": prompt_tokens, "outputTokens": output, "toolCallRounds": rounds,
    }  # fmt: skip
    if nano is not None:
        metadata["copilotUsageNanoAiu"] = nano
    return {"requestId": request_id, "timestamp": ms, "modelId": model,
            "message": {"text": text, "parts": []}, "response": [],
            "result": {"timings": {"totalElapsed": 2000}, "details": details,
                       "metadata": metadata}}  # fmt: skip


def chat(session: str, *requests: dict[str, Any]) -> dict[str, Any]:
    """An ``ISerializableChatData`` v3 document."""
    return {"version": 3, "sessionId": session, "creationDate": BASE_MS,
            "requests": list(requests), "responderUsername": "GitHub Copilot"}  # fmt: skip


def workspace(user: Path, name: str, folder: str) -> Path:
    """``workspaceStorage/<name>`` with its ``workspace.json``; returns its chatSessions."""
    storage = user / "workspaceStorage" / name
    (storage / "chatSessions").mkdir(parents=True, exist_ok=True)
    (storage / "workspace.json").write_text(json.dumps({"folder": folder}))
    return storage / "chatSessions"


def mutation_log(initial: dict[str, Any], *entries: dict[str, Any]) -> bytes:
    """A ``.jsonl`` chat: the initial state, then mutations."""
    return lines({"kind": 0, "v": initial}, *entries)


def history(root: Path, sessions: int, calls: int, seed: int = 0) -> None:
    """A large history: CLI sessions under ``root/.copilot`` and VS Code chats (half as
    documents, half as mutation logs) under ``root/Code/User``."""
    rng = random.Random(seed)
    for number in range(sessions):
        ms = BASE_MS + number * 7_200_000
        session = f"s{seed}-{number:05d}"
        cli_session(root / ".copilot", session, *cli_history(rng, session, ms, calls))
        folder = workspace(root / "Code" / "User", f"w{number % 20:03d}", f"file:///p{number % 20}")
        items = [
            request(f"{session}-r{i}", ms + i * 60_000, rng.randint(500, 90_000),
                    rng.randint(10, 2000), nano=rng.choice([None, 2 * 10**8]))
            for i in range(calls)
        ]  # fmt: skip
        if number % 2:
            (folder / f"{session}.json").write_text(json.dumps(chat(session, *items)))
        else:
            pushes = [{"kind": 2, "k": ["requests"], "v": [item]} for item in items[1:]]
            log = mutation_log(chat(session, *items[:1]), *pushes)
            (folder / f"{session}.jsonl").write_bytes(log)


def cli_history(rng: random.Random, session: str, ms: int, calls: int) -> list[dict[str, Any]]:
    """One CLI session of ``calls`` prompts and answers, ended by a shutdown."""
    events = [start(ms, session, "claude-sonnet-4.5")]
    for call in range(calls):
        at = ms + call * 60_000
        events += [prompt(at + 1), message(at + 2, rng.randint(50, 900))]
    totals = metric(rng.randint(10_000, 900_000), 900 * calls, rng.randint(0, 9_000), nano=10**9)
    return [*events, shutdown(ms + calls * 60_000, {"claude-sonnet-4.5": totals})]
