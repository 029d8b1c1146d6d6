"""Where reading of one log file stopped.

The tailer (:mod:`tokenbuddy.sources.tailer`) plans each read from a cursor and
returns the next one; the ledger keeps one per file, so a restart reads only the
bytes added since. Plain data: nothing here touches the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class FileCursor:
    """Where reading of one log file stopped."""

    path: str
    source: str
    device: int = 0
    inode: int = 0
    size: int = 0
    mtime_ns: int = 0
    offset: int = 0
    """Bytes consumed: everything before this offset has been ingested."""
    head_hash: str = ""
    """Hash of the first and last 4 KB before ``offset``, to notice a rewritten file."""
    pending_bytes: int = 0
    """Length of an unterminated last line waiting for the rest of it."""
    state: dict[str, Any] = field(default_factory=dict)
    """Source-specific carry-over between reads (Codex cumulative totals, model...)."""
