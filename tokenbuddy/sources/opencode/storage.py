"""OpenCode's JSON storage (before 1.2): one file per message, rewritten as it updates.

Layouts, both under the data directory (packages/opencode/src/storage/storage.ts):

- ``storage/message/<sessionID>/<messageID>.json``, parts in
  ``storage/part/<messageID>/<partID>.json``, sessions in
  ``storage/session/<projectID>/<sessionID>.json`` (``parentID``, ``directory``);
- the first layout, per project: ``project/<name>/storage/session/message/<sessionID>/
  <messageID>.json``, parts in ``.../session/part/<sessionID>/<messageID>/``, sessions in
  ``.../session/info/<sessionID>.json``. OpenCode's first storage migration copied these
  to the layout above and left them in place: the same message ids, counted once.

Each message file is a document read whole on every rewrite; a file caught half-written
is a counted skip until its next write.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from tokenbuddy.core.records import ParseStats, PromptMark, SkipReason, UsageRecord
from tokenbuddy.sources.documents import DocumentRead
from tokenbuddy.sources.opencode.calls import (
    Session,
    assistant_fields,
    is_step_finish,
    message_calls,
    prompt_of,
)

STEP_MARK = b"step-finish"
MAX_DEPTH = 16


def is_message_file(path: str) -> bool:
    """Whether a path is a message file of either layout (``message/<session>/<id>.json``)."""
    return path.endswith(".json") and Path(path).parent.parent.name == "message"


def read_message(path: str, state: dict[str, Any], stats: ParseStats) -> DocumentRead:
    """The calls or the prompt in one message file."""
    with open(path, "rb") as handle:
        data = handle.read()
    stats.lines += 1
    try:
        message = orjson.loads(data)
    except orjson.JSONDecodeError:
        stats.skip(SkipReason.INVALID_JSON)
        return DocumentRead([], [], state)
    if not isinstance(message, dict):
        stats.skip(SkipReason.NOT_AN_OBJECT)
        return DocumentRead([], [], state)
    records: list[UsageRecord] = []
    prompts: list[PromptMark] = []
    file = Path(path)
    session_id = str(assistant_fields(message).get("sessionID") or file.parent.name)
    session = session_info(str(_storage_of(file)), session_id)
    role = message.get("role")
    if role == "assistant":
        message_id = str(message.get("id") or file.stem)
        steps = step_parts(part_dir(file, message_id))
        records = message_calls(message_id, message, steps, session, stats)
    elif role == "user":
        prompt = prompt_of(message, session)
        prompts = [] if prompt is None else [prompt]
    else:
        stats.skip("message of unknown role")
    return DocumentRead(records, prompts, {})


def _storage_of(message_file: Path) -> Path:
    """The directory holding ``message/`` (``storage`` or a project's ``storage/session``)."""
    return message_file.parent.parent.parent


def part_dir(message_file: Path, message_id: str) -> Path:
    """Where a message's parts are, in the message file's layout."""
    storage = _storage_of(message_file)
    if storage.name == "session":
        return storage / "part" / message_file.parent.name / message_id
    return storage / "part" / message_id


def step_parts(directory: Path) -> list[tuple[str, dict[str, Any]]]:
    """(part id, part) of each ``step-finish`` part in a message's part directory, in id
    order; parts caught half-written or unreadable are left out."""
    try:
        names = sorted(name for name in os.listdir(directory) if name.endswith(".json"))
    except OSError:
        return []
    steps = []
    for name in names:
        try:
            data = (directory / name).read_bytes()
        except OSError:
            continue
        if STEP_MARK not in data:
            continue
        try:
            part = orjson.loads(data)
        except orjson.JSONDecodeError:
            continue
        if is_step_finish(part):
            steps.append((str(part.get("id") or name.removesuffix(".json")), part))
    return steps


def session_info(storage: str, session_id: str) -> Session:
    """A session's top session, directory and whether it is a subagent's."""
    parent, directory = _session_file(storage, session_id)
    root = session_id
    for _ in range(MAX_DEPTH):
        above = _session_file(storage, root)[0]
        if not above:
            break
        root = above
    return Session(root, directory, bool(parent))


@lru_cache(maxsize=4096)
def _session_file(storage: str, session_id: str) -> tuple[str, str]:
    """(parent id, directory) from a session's file; empty strings when it is not found."""
    base = Path(storage)
    candidates = [base / "info" / f"{session_id}.json"] if base.name == "session" else []
    try:
        projects = [entry.path for entry in os.scandir(base / "session") if entry.is_dir()]
    except OSError:
        projects = []
    candidates += [Path(project) / f"{session_id}.json" for project in projects]
    for candidate in candidates:
        try:
            session = orjson.loads(candidate.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        if isinstance(session, dict):
            return str(session.get("parentID") or ""), str(session.get("directory") or "")
    return "", ""


def message_files(root: Path, errors: list[str]) -> list[str]:
    """Every message file of both layouts under a data directory."""
    found: list[str] = []
    stores = [root / "storage" / "message"]
    projects = _dirs(root / "project", errors)
    stores += [Path(project) / "storage" / "session" / "message" for project in projects]
    for store in stores:
        for session in _dirs(store, errors):
            try:
                names = os.listdir(session)
            except OSError as error:
                errors.append(f"cannot read {session}: {error.strerror}")
                continue
            found.extend(os.path.join(session, name) for name in names if name.endswith(".json"))
    return found


def _dirs(directory: Path, errors: list[str]) -> list[str]:
    """The subdirectories of ``directory``; none when it does not exist."""
    try:
        return sorted(entry.path for entry in os.scandir(directory) if entry.is_dir())
    except FileNotFoundError:
        return []
    except OSError as error:
        errors.append(f"cannot read {directory}: {error.strerror}")
        return []
