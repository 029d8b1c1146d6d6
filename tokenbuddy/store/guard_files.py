"""The guard's small files in the state dir: the decision journal and the allow file.

The guard hook runs before every Claude Code tool call and prompt, so it never opens
the ledger. What it decides goes to a journal that the ledger writers import later
(:mod:`tokenbuddy.store.guard_decisions`), and what ``tokenbuddy guard allow`` lifts is
kept in a file the hook reads. Both formats are plain JSON:

``guard-journal.jsonl``, one decision per line (appended with one ``O_APPEND`` write,
well under ``PIPE_BUF`` so concurrent hooks never interleave)::

    {"id": "1795000000000-4242-9f3a01bc", "ts_ms": 1795000000000,
     "decision": "block", "event": "PreToolUse", "rule": "hard_cap",
     "session_id": "…", "entrypoint": "sdk-cli", "tool": "Bash",
     "message": "cycle spend $412.30 reached hard_cap_usd $400.00", "until_ms": null}

``decision`` is ``block``, ``warn`` or ``allow``; ``event`` the hook event, or
``allow`` for ``tokenbuddy guard allow`` (then ``until_ms`` says until when).

``guard-allow.json``, replaced atomically::

    {"version": 1, "allows": [{"id": "…", "from_ms": …, "until_ms": …, "session_id": null}]}

A ``session_id`` of null lifts blocks for every session.

Appending and importing agree through advisory locks (none on Windows): an appender
holds a shared lock on the journal while it writes and checks that the file it
locked is still the journal; the importer renames the journal aside, then takes an
exclusive lock on it before reading, so it waits for every write already under way
and later writers start a new journal. No line is lost or read twice.

Imports only ``os`` and the fast JSON writer: the guard hook's fast path uses it.
"""

from __future__ import annotations

import os

from tokenbuddy.fast_json import dump_json, parse_json

TYPE_CHECKING = False  # not typing's: importing typing costs the fast path 2-5 ms
if TYPE_CHECKING:
    from typing import Any

JOURNAL = "guard-journal.jsonl"
ALLOWS = "guard-allow.json"
LOG = "guard.log"
"""The guard hook's problem log (it fails open and says why here)."""
ALLOW_FILE_VERSION = 1
MAX_LINE = 3500
"""Bytes per journal line at most (one atomic append is at most ``PIPE_BUF``, 4096)."""
MAX_MESSAGE = 1200


def journal_path(state_dir: str) -> str:
    """Where the decision journal is."""
    return os.path.join(state_dir, JOURNAL)


def allows_path(state_dir: str) -> str:
    """Where the allow file is."""
    return os.path.join(state_dir, ALLOWS)


def decision_id(now_ms: int) -> str:
    """A unique id for one journal line (the ledger keeps each id once)."""
    return f"{now_ms}-{os.getpid()}-{os.urandom(4).hex()}"


def journal_line(record: dict[str, Any]) -> bytes:
    """One decision as a journal line, its message shortened until the line fits."""
    message = str(record.get("message") or "")[:MAX_MESSAGE]
    while True:
        line = (dump_json({**record, "message": message}) + "\n").encode()
        if len(line) <= MAX_LINE or not message:
            return line[:MAX_LINE]
        message = message[: len(message) // 2]


def append_decision(state_dir: str, record: dict[str, Any]) -> None:
    """Append one decision to the journal, in one write, under a shared lock."""
    os.makedirs(state_dir, exist_ok=True)
    line = journal_line(record)
    path = journal_path(state_dir)
    for _ in range(5):
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            _lock(descriptor, shared=True)
            if _is_current(descriptor, path):
                os.write(descriptor, line)
                return
        finally:
            os.close(descriptor)  # closing releases the lock
    raise OSError(f"{path} kept being replaced while appending to it")


def _lock(descriptor: int, *, shared: bool) -> None:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; an import may miss a line in flight
        return
    fcntl.flock(descriptor, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)


def _is_current(descriptor: int, path: str) -> bool:
    """Whether ``path`` still names the file open as ``descriptor`` (not renamed aside)."""
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(descriptor)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def set_aside(state_dir: str) -> list[str]:
    """Rename the journal aside for an import, and wait for the writes under way.

    Returns every journal set aside and not yet discarded (an import cut short, or
    one running in another process, leaves its own; reading one twice is harmless,
    as the ledger keeps each decision id once). Each is renamed to a name of its
    own, so no importer ever replaces another's file.
    """
    journal = journal_path(state_dir)
    try:
        os.replace(journal, f"{journal}.importing-{decision_id(0)}")
    except FileNotFoundError:  # nothing new since the last import
        journal = ""
    prefix = JOURNAL + ".importing-"
    try:
        names = sorted(n for n in os.listdir(state_dir) if n.startswith(prefix))
    except FileNotFoundError:
        return []
    ready = []
    for name in names:
        path = os.path.join(state_dir, name)
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except FileNotFoundError:  # another importer has finished with it
            continue
        try:
            _lock(descriptor, shared=False)  # every append that locked it is done
        finally:
            os.close(descriptor)
        ready.append(path)
    return ready


def discard(paths: list[str]) -> None:
    """Delete journals set aside once their decisions are in the ledger."""
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:  # another importer has deleted it
            continue


def read_journal(path: str) -> tuple[list[dict[str, Any]], int]:
    """The decisions in a journal file, and how many lines were not decisions."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:  # another importer has finished with it
        return [], 0
    records, bad = [], 0
    for raw in data.splitlines():
        if not raw.strip():
            continue
        try:
            value = parse_json(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            value = None
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            records.append(value)
        else:
            bad += 1
    return records, bad


def read_allows(state_dir: str) -> list[dict[str, Any]]:
    """The allows on file ([] when there is no file); ValueError when it is not ours."""
    try:
        with open(allows_path(state_dir), encoding="utf-8") as handle:
            value = parse_json(handle.read())
    except FileNotFoundError:
        return []
    if not isinstance(value, dict) or value.get("version") != ALLOW_FILE_VERSION:
        raise ValueError(f"{allows_path(state_dir)} is not a tokenbuddy allow file")
    allows = value.get("allows")
    if not isinstance(allows, list):
        raise ValueError(f"{allows_path(state_dir)} is not a tokenbuddy allow file")
    return [a for a in allows if isinstance(a, dict)]


def write_allows(state_dir: str, allows: list[dict[str, Any]]) -> None:
    """Replace the allow file atomically (the hook sees the old file or the new one)."""
    os.makedirs(state_dir, exist_ok=True)
    path = allows_path(state_dir)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(dump_json({"version": ALLOW_FILE_VERSION, "allows": allows}))
    os.replace(temporary, path)


def active_allows(allows: list[dict[str, Any]], now_ms: int) -> list[dict[str, Any]]:
    """The allows that have not expired at ``now_ms``."""
    active = []
    for allow in allows:
        until = allow.get("until_ms")
        if isinstance(until, int | float) and not isinstance(until, bool) and until > now_ms:
            active.append(allow)
    return active
