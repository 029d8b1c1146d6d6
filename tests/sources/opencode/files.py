"""OpenCode data directories built from OpenCode's documented shapes, per version.

- :class:`Store`: ``opencode.db`` as OpenCode 1.2 and later create it (the Drizzle tables
  of packages/opencode/src/session/session.sql.ts: ``session`` with its rollup columns,
  ``message`` and ``part`` with ``data`` JSON and ``time_created``/``time_updated``), in
  WAL mode as OpenCode opens it.
- :func:`write_message` / :func:`write_part` / :func:`write_session`: the JSON storage of
  OpenCode 0.4 to 1.1 (``storage/message/<session>/<id>.json`` ...).
- :func:`write_first_layout`: OpenCode 0.0.x's per-project layout and message format
  (``project/<name>/storage/session/message/...``, figures in ``metadata.assistant``).
- :func:`assistant`: an assistant message; ``era`` picks the token meaning: ``v6`` (AI SDK
  v6, OpenCode 1.1+: ``total`` present, ``output`` without reasoning), ``v5`` (AI SDK v5
  after the cache fix of 2025-11-12: ``total`` present, ``output`` with reasoning) or
  ``old`` (before the fix: no ``total``, ``input`` counting the cache for
  OpenAI-compatible providers).
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import orjson

SCHEMA = """
CREATE TABLE project (id TEXT PRIMARY KEY, worktree TEXT NOT NULL, time_created INTEGER NOT NULL,
  time_updated INTEGER NOT NULL);
CREATE TABLE session (id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES project(id),
  parent_id TEXT, slug TEXT NOT NULL, directory TEXT NOT NULL, title TEXT NOT NULL,
  version TEXT NOT NULL, cost REAL NOT NULL DEFAULT 0, tokens_input INTEGER NOT NULL DEFAULT 0,
  tokens_output INTEGER NOT NULL DEFAULT 0, tokens_reasoning INTEGER NOT NULL DEFAULT 0,
  tokens_cache_read INTEGER NOT NULL DEFAULT 0, tokens_cache_write INTEGER NOT NULL DEFAULT 0,
  time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL);
CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES session(id),
  time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX message_session_time_created_id_idx ON message (session_id, time_created, id);
CREATE TABLE part (id TEXT PRIMARY KEY, message_id TEXT NOT NULL REFERENCES message(id),
  session_id TEXT NOT NULL, time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL,
  data TEXT NOT NULL);
CREATE INDEX part_message_id_id_idx ON part (message_id, id);
"""

T0 = 1_767_261_600_000
"""2026-01-01T10:00:00Z."""


def tokens(
    fed: int, out: int, reasoning: int = 0, read: int = 0, write: int = 0, era: str = "v6"
) -> dict[str, Any]:
    """A ``tokens`` object for a call of ``fed`` uncached input, ``out`` output (reasoning
    included), ``read``/``write`` cache, as OpenCode of ``era`` stored it."""
    if era == "v6":
        total = fed + read + write + out
        stored = {"total": total, "input": fed, "output": out - reasoning, "reasoning": reasoning}
    elif era == "v5":
        stored = {"total": fed + read + write + out, "input": fed, "output": out}
        stored["reasoning"] = reasoning
    else:
        stored = {"input": fed + read + write, "output": out, "reasoning": reasoning}
    return {**stored, "cache": {"read": read, "write": write}}


def assistant(
    message_id: str,
    session: str,
    at_ms: int,
    usage: dict[str, Any],
    *,
    cost: float = 0.0,
    model: str = "claude-sonnet-4-5",
    provider: str = "anthropic",
    cwd: str = "/home/dev/app",
    completed: bool = True,
    agent: str = "build",
) -> dict[str, Any]:
    """An assistant message (``MessageV2.Assistant``)."""
    time = {"created": at_ms, "completed": at_ms + 4000} if completed else {"created": at_ms}
    return {
        "id": message_id, "sessionID": session, "role": "assistant", "time": time,
        "parentID": "msg_user", "modelID": model, "providerID": provider, "mode": agent,
        "agent": agent, "path": {"cwd": cwd, "root": cwd}, "cost": cost, "tokens": usage,
        "finish": "stop" if completed else None,
    }  # fmt: skip


def user(message_id: str, session: str, at_ms: int) -> dict[str, Any]:
    """A user message (``MessageV2.User``)."""
    return {
        "id": message_id, "sessionID": session, "role": "user", "time": {"created": at_ms},
        "agent": "build", "model": {"providerID": "anthropic", "modelID": "claude-sonnet-4-5"},
    }  # fmt: skip


def step(
    part_id: str, message: dict[str, Any], usage: dict[str, Any], cost: float
) -> dict[str, Any]:
    """A ``step-finish`` part: one model call's usage within a message."""
    return {
        "id": part_id, "sessionID": message["sessionID"], "messageID": message["id"],
        "type": "step-finish", "reason": "tool-calls", "snapshot": "4b825dc", "cost": cost,
        "tokens": usage,
    }  # fmt: skip


def text_part(part_id: str, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": part_id, "sessionID": message["sessionID"], "messageID": message["id"],
        "type": "text", "text": "Done: step-finish parts follow.",
    }  # fmt: skip


