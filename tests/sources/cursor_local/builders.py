"""Building Cursor ``state.vscdb`` files from the documented shapes (no real Cursor data is public).

The shapes follow FORMATS.md §6 and the issue: table ``cursorDiskKV(key, value)`` with
``composerData:<id>`` and ``bubbleId:<composerId>:<bubbleId>`` values, and the workspace
databases' ``ItemTable`` item ``composer.composerData``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson

NOW_MS = 1_763_650_000_000
"""2025-11-20T14:46:40Z."""


def iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def create_store(user_dir: Path, *, wal: bool = True) -> Path:
    """An empty global ``state.vscdb`` under ``user_dir/globalStorage``."""
    path = user_dir / "globalStorage" / "state.vscdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        if wal:
            db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)"
        )
        db.execute(
            "CREATE TABLE IF NOT EXISTS cursorDiskKV"
            " (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)"
        )
    return path


def put(path: Path, key: str, value: Any, db: sqlite3.Connection | None = None) -> None:
    """Store one value as Cursor does: JSON text in a BLOB column (raw bytes when ``bytes``)."""
    data = value if isinstance(value, bytes) else orjson.dumps(value)
    if db is not None:
        db.execute("INSERT INTO cursorDiskKV VALUES (?, ?)", (key, data))
        return
    with sqlite3.connect(path) as own:
        own.execute("INSERT INTO cursorDiskKV VALUES (?, ?)", (key, data))
    own.close()


def user_bubble(bubble_id: str, request_id: str, model: str, at_ms: int) -> dict[str, Any]:
    return {
        "_v": 2,
        "type": 1,
        "bubbleId": bubble_id,
        "requestId": request_id,
        "createdAt": iso(at_ms),
        "modelInfo": {"modelName": model},
        "tokenCount": {"inputTokens": 0, "outputTokens": 0},
    }


def assistant_bubble(
    bubble_id: str, request_id: str, at_ms: int, tokens: tuple[int, int] | None
) -> dict[str, Any]:
    bubble: dict[str, Any] = {
        "_v": 2,
        "type": 2,
        "bubbleId": bubble_id,
        "requestId": request_id,
        "createdAt": iso(at_ms),
    }
    if tokens is not None:
        bubble["tokenCount"] = {"inputTokens": tokens[0], "outputTokens": tokens[1]}
    return bubble


def split_composer(
    path: Path,
    composer_id: str,
    turns: list[tuple[str, int, tuple[int, int] | None]],
    *,
    version: int = 3,
    updated_ms: int | None = None,
) -> None:
    """A modern composer: headers in ``composerData``, each bubble under its own key.

    ``turns`` are (model, time, (input, output) tokens or None for no tokenCount).
    """
    headers, bubbles = [], []
    for number, (model, at_ms, tokens) in enumerate(turns):
        request = f"req-{composer_id}-{number}"
        user = user_bubble(f"u{number}", request, model, at_ms - 1000)
        answer = assistant_bubble(f"a{number}", request, at_ms, tokens)
        bubbles += [user, answer]
        headers += [{"bubbleId": f"u{number}", "type": 1}, {"bubbleId": f"a{number}", "type": 2}]
    last = updated_ms or max((t[1] for t in turns), default=NOW_MS)
    composer = {
        "_v": version,
        "composerId": composer_id,
        "createdAt": last - 60_000,
        "lastUpdatedAt": last,
        "modelConfig": {"modelName": turns[0][0] if turns else "default"},
        "fullConversationHeadersOnly": headers,
    }
    with sqlite3.connect(path) as db:
        put(path, f"composerData:{composer_id}", composer, db)
        for bubble in bubbles:
            put(path, f"bubbleId:{composer_id}:{bubble['bubbleId']}", bubble, db)
    db.close()


def workspace(user_dir: Path, name: str, folder: str, composer_ids: list[str]) -> None:
    """A workspace dir: ``workspace.json`` and a ``state.vscdb`` listing its composers."""
    directory = user_dir / "workspaceStorage" / name
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "workspace.json").write_bytes(orjson.dumps({"folder": f"file://{folder}"}))
    with sqlite3.connect(directory / "state.vscdb") as db:
        db.execute("CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
        value = {"allComposers": [{"composerId": c} for c in composer_ids]}
        db.execute(
            "INSERT INTO ItemTable VALUES ('composer.composerData', ?)", (orjson.dumps(value),)
        )
    db.close()
