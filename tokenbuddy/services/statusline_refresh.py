"""``tokenbuddy statusline --refresh FILE``: the status line's background worker.

Started detached by the status line when the ledger is behind. It reads the
Claude Code JSON the status line saved in ``FILE`` (and deletes it), ingests
only the new bytes of that session's transcript and subagent files, stores the
subscription windows Claude Code reported, and rewrites the snapshot the status
line reads. One runs at a time (a lock file); a refresh that finds the lock
taken leaves the work to the one running, which goes round again if the
transcript grew meanwhile. Every problem is logged, none is printed.

``--all`` (started by the guard hook when its figures are old) also brings every
log root up to date, as ``tokenbuddy status`` does, since the person-wide
warnings judge every session. One such refresh runs at a time (a lock of its
own); it waits for a session refresh under way rather than skipping its work, so
the status line's refresh stays as quick as it was.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy import clock
from tokenbuddy.core.records import CLAUDE_CODE, RateLimitSnapshot

if TYPE_CHECKING:
    from tokenbuddy.store.ledger import Ledger
    from tokenbuddy.store.paths import AppPaths
    from tokenbuddy.store.settings import Settings

MAX_ROUNDS = 3
"""Ingest rounds per refresh while the transcript keeps growing."""
WINDOWS = {"five_hour": 300, "seven_day": 10080}
LOCK_WAIT_S = 60.0
"""How long ``--all`` waits for a session refresh under way."""


def session_files(transcript: str) -> list[str]:
    """The transcript and its session's subagent transcripts (``<id>/subagents/*.jsonl``)."""
    files = [transcript]
    subagents = Path(transcript).with_suffix("") / "subagents"
    if subagents.is_dir():
        files += sorted(str(p) for p in subagents.glob("*.jsonl"))
    return files


def rate_limit_readings(stdin: dict[str, Any], now_ms: int) -> list[RateLimitSnapshot]:
    """Claude Code's ``rate_limits`` as ledger readings (``resets_at`` is epoch seconds)."""
    limits = stdin.get("rate_limits")
    readings = []
    for key, minutes in WINDOWS.items():
        window = limits.get(key) if isinstance(limits, dict) else None
        used = window.get("used_percentage") if isinstance(window, dict) else None
        if isinstance(used, bool) or not isinstance(used, int | float):
            continue
        resets = window.get("resets_at") if isinstance(window, dict) else None
        resets_ms = int(resets * 1000) if isinstance(resets, int | float) else None
        readings.append(RateLimitSnapshot(CLAUDE_CODE, now_ms, minutes, float(used), resets_ms, ""))
    return readings


def run_refresh(pending: str, *, every_root: bool = False) -> int:
    """Do the refresh; always returns 0 (problems go to the status line's log)."""
    from tokenbuddy.store.paths import app_paths
    from tokenbuddy.store.problem_log import log_problem

    paths = app_paths()
    try:
        paths.ensure()
        stdin = _take_pending(pending)
        if every_root:
            with _single_runner(paths, "statusline-all.lock") as running:
                if running:
                    with _single_runner(paths, wait_s=LOCK_WAIT_S) as free:
                        if free:
                            refresh(paths, stdin, every_root=True)
        else:
            with _single_runner(paths) as running:
                if running:
                    refresh(paths, stdin)
    except Exception as error:  # noqa: BLE001 - detached: nobody would see it otherwise
        log_problem(str(paths.state_dir), error)
    return 0


def _take_pending(pending: str) -> dict[str, Any]:
    try:
        with open(pending, "rb") as handle:
            value = orjson.loads(handle.read())
    except (OSError, orjson.JSONDecodeError):
        value = {}
    finally:
        if os.path.basename(pending).startswith("statusline-"):
            Path(pending).unlink(missing_ok=True)
    return value if isinstance(value, dict) else {}


class _single_runner:
    """Holds a refresh lock if it is free (within ``wait_s``); ``running`` says whether
    this process got it."""

    def __init__(self, paths: AppPaths, name: str = "statusline.lock", wait_s: float = 0) -> None:
        self._path = paths.state_dir / name
        self._wait_s = wait_s
        self._handle: Any = None

    def __enter__(self) -> bool:
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; concurrent refreshes are still safe
            return True
        self._handle = open(self._path, "a")
        deadline = time.monotonic() + self._wait_s
        while True:
            try:
                fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.05)
                continue
            return True

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()


def refresh(paths: AppPaths, stdin: dict[str, Any], *, every_root: bool = False) -> None:
    """Ingest the session's new bytes (``every_root``: and every root's), store the
    windows, rewrite the snapshot."""
    from tokenbuddy.services.ingest import sync, sync_paths
    from tokenbuddy.services.session import configured_roots
    from tokenbuddy.store.ledger import Ledger
    from tokenbuddy.store.settings import load_settings

    settings, _problems = load_settings(paths.config_file)
    transcript = stdin.get("transcript_path")
    files = session_files(transcript) if isinstance(transcript, str) and transcript else []
    files = [f for f in files if os.path.isfile(f)]
    with Ledger(paths.ledger) as ledger:
        readings = rate_limit_readings(stdin, clock.now_ms())
        if readings:
            ledger.record_rate_limits(readings)
        if every_root:
            sync(ledger, configured_roots(settings), jobs=1)
        for _ in range(MAX_ROUNDS):
            sizes = [os.stat(f).st_size for f in files]
            sync_paths(ledger, [(f, CLAUDE_CODE) for f in files])
            if [os.stat(f).st_size for f in files] == sizes:
                break
        session_id = stdin.get("session_id")
        write_snapshot(
            paths,
            ledger,
            settings,
            session_id if isinstance(session_id, str) else None,
            every_root=every_root,
        )


def write_snapshot(
    paths: AppPaths,
    ledger: Ledger,
    settings: Settings,
    session_id: str | None = None,
    *,
    every_root: bool = False,
) -> None:
    """Rebuild the status line's snapshot from the ledger."""
    from tokenbuddy.services.budget import BudgetSettings
    from tokenbuddy.services.guard import GuardSetup
    from tokenbuddy.services.monitor import Monitor
    from tokenbuddy.services.snapshot import build_snapshot
    from tokenbuddy.services.status_file import publish_status
    from tokenbuddy.store.timezone import configured_zone

    zone, _ = configured_zone(settings.timezone)  # the bad name is said by other commands
    budget = BudgetSettings.from_settings(settings)
    now_ms = clock.now_ms()
    monitor = Monitor(zone, budget, settings.thresholds, record_announcements=False)
    snapshot = build_snapshot(ledger, now_ms, zone, budget, monitor)
    publish_status(
        ledger,
        snapshot,
        settings.statusline,
        paths.status_file,
        guard=GuardSetup.from_settings(paths, settings),
        session_id=session_id,
        every_root=every_root,
    )
