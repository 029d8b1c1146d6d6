"""Cursor's workspaces: which project folder each conversation belongs to."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlparse

import orjson

from tokenbuddy.sources.cursor_local.database import open_consistent


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
