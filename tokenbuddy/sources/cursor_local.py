"""Cursor's local chat store: ``state.vscdb`` files turned into estimated requests.

Cursor writes no transcripts. Its conversations ("composers") live in SQLite files it
keeps open, in a reverse-engineered and versioned shape, so everything is parsed
defensively and every ``_v`` seen is counted for ``doctor``.

``User/globalStorage/state.vscdb``, table ``cursorDiskKV(key, value)``:

- ``composerData:<composerId>``: ``_v``, ``createdAt``/``lastUpdatedAt`` (epoch ms),
  ``modelConfig.modelName``, ``fullConversationHeadersOnly[]`` (``bubbleId``, ``type``:
  1 user, 2 assistant), or in older builds the bubbles inline in ``conversation[]``;
- ``bubbleId:<composerId>:<bubbleId>``: ``type``, ``createdAt`` (ISO), ``requestId``,
  ``tokenCount {inputTokens, outputTokens}``, and on user bubbles ``modelInfo.modelName``.

``User/workspaceStorage/<hash>/``: ``workspace.json`` names the folder, and the
``composer.composerData`` item of its ``state.vscdb`` lists the workspace's composers:
that folder is their project.

One request is one ``requestId`` holding an assistant bubble; its tokens are the sum
of its bubbles' ``tokenCount``. Requests whose bubbles carry no tokens (common in newer
builds) are kept with zero tokens and no cost: requests with unknown tokens.

Files are opened read-only (``mode=ro``), which in WAL mode never blocks Cursor and
reads one consistent snapshot inside a read transaction. When that fails (the file is
locked exclusively, or its ``-shm`` cannot be opened), the database and its ``-wal`` or
``-journal`` are copied to a private temporary directory and read from there; SQLite
then replays or rolls back the copy to the last committed state.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import orjson

from tokenbuddy.core.cursor_reads import ComposerRead, DbRead, DbStat
from tokenbuddy.core.records import CURSOR_LOCAL, UsageRecord

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

STATE_DB = "state.vscdb"
WATCHED_NAMES = frozenset({STATE_DB, STATE_DB + "-wal"})
"""The files whose writes mean Cursor saved a conversation."""
KNOWN_VERSIONS = frozenset({1, 2, 3})
"""``_v`` values of ``composerData`` the documented shapes describe; others are read the
same way, and counted in ``doctor`` so a changed shape shows."""
USER_BUBBLE, ASSISTANT_BUBBLE = 1, 2
BUSY_TIMEOUT_S = 0.5


class Skip:
    """Why a stored value was not used; the names show up in ``tokenbuddy doctor``."""

    CORRUPT_JSON = "value that is not valid JSON"
    NOT_AN_OBJECT = "value that is not a JSON object"
    NO_TIMESTAMP = "request with no usable timestamp"


def db_stat(path: Path) -> DbStat | None:
    """The database's and its WAL's size and mtime; None when the database is gone."""
    try:
        main = os.stat(path)
    except OSError:
        return None
    try:
        wal = os.stat(f"{path}-wal")
        wal_size, wal_mtime = wal.st_size, wal.st_mtime_ns
    except OSError:
        wal_size, wal_mtime = 0, 0
    return DbStat(main.st_size, main.st_mtime_ns, wal_size, wal_mtime)


# -- opening ---------------------------------------------------------------------------------


@contextmanager
def open_consistent(path: Path) -> Iterator[tuple[sqlite3.Connection, str]]:
    """A connection to a consistent snapshot of ``path``, never writing Cursor's files.

    Yields (connection, mode), mode ``read-only`` or ``copy``. Raises ``sqlite3.Error``
    or ``OSError`` when neither way can read the database.
    """
    try:
        db: sqlite3.Connection | None = _open_snapshot(f"{path.as_uri()}?mode=ro")
    except sqlite3.Error:
        db = None
    if db is not None:
        try:
            yield db, "read-only"
        finally:
            db.close()
        return
    with _copied(path) as copy:
        db = _open_snapshot(Path(copy).as_uri())
        try:
            yield db, "copy"
        finally:
            db.close()


def _open_snapshot(uri: str) -> sqlite3.Connection:
    """Open ``uri`` and start a read transaction (one snapshot for every query)."""
    db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    try:
        db.execute("BEGIN")
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        db.close()
        raise
    return db


@contextmanager
def _copied(path: Path) -> Iterator[str]:
    """Copy the database with its ``-wal`` and ``-journal`` to a private temporary dir."""
    with tempfile.TemporaryDirectory(prefix="tokenbuddy-cursor-") as scratch:
        target = os.path.join(scratch, STATE_DB)
        shutil.copyfile(path, target)
        for suffix in ("-wal", "-journal"):
            if os.path.exists(f"{path}{suffix}"):
                shutil.copyfile(f"{path}{suffix}", target + suffix)
        yield target


# -- the global store ------------------------------------------------------------------------


def read_global_db(
    path: Path,
    stat: DbStat,
    watermarks: Mapping[str, int],
    projects: Mapping[str, str],
) -> DbRead:
    """Re-read the composers whose ``lastUpdatedAt`` differs from ``watermarks``."""
    result = DbRead(str(path), stat)
    try:
        with open_consistent(path) as (db, mode):
            result.read_mode = mode
            moved = _moved_composers(db, watermarks, result)
            for composer_id, updated in moved:
                composer = _read_composer(db, composer_id, updated, result)
                if composer is not None:
                    _add_records(db, composer, projects.get(composer_id, ""), result)
    except (sqlite3.Error, OSError) as error:
        result.error = f"cannot read Cursor's {path}: {error}"
    return result


def _moved_composers(
    db: sqlite3.Connection, watermarks: Mapping[str, int], result: DbRead
) -> list[tuple[str, int]]:
    """(composer id, lastUpdatedAt) of every composer that is new or was updated."""
    rows = db.execute(
        "SELECT substr(key, 14), CASE WHEN json_valid(CAST(value AS TEXT)) THEN"
        " COALESCE(json_extract(CAST(value AS TEXT), '$.lastUpdatedAt'),"
        " json_extract(CAST(value AS TEXT), '$.createdAt'), 0) END"
        " FROM cursorDiskKV WHERE key >= 'composerData:' AND key < 'composerData;'"
    ).fetchall()
    result.composers = len(rows)
    moved = []
    for composer_id, updated in rows:
        stamp = -1 if updated is None else _epoch_ms(updated) or 0
        if watermarks.get(composer_id) == stamp:
            continue
        if updated is None:
            # Remembered with watermark -1, so it is counted once until it changes.
            result.count(result.skipped, Skip.CORRUPT_JSON)
            result.changed.append(ComposerRead(composer_id, stamp, ""))
        else:
            moved.append((composer_id, stamp))
    return moved


def _load(value: Any, result: DbRead) -> dict[str, Any] | None:
    """A stored value as a JSON object, or None (counted) when it is not one."""
    try:
        data = orjson.loads(value)
    except (orjson.JSONDecodeError, TypeError):
        result.count(result.skipped, Skip.CORRUPT_JSON)
        return None
    if not isinstance(data, dict):
        result.count(result.skipped, Skip.NOT_AN_OBJECT)
        return None
    return data


def _read_composer(
    db: sqlite3.Connection, composer_id: str, updated: int, result: DbRead
) -> tuple[ComposerRead, dict[str, Any]] | None:
    row = db.execute(
        "SELECT value FROM cursorDiskKV WHERE key = ?", (f"composerData:{composer_id}",)
    ).fetchone()
    data = _load(row[0], result) if row else None
    version = str(data.get("_v", "")) if data is not None else ""
    read = ComposerRead(composer_id, updated, version)
    result.changed.append(read)
    if data is None:
        return None
    result.count(result.versions, f"composerData _v={version or 'none'}")
    return read, data


def _add_records(
    db: sqlite3.Connection,
    composer: tuple[ComposerRead, dict[str, Any]],
    project: str,
    result: DbRead,
) -> None:
    read, data = composer
    inline = data.get("conversation")
    if isinstance(inline, list) and inline:
        bubbles = [b for b in inline if isinstance(b, dict)]
    else:
        bubbles = _split_bubbles(db, read.composer_id, data, result)
    for bubble in bubbles:
        result.count(result.versions, f"bubble _v={bubble.get('_v', 'none')}")
    read.bubbles = len(bubbles)
    read.records = composer_records(read.composer_id, data, bubbles, project, result)


def _split_bubbles(
    db: sqlite3.Connection, composer_id: str, data: dict[str, Any], result: DbRead
) -> list[dict[str, Any]]:
    """The composer's bubbles from their own keys, in conversation order."""
    prefix = f"bubbleId:{composer_id}:"
    rows = db.execute(
        "SELECT substr(key, ?), value FROM cursorDiskKV WHERE key >= ? AND key < ?",
        (len(prefix) + 1, prefix, prefix[:-1] + ";"),
    ).fetchall()
    by_id: dict[str, dict[str, Any]] = {}
    for bubble_id, value in rows:
        bubble = _load(value, result)
        if bubble is not None:
            bubble.setdefault("bubbleId", bubble_id)
            by_id[bubble_id] = bubble
    order = [
        header.get("bubbleId")
        for header in data.get("fullConversationHeadersOnly") or ()
        if isinstance(header, dict)
    ]
    ordered = [by_id.pop(bubble_id) for bubble_id in order if bubble_id in by_id]
    return ordered + sorted(by_id.values(), key=lambda b: _epoch_ms(b.get("createdAt")) or 0)


