"""Reading what changed in Cursor's global store, ``User/globalStorage/state.vscdb``."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.core.cursor_reads import ComposerRead, DbRead
from tokenbuddy.sources.cursor_local.composers import Skip, composer_records, epoch_ms
from tokenbuddy.sources.cursor_local.database import open_consistent

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from tokenbuddy.core.cursor_reads import DbStat


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
        stamp = -1 if updated is None else epoch_ms(updated) or 0
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
    read.records, read.estimated_tokens = composer_records(
        read.composer_id, data, bubbles, project, result
    )


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
    return ordered + sorted(by_id.values(), key=lambda b: epoch_ms(b.get("createdAt")) or 0)
