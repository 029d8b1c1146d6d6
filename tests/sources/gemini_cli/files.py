"""Gemini CLI chat files, built from the shapes its chat recording writes.

Two versions of the recording (``packages/core/src/services/chatRecordingService.ts`` and
``chatRecordingTypes.ts`` in google-gemini/gemini-cli):

- :func:`legacy_chat`: the ``session-<time>-<id8>.json`` document of the versions that
  rewrote one ``ConversationRecord`` whole on every message, under a ``tmp/<sha256 of
  the project root>`` dir;
- :class:`JsonlChat`: the current ``session-<time>-<id8>.jsonl``: a metadata line, each
  message appended again whenever it changes, ``$set`` updates and ``$rewindTo`` marks,
  under a ``tmp/<slug>`` dir whose ``.project_root`` names the root; subagents' chats in
  ``chats/<parent session id>/<id>.jsonl``.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from pathlib import Path
from typing import Any

import orjson

MODELS = ("gemini-2.5-pro", "gemini-2.5-flash", "gemini-3-pro-preview")


def tokens(
    prompt: int, output: int, cached: int = 0, thoughts: int = 0, tool: int = 0
) -> dict[str, int]:
    """A message's ``tokens`` as Gemini CLI copies them from the API's usage metadata:
    ``input`` is the whole prompt (cached included), the total adds thoughts and tool."""
    total = prompt + output + thoughts + tool
    return {"input": prompt, "output": output, "cached": cached, "thoughts": thoughts,
            "tool": tool, "total": total}  # fmt: skip


def user(message_id: str, at: str, text: str = "fix the failing test") -> dict[str, Any]:
    return {"id": message_id, "timestamp": at, "type": "user", "content": [{"text": text}]}


def gemini(
    message_id: str, at: str, model: str | None, usage: dict[str, Any] | None, **extra: Any
) -> dict[str, Any]:
    """A ``gemini`` message; ``usage`` None is a message whose tokens are not known yet."""
    message = {"id": message_id, "timestamp": at, "type": "gemini", "content": "Done.",
               "thoughts": [], "tokens": usage, "model": model}  # fmt: skip
    return message | extra


def project_hash(root: str) -> str:
    return hashlib.sha256(root.encode()).hexdigest()


def project_dir(home: Path, name: str, root: str | None = None) -> Path:
    """``tmp/<name>`` under a Gemini home, with a ``.project_root`` naming ``root``."""
    directory = home / "tmp" / name
    (directory / "chats").mkdir(parents=True, exist_ok=True)
    if root is not None:
        (directory / ".project_root").write_text(root, encoding="utf-8")
    return directory


def register(home: Path, roots: dict[str, str]) -> None:
    """``projects.json``: ``{root: slug}``."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "projects.json").write_bytes(
        orjson.dumps({"projects": roots}, option=orjson.OPT_INDENT_2)
    )


def legacy_chat(
    directory: Path, session_id: str, root: str, messages: list[dict[str, Any]], name: str = ""
) -> Path:
    """Write (or rewrite, whole) a ``.json`` chat of the older versions."""
    path = directory / "chats" / (name or f"session-2025-09-01T10-00-{session_id[:8]}.json")
    record = {"sessionId": session_id, "projectHash": project_hash(root),
              "startTime": "2025-09-01T10:00:00.000Z", "lastUpdated": "2025-09-01T10:05:00.000Z",
              "messages": messages}  # fmt: skip
    path.write_bytes(orjson.dumps(record, option=orjson.OPT_INDENT_2))
    return path


class JsonlChat:
    """A current ``.jsonl`` chat, appended to as Gemini CLI does."""

    def __init__(self, path: Path, session_id: str, root: str, kind: str | None = None) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.append({"sessionId": session_id, "projectHash": project_hash(root),
                     "startTime": "2025-12-01T09:00:00.000Z",
                     "lastUpdated": "2025-12-01T09:00:00.000Z", "kind": kind})  # fmt: skip

    @classmethod
    def main(cls, directory: Path, session_id: str, root: str) -> JsonlChat:
        return cls(directory / "chats" / f"session-2025-12-01T09-00-{session_id[:8]}.jsonl",
                   session_id, root)  # fmt: skip

    @classmethod
    def subagent(cls, directory: Path, parent: str, session_id: str, root: str) -> JsonlChat:
        return cls(
            directory / "chats" / parent / f"{session_id}.jsonl", session_id, root, "subagent"
        )

    def append(self, record: dict[str, Any] | bytes) -> None:
        line = record if isinstance(record, bytes) else orjson.dumps(record) + b"\n"
        with open(self.path, "ab") as handle:
            handle.write(line)

    def update(self, **fields: Any) -> None:
        self.append({"$set": fields})


def history(root: Path, sessions: int, calls: int, seed: int = 0) -> None:
    """A large realistic Gemini home: ``sessions`` chats (one in five a legacy ``.json``)
    of ``calls`` calls each, across a few projects, each call's message written first
    without tokens, then again with them and its tool calls, as the recording does."""
    rng = random.Random(seed)
    roots = {f"/home/dev/project-{n}": f"project-{n}" for n in range(4)}
    register(root, roots)
    dirs = [project_dir(root, slug, path) for path, slug in roots.items()]
    for number in range(sessions):
        directory = dirs[number % len(dirs)]
        session_id = str(uuid.UUID(int=rng.getrandbits(128)))
        messages = _session_messages(rng, number, calls)
        if number % 5 == 4:
            final = [m for m in messages if m.get("tokens") is not None or m["type"] == "user"]
            legacy_chat(directory, session_id, "", final)
            continue
        chat = JsonlChat.main(directory, session_id, "")
        for message in messages:
            chat.append(message)


def _session_messages(rng: random.Random, number: int, calls: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    model = MODELS[number % len(MODELS)]
    for call in range(calls):
        at = f"2025-12-{1 + number % 28:02d}T{9 + call % 10:02d}:{call % 60:02d}:00.000Z"
        if call % 4 == 0:
            messages.append(
                user(str(uuid.UUID(int=rng.getrandbits(128))), at, "x" * rng.randint(20, 400))
            )
        message_id = str(uuid.UUID(int=rng.getrandbits(128)))
        prompt = rng.randint(2_000, 90_000)
        usage = tokens(
            prompt, rng.randint(50, 3_000), rng.randint(0, prompt), rng.randint(0, 2_000)
        )
        output = {"functionResponse": {"response": {"output": "y" * rng.randint(100, 4000)}}}
        tool_call = {"id": f"call-{call}", "name": "read_file", "args": {"path": "src/app.py"},
                     "status": "success", "timestamp": at, "result": [output]}  # fmt: skip
        messages.append(gemini(message_id, at, model, None))
        messages.append(gemini(message_id, at, model, usage, toolCalls=[tool_call]))
    return messages
