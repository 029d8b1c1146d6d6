"""OpenCode's SQLite store (``opencode.db``, OpenCode 1.2 and later), read incrementally.

The Drizzle schema (packages/opencode/src/session/session.sql.ts) has a ``session`` table
(``id``, ``parent_id``, ``directory``, and rollup columns ``cost``/``tokens_*`` that
repeat the messages' usage: never read), a ``message`` table (``id``, ``session_id``,
``time_created``, ``time_updated``, ``data``: the message JSON without its ``id`` and
``sessionID``) and a ``part`` table (``id``, ``message_id``, ``session_id``, times,
``data``). The JSON-to-SQLite migration (packages/opencode/src/storage/json-migration.ts)
copies every message and part under the same ids and leaves the old files on disk.

Each read takes the messages updated at or after the last read's latest ``time_updated``
(a watermark kept in the file's state), with their ``step-finish`` parts, in one
read-only snapshot; the connection is closed before returning. A database that is locked
or busy, half-written or not OpenCode's is a counted skip, its state kept, so the next
change reads it again.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.core.records import ParseStats, PromptMark, UsageRecord
from tokenbuddy.sources.cursor_local.database import open_consistent
from tokenbuddy.sources.documents import DocumentRead
from tokenbuddy.sources.opencode.calls import Session, is_step_finish, message_calls, prompt_of

if TYPE_CHECKING:
    from collections.abc import Iterable

DB_BUSY = "OpenCode database locked or busy (read again on its next change)"
DB_INVALID = "OpenCode database unreadable or half-written (read again on its next change)"
DB_NOT_OPENCODE = "SQLite file without OpenCode's message table"
BAD_ROW = "message row with invalid JSON data"
PART_BATCH = 500
"""Messages whose parts one query fetches (SQLite allows 999 parameters in old builds)."""
MAX_DEPTH = 16
"""How far up a chain of parent sessions is followed (a cycle stops there)."""


def read_database(path: str, state: dict[str, Any], stats: ParseStats) -> DocumentRead:
    """The calls and prompts in messages updated since ``state``'s watermark."""
    try:
        with open_consistent(Path(path)) as (db, _mode):
            return _read(db, state, stats)
    except sqlite3.OperationalError as error:
        text = str(error)
        if "unable to open" in text:
            raise OSError(text) from error
        stats.skip(DB_BUSY if "locked" in text or "busy" in text else DB_INVALID)
    except sqlite3.DatabaseError:
        stats.skip(DB_INVALID)
    return DocumentRead([], [], state, whole=False)


def _read(db: sqlite3.Connection, state: dict[str, Any], stats: ParseStats) -> DocumentRead:
    message_columns = _columns(db, "message")
    if not {"id", "session_id", "data"} <= message_columns:
        stats.skip(DB_NOT_OPENCODE)
        return DocumentRead([], [], state, whole=False)
    sessions = _sessions(db)
    incremental = "time_updated" in message_columns
    since = int(state.get("updated", 0)) if incremental else 0
    rows = _messages(db, since, incremental)
    steps = _steps(db, [row[0] for row in rows]) if "part" in _tables(db) else {}
    records: list[UsageRecord] = []
    prompts: list[PromptMark] = []
    latest = since
    for message_id, session_id, updated, data in rows:
        stats.lines += 1
        latest = max(latest, updated if isinstance(updated, int) else 0)
        message = _json_object(data)
        if message is None:
            stats.skip(BAD_ROW)
            continue
        message.setdefault("sessionID", session_id)
        session = session_of(str(session_id), sessions)
        found = steps.get(message_id, [])
        _collect(message_id, message, found, session, stats, records=records, prompts=prompts)
    new_state = {"updated": latest} if incremental else {}
    return DocumentRead(records, prompts, new_state, whole=not incremental)


def _collect(
    message_id: str,
    message: dict[str, Any],
    steps: list[tuple[str, dict[str, Any]]],
    session: Session,
    stats: ParseStats,
    *,
    records: list[UsageRecord],
    prompts: list[PromptMark],
) -> None:
    """Add one message's calls (an assistant's) or prompt (a person's) to the lists."""
    role = message.get("role")
    if role == "assistant":
        records.extend(message_calls(message_id, message, steps, session, stats))
    elif role == "user":
        prompt = prompt_of(message, session)
        if prompt is not None:
            prompts.append(prompt)
    else:
        stats.skip("message of unknown role")


def _tables(db: sqlite3.Connection) -> set[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {str(row[0]) for row in rows}


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in db.execute(f"PRAGMA table_info({table})").fetchall()}


def _messages(db: sqlite3.Connection, since: int, incremental: bool) -> list[tuple[Any, ...]]:
    """(id, session_id, time_updated, data) of the messages updated at or after ``since``."""
    if not incremental:
        return db.execute("SELECT id, session_id, 0, data FROM message ORDER BY rowid").fetchall()
    return db.execute(
        "SELECT id, session_id, time_updated, data FROM message"
        " WHERE time_updated >= ? ORDER BY time_updated, id",
        (since,),
    ).fetchall()


def _steps(db: sqlite3.Connection, message_ids: list[str]) -> dict[str, list[tuple[str, Any]]]:
    """Each message's ``step-finish`` parts, (part id, part data), in id order."""
    found: dict[str, list[tuple[str, Any]]] = {}
    for start in range(0, len(message_ids), PART_BATCH):
        batch = message_ids[start : start + PART_BATCH]
        marks = ",".join("?" * len(batch))
        rows = db.execute(
            f"SELECT id, message_id, data FROM part WHERE message_id IN ({marks})"
            " AND data LIKE '%step-finish%' ORDER BY message_id, id",
            batch,
        ).fetchall()
        for part_id, message_id, data in rows:
            part = _json_object(data)
            if is_step_finish(part):
                found.setdefault(message_id, []).append((str(part_id), part))
    return found


def _sessions(db: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    """Every session's (parent id, directory); empty strings where unknown."""
    columns = _columns(db, "session")
    if "id" not in columns:
        return {}
    parent = "parent_id" if "parent_id" in columns else "''"
    directory = "directory" if "directory" in columns else "''"
    rows = db.execute(f"SELECT id, {parent}, {directory} FROM session").fetchall()
    return {str(row[0]): (str(row[1] or ""), str(row[2] or "")) for row in rows}


def session_of(session_id: str, sessions: dict[str, tuple[str, str]]) -> Session:
    """A session's top session, directory and whether it is a subagent's."""
    parent, directory = sessions.get(session_id, ("", ""))
    return Session(root_session(session_id, sessions), directory, bool(parent))


def root_session(session_id: str, sessions: dict[str, tuple[str, str]]) -> str:
    """The top of ``session_id``'s chain of parents."""
    current = session_id
    for _ in range(MAX_DEPTH):
        parent = sessions.get(current, ("", ""))[0]
        if not parent:
            break
        current = parent
    return current


def _json_object(data: Any) -> dict[str, Any] | None:
    try:
        value = orjson.loads(data)
    except (orjson.JSONDecodeError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def database_names(names: Iterable[str]) -> list[str]:
    """The OpenCode databases among a data directory's file names: ``opencode.db`` and the
    per-channel ``opencode-<channel>.db`` (packages/opencode/src/storage/db.ts)."""
    return sorted(
        name
        for name in names
        if name == "opencode.db" or (name.startswith("opencode-") and name.endswith(".db"))
    )