def composer_records(
    composer_id: str,
    composer: dict[str, Any],
    bubbles: list[dict[str, Any]],
    project: str,
    result: DbRead,
) -> list[UsageRecord]:
    """One record per request (``requestId``) that holds an assistant bubble."""
    model_config = composer.get("modelConfig")
    model = str(model_config.get("modelName") or "") if isinstance(model_config, dict) else ""
    fallback_ms = _epoch_ms(composer.get("lastUpdatedAt")) or _epoch_ms(composer.get("createdAt"))
    requests: dict[str, _Request] = {}
    for bubble in bubbles:
        kind = bubble.get("type")
        model = _bubble_model(bubble) or model
        group = str(bubble.get("requestId") or bubble.get("bubbleId") or id(bubble))
        request = requests.setdefault(group, _Request(model or "default"))
        request.add(bubble, kind == ASSISTANT_BUBBLE)
    records = []
    for group, request in requests.items():
        if not request.has_answer:
            continue
        ts_ms = request.ts_ms or fallback_ms
        if not ts_ms:
            result.count(result.skipped, Skip.NO_TIMESTAMP)
            continue
        records.append(
            request.record(f"{CURSOR_LOCAL}:{composer_id}:{group}", composer_id, project, ts_ms)
        )
    return records


def _bubble_model(bubble: dict[str, Any]) -> str:
    info = bubble.get("modelInfo")
    return str(info.get("modelName") or "") if isinstance(info, dict) else ""


