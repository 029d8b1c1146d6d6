"""The compact snapshot the status line reads: one small JSON file beside the ledger's cache.

Claude Code runs the status line after every assistant message, so it must start,
read and print in a few milliseconds: no SQLite, no TOML, no price database. Every
process that brings the ledger up to date (the dashboard, ``tokenbuddy status``,
and the status line's own background refresh) writes this file afterwards, with
the figures already computed and the ``[statusline]`` settings already validated.
The guard hook reads the same file, with the ``[guard]`` settings and what else it
needs in its ``guard`` object (see :mod:`tokenbuddy.services.guard`).

The file is replaced atomically (write to a temporary file, then rename), so a
reader never sees half of it; concurrent writers are harmless (the last wins).
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.core.alerts import SEVERITY_RANK
from tokenbuddy.core.units import DAY_MS
from tokenbuddy.services.guard import guard_section
from tokenbuddy.store.sessions import session_spend

if TYPE_CHECKING:
    from pathlib import Path

    from tokenbuddy.core.dashboard import DashboardSnapshot
    from tokenbuddy.services.guard import GuardSetup
    from tokenbuddy.store.ledger import Ledger
    from tokenbuddy.store.settings import StatuslineSettings

STATUS_FILE_VERSION = 1
TRANSCRIPT_WINDOW_MS = 2 * DAY_MS
"""Transcripts read in the last two days are listed with the bytes already read."""
MAX_TRANSCRIPTS = 200


def status_payload(
    snapshot: DashboardSnapshot,
    transcripts: dict[str, int],
    statusline: StatuslineSettings,
) -> dict[str, Any]:
    """Everything the status line shows, precomputed from one dashboard snapshot."""
    projection = snapshot.projection
    return {
        "version": STATUS_FILE_VERSION,
        "updated_ms": snapshot.now_ms,
        "today_usd": snapshot.today.cost_usd,
        "cycle_usd": snapshot.cycle_totals.cost_usd,
        "cap_usd": projection.cap_usd,
        "used_ratio": projection.used_ratio,
        "days_to_cap": projection.days_to_cap,
        "burn_usd_per_hour": snapshot.burn_1h.usd_per_hour,
        "cache_hit_ratio_today": snapshot.today.cache_hit_ratio,
        "windows": [
            {
                "source": window.source,
                "window_minutes": window.window_minutes,
                "used_percent": window.projection.used_percent,
                "resets_at_ms": window.projection.resets_at_ms,
            }
            for window in snapshot.windows
        ],
        "alerts": [
            {
                "kind": alert.kind,
                "severity": alert.severity,
                "rank": SEVERITY_RANK[alert.severity],
                "session_id": alert.session_id,
                "sessions": list(alert.sessions),
                "message": alert.message,
            }
            for alert in snapshot.alerts
        ],
        "sessions": {s.session_id: round(s.cost_usd, 6) for s in snapshot.tracked_sessions},
        "person_typed_ms": snapshot.person_typed_ms,
        "transcripts": transcripts,
        "statusline": statusline.model_dump(),
    }


def recent_transcripts(ledger: Ledger, now_ms: int) -> dict[str, int]:
    """Path -> bytes consumed, for transcripts changed recently (the status line compares
    its transcript's size with this to decide whether the ledger is behind)."""
    return ledger.consumed_bytes((now_ms - TRANSCRIPT_WINDOW_MS) * 1_000_000, MAX_TRANSCRIPTS)


def publish_status(
    ledger: Ledger,
    snapshot: DashboardSnapshot,
    statusline: StatuslineSettings,
    path: Path,
    *,
    guard: GuardSetup | None,
    session_id: str | None = None,
    every_root: bool = True,
) -> dict[str, Any]:
    """Write the status line's file from ``snapshot`` and return what was written.

    ``session_id`` (the status line's own session) gets its cost even when the
    snapshot does not list it (an old or long-idle session resumed now).
    ``every_root`` says the ledger was just brought up to date with every log root
    (false after reading one session's files: the previous ``synced_ms`` is kept).
    With ``guard``, the guard hook's journal is imported on the way and the file
    carries what the hook needs (see :mod:`.guard`).
    """
    payload = status_payload(snapshot, recent_transcripts(ledger, snapshot.now_ms), statusline)
    if session_id:
        cost, requests = session_spend(ledger, session_id)
        if requests:
            payload["sessions"][session_id] = round(cost, 6)
    payload["synced_ms"] = snapshot.now_ms if every_root else _synced_ms(path)
    if guard is not None:
        payload["guard"] = guard_section(ledger, guard, snapshot)
    write_status_file(path, payload)
    return payload


def _synced_ms(path: Path) -> int:
    """When the file at ``path`` says every root was last synced (0: never, or unreadable)."""
    try:
        synced = orjson.loads(path.read_bytes()).get("synced_ms")
    except (OSError, orjson.JSONDecodeError, AttributeError):
        return 0
    return synced if isinstance(synced, int) else 0


def write_status_file(path: Path, payload: dict[str, Any]) -> None:
    """Replace ``path`` with ``payload`` atomically (readers see the old or the new file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".status-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(orjson.dumps(payload))
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