class Store:
    """An ``opencode.db`` being written as OpenCode writes it (WAL mode)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        if not self.db.execute("SELECT name FROM sqlite_master WHERE name='message'").fetchone():
            self.db.executescript(SCHEMA)
            self.db.execute("INSERT INTO project VALUES ('global', '/', ?, ?)", (T0, T0))

    def session(self, session_id: str, directory: str = "/home/dev/app", parent: str = "") -> None:
        """A session row, with rollup columns that repeat its usage (never to be read)."""
        self.db.execute(
            "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version,"
            " cost, tokens_input, tokens_output, time_created, time_updated)"
            " VALUES (?, 'global', ?, 's', ?, 't', '1.2.6', 99.0, 999999, 999999, ?, ?)",
            (session_id, parent or None, directory, T0, T0),
        )

    def message(self, message: dict[str, Any], updated_ms: int) -> None:
        """Insert or update a message row (``data`` without ``id`` and ``sessionID``)."""
        data = {k: v for k, v in message.items() if k not in {"id", "sessionID"}}
        self.db.execute(
            "INSERT INTO message VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
            " time_updated = excluded.time_updated, data = excluded.data",
            (message["id"], message["sessionID"], message["time"]["created"], updated_ms,
             orjson.dumps(data).decode()),
        )  # fmt: skip

    def part(self, part: dict[str, Any], at_ms: int) -> None:
        data = {k: v for k, v in part.items() if k not in {"id", "sessionID", "messageID"}}
        self.db.execute(
            "INSERT OR REPLACE INTO part VALUES (?, ?, ?, ?, ?, ?)",
            (part["id"], part["messageID"], part["sessionID"], at_ms, at_ms,
             orjson.dumps(data).decode()),
        )  # fmt: skip

    def close(self) -> None:
        self.db.close()


def write_json(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(value, option=orjson.OPT_INDENT_2))
    return path


def write_message(home: Path, message: dict[str, Any]) -> Path:
    """``storage/message/<session>/<id>.json`` (OpenCode 0.4 to 1.1)."""
    return write_json(
        home / "storage/message" / message["sessionID"] / f"{message['id']}.json", message
    )


def write_part(home: Path, part: dict[str, Any]) -> Path:
    return write_json(home / "storage/part" / part["messageID"] / f"{part['id']}.json", part)


def write_session(home: Path, session_id: str, directory: str, parent: str = "") -> Path:
    session = {"id": session_id, "projectID": "p1", "directory": directory, "title": "t",
               "version": "0.9.0", "time": {"created": T0, "updated": T0}}  # fmt: skip
    if parent:
        session["parentID"] = parent
    return write_json(home / "storage/session/p1" / f"{session_id}.json", session)


def write_first_layout(home: Path, session: str, message_id: str, at_ms: int) -> Path:
    """A message of OpenCode 0.0.x's per-project layout, figures in ``metadata.assistant``:
    1200 input (cache included, OpenAI-compatible), 800 of it cache reads, 300 output."""
    message = {
        "id": message_id, "role": "assistant", "parts": [],
        "metadata": {
            "time": {"created": at_ms, "completed": at_ms + 2000}, "sessionID": session,
            "tool": {},
            "assistant": {
                "system": [], "modelID": "gpt-4.1", "providerID": "openai",
                "path": {"cwd": "/home/dev/old", "root": "/home/dev/old"}, "cost": 0.0123,
                "tokens": {"input": 1200, "output": 300, "reasoning": 0,
                           "cache": {"read": 800, "write": 0}},
            },
        },
    }  # fmt: skip
    store = home / "project/home-dev-old/storage/session"
    write_json(store / "info" / f"{session}.json", {"id": session, "title": "old"})
    return write_json(store / "message" / session / f"{message_id}.json", message)


MODELS = [("anthropic", "claude-sonnet-4-5"), ("openai", "gpt-5.1"), ("google", "gemini-2.5-pro")]


def history(root: Path, sessions: int, calls: int, seed: int = 0) -> None:
    """A large realistic history under an OpenCode data directory: ``sessions`` sessions
    of ``calls`` assistant messages each, half in ``opencode.db`` and half as JSON files
    (also copied into the database, as OpenCode's migration does), each with two steps."""
    rng = random.Random(seed)
    store = Store(root / "opencode.db")
    store.db.execute("BEGIN")
    for s in range(sessions):
        session_id = f"ses_{s:06d}"
        store.session(session_id)
        legacy = s % 2 == 0
        if legacy:
            write_session(root, session_id, "/home/dev/app")
        for c in range(calls):
            at = T0 + (s * calls + c) * 60_000
            provider, model = rng.choice(MODELS)
            first = tokens(rng.randint(10, 3000), rng.randint(50, 2000), 0, rng.randint(0, 90_000))
            second = tokens(rng.randint(10, 3000), rng.randint(50, 2000), 0, rng.randint(0, 90_000))
            message = assistant(f"msg_{s:06d}_{c:05d}", session_id, at, second, cost=0.02,
                                model=model, provider=provider)  # fmt: skip
            steps = [step(f"prt_{s:06d}_{c:05d}_{n}", message, u, 0.01)
                     for n, u in enumerate((first, second))]  # fmt: skip
            store.message(message, at + 4000)
            for part in steps:
                store.part(part, at + 4000)
            if legacy:
                write_message(root, message)
                for part in steps:
                    write_part(root, part)
    store.db.execute("COMMIT")
    store.close()