@dataclass(slots=True)
class _Request:
    """Bubbles sharing one ``requestId``: their tokens and the latest answer's time."""

    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    ts_ms: int | None = None
    has_answer: bool = False

    def add(self, bubble: dict[str, Any], answer: bool) -> None:
        counts = bubble.get("tokenCount")
        if isinstance(counts, dict):
            self.input_tokens += _count(counts.get("inputTokens"))
            self.output_tokens += _count(counts.get("outputTokens"))
        if answer:
            self.has_answer = True
            stamp = _epoch_ms(bubble.get("createdAt"))
            if stamp and (self.ts_ms is None or stamp > self.ts_ms):
                self.ts_ms = stamp

    def record(self, key: str, session_id: str, project: str, ts_ms: int) -> UsageRecord:
        return UsageRecord(
            key, CURSOR_LOCAL, ts_ms, session_id, project, self.model,
            self.input_tokens, self.output_tokens, 0, 0, 0, 0, 0, "", "", False, "", "",
        )  # fmt: skip


_INT_LIMIT = 1 << 53
"""Counts and times past this are not real (and SQLite holds no integer past 2^63)."""


def _count(value: Any) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value < _INT_LIMIT
    return value if ok else 0


def _epoch_ms(value: Any) -> int | None:
    """Epoch ms from an int, a numeric string or an ISO timestamp; None when unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if 0 < value < _INT_LIMIT else None
    if isinstance(value, str) and value:
        if value.isdigit():
            return int(value) if 0 < int(value) < _INT_LIMIT else None
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return None
    return None


# -- workspaces ------------------------------------------------------------------------------


def workspace_dbs(user_dir: Path) -> list[Path]:
    """Every workspace's ``state.vscdb`` under ``User/workspaceStorage``."""
    storage = user_dir / "workspaceStorage"
    try:
        entries = sorted(os.scandir(storage), key=lambda entry: entry.name)
    except OSError:
        return []
    return [
        Path(entry.path, STATE_DB)
        for entry in entries
        if os.path.isfile(Path(entry.path, STATE_DB))
    ]


def workspace_composers(db_path: Path) -> tuple[str, list[str]]:
    """(project folder, composer ids) of one workspace; empty when unknown."""
    folder = _workspace_folder(db_path.parent / "workspace.json")
    try:
        with open_consistent(db_path) as (db, _mode):
            row = db.execute(
                "SELECT value FROM ItemTable WHERE key = 'composer.composerData'"
            ).fetchone()
    except (sqlite3.Error, OSError):
        return folder, []
    try:
        data = orjson.loads(row[0]) if row else {}
    except orjson.JSONDecodeError:
        return folder, []
    composers = data.get("allComposers") if isinstance(data, dict) else None
    ids = [
        str(c["composerId"]) for c in composers or () if isinstance(c, dict) and c.get("composerId")
    ]
    return folder, ids


def _workspace_folder(path: Path) -> str:
    """The folder a ``workspace.json`` names, as a local path (a URI's path otherwise)."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return ""
    folder = data.get("folder") if isinstance(data, dict) else None
    if not isinstance(folder, str):
        return ""
    parsed = urlparse(folder)
    return unquote(parsed.path) if parsed.scheme else folder
