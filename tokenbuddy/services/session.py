"""What every command starts with: paths, roots, and an up-to-date ledger."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tokenbuddy.core.agents import agent_name
from tokenbuddy.errors import LedgerReadOnlyError
from tokenbuddy.services.ingest import IngestSummary, sync
from tokenbuddy.services.recovery import guarded
from tokenbuddy.sources.discovery import LogRoot, log_roots
from tokenbuddy.sources.registry import LOG_SOURCES
from tokenbuddy.store.config_file import configured_log_environment
from tokenbuddy.store.ledger import Ledger
from tokenbuddy.store.paths import AppPaths, app_paths

if TYPE_CHECKING:
    from collections.abc import Callable

    from tokenbuddy.store.settings import Settings


@dataclass(slots=True)
class Session:
    """The open ledger and what the last sync found."""

    paths: AppPaths
    roots: list[LogRoot]
    ledger: Ledger
    summary: IngestSummary
    settings: Settings | None
    """The validated settings, when asked for (they cost a pydantic import)."""
    problems: list[str]
    """What was wrong with the settings (the defaults were used instead)."""


def missing_roots(roots: list[LogRoot]) -> list[str]:
    """A warning for each log dir the user named (not a default) that is not a directory at
    all (missing, or a file where a directory belongs), so a typo in CLAUDE_CONFIG_DIR does
    not quietly give partial numbers (once per named dir, though a Codex home stands for
    two roots)."""
    warnings = []
    for root in roots:
        if root.origin == "default" or root.path.is_dir() or root.path.parent.is_dir():
            continue
        named = root.path.parent if root.path.name in NAMED_SUBDIRS else root.path
        state = "is a file, not a directory" if named.is_file() else "does not exist"
        warnings.append(
            f"{named} (from {root.origin}) {state};"
            f" its {agent_name(root.source)} logs are not counted"
        )
    return list(dict.fromkeys(warnings))


NAMED_SUBDIRS = frozenset(name for entry in LOG_SOURCES for name in entry.home_dirs)
"""The directories of an agent's home that are its log roots (``projects``, ``sessions``…)."""


def configured_roots(settings: Settings) -> list[LogRoot]:
    """The log dirs the settings and the environment name, else the agents' defaults."""
    return log_roots(settings.log_environment(os.environ), Path.home())


def open_session(
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    settings: bool = False,
) -> Session:
    """Open the ledger and bring it up to date with the logs.

    With ``settings``, the whole config is validated and returned; without, only
    its log dirs are read (quickly, leaving malformed values to other commands).
    """
    paths = app_paths()
    paths.ensure()
    loaded: Settings | None = None
    problems: list[str] = []
    if settings:
        from tokenbuddy.store.settings import load_settings

        loaded, problems = load_settings(paths.config_file)
        roots = configured_roots(loaded)
    else:
        roots = session_roots(paths)
    problems.extend(missing_roots(roots))
    try:
        ledger, summary = _synced(paths, roots, jobs, progress)
    except LedgerReadOnlyError as error:
        # Reports can still answer from what the ledger holds; no new log is read.
        ledger = Ledger(paths.ledger, read_only=True)
        problems.append(f"read-only: {error}; showing what the ledger holds, no new logs read")
        return Session(paths, roots, ledger, IngestSummary(), loaded, problems)
    return Session(paths, roots, ledger, summary, loaded, problems)


def _synced(
    paths: AppPaths,
    roots: list[LogRoot],
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
) -> tuple[Ledger, IngestSummary]:
    """The ledger, brought up to date with the logs and backed up for the day."""
    ledger = Ledger(paths.ledger)
    try:
        summary = sync(ledger, roots, jobs=jobs, progress=progress)
        ledger.back_up(local_today())
    except BaseException:
        ledger.close()
        raise
    return ledger, summary


def session_roots(paths: AppPaths) -> list[LogRoot]:
    """The log dirs the config file and the environment name, read quickly (the config's
    other values are left to the commands that use them)."""
    return log_roots(configured_log_environment(paths.config_file, os.environ), Path.home())


def local_today() -> date:
    """Today's date on this machine, which names the day's ledger backup."""
    return datetime.now().astimezone().date()


def with_recovery(run: Callable[[], int]) -> int:
    """Run a command that uses the ledger; a damaged ledger is recovered from its newest
    sound backup (saying so on stderr) and the command run again."""
    paths = app_paths()
    return guarded(run, paths.ledger, lambda: session_roots(paths))
