"""Qwen Code session files, built from the ``ChatRecord`` shape its chat recording writes
(``packages/core/src/services/chatRecordingService.ts`` in QwenLM/qwen-code, the
versions that keep sessions in ``~/.qwen/projects/<sanitized cwd>/chats/<id>.jsonl``).

Assistant records carry ``usageMetadata`` as Qwen's OpenAI-compatible converter fills
it (``openaiContentGenerator/converter.ts``): the prompt with its cached part, the
completion with its reasoning part, and a total of prompt + completion.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

import orjson

MODELS = ("qwen3-coder-plus", "coder-model", "qwen3-coder-flash")


def usage(prompt: int, completion: int, cached: int = 0, reasoning: int = 0) -> dict[str, int]:
    """``usageMetadata`` of an OpenAI-compatible call (reasoning inside the completion)."""
    return {"promptTokenCount": prompt, "candidatesTokenCount": completion,
            "totalTokenCount": prompt + completion, "cachedContentTokenCount": cached,
            "thoughtsTokenCount": reasoning}  # fmt: skip


def sanitized(cwd: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in cwd)


class Session:
    """One session file, appended to record by record as Qwen Code does."""

    def __init__(self, home: Path, session_id: str, cwd: str) -> None:
        self.path = home / "projects" / sanitized(cwd) / "chats" / f"{session_id}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.session_id = session_id
        self.cwd = cwd
        self.parent: str | None = None

    def record(self, kind: str, at: str, uid: str | None = None, **fields: Any) -> dict[str, Any]:
        record = {"uuid": uid or str(uuid.uuid4()), "parentUuid": self.parent,
                  "sessionId": self.session_id, "timestamp": at, "type": kind,
                  "cwd": self.cwd, "version": "0.5.0", "gitBranch": "main"} | fields  # fmt: skip
        self.parent = record["uuid"]
        self.append(record)
        return record

    def user(self, at: str, text: str = "add a test", **fields: Any) -> dict[str, Any]:
        return self.record(
            "user", at, message={"role": "user", "parts": [{"text": text}]}, **fields
        )

    def assistant(
        self, at: str, model: str, metadata: dict[str, Any] | None, uid: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:  # fmt: skip
        message = {"role": "model", "parts": [{"text": "Done."}]}
        extra = {"usageMetadata": metadata} if metadata is not None else {}
        return self.record("assistant", at, uid, model=model, message=message, **extra, **fields)

    def telemetry(self, at: str, metadata: dict[str, int]) -> None:
        event = {"event.name": "qwen-code.api_response",
                 "input_token_count": metadata["promptTokenCount"],
                 "output_token_count": metadata["candidatesTokenCount"]}  # fmt: skip
        self.record("system", at, subtype="ui_telemetry", systemPayload={"uiEvent": event})

    def append(self, record: dict[str, Any] | bytes) -> None:
        line = record if isinstance(record, bytes) else orjson.dumps(record) + b"\n"
        with open(self.path, "ab") as handle:
            handle.write(line)


def history(root: Path, sessions: int, calls: int, seed: int = 0) -> None:
    """A large realistic Qwen home: ``sessions`` sessions of ``calls`` calls each, with
    prompts, tool results and the ui_telemetry record that follows each call."""
    rng = random.Random(seed)
    for number in range(sessions):
        session_id = str(uuid.UUID(int=rng.getrandbits(128)))
        session = Session(root, session_id, f"/home/dev/project-{number % 4}")
        model = MODELS[number % len(MODELS)]
        for call in range(calls):
            at = f"2025-12-{1 + number % 28:02d}T{9 + call % 10:02d}:{call % 60:02d}:00.000Z"
            if call % 4 == 0:
                session.user(at, "x" * rng.randint(20, 400))
            prompt = rng.randint(2_000, 90_000)
            metadata = usage(prompt, rng.randint(50, 3_000), rng.randint(0, prompt))
            session.assistant(at, model, metadata)
            session.telemetry(at, metadata)
            output = {"functionResponse": {"response": {"output": "y" * rng.randint(100, 4000)}}}
            session.record("tool_result", at, message={"role": "user", "parts": [output]})
