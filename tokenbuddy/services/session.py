"""What every command starts with: paths, roots, and an up-to-date ledger."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tokenbuddy.core.agents import agent_name
from tokenbuddy.services.ingest import IngestSummary, sync
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
    """A warning for each log dir the user named (not a default) that is not there at all,
    so a typo in CLAUDE_CONFIG_DIR does not quietly give partial numbers (once per named
    dir, though a Codex home stands for two roots)."""
    warnings = [
        f"{root.path.parent if root.path.name in NAMED_SUBDIRS else root.path} "
        f"(from {root.origin}) does not exist; its {agent_name(root.source)} logs are not counted"
        for root in roots
        if root.origin != "default" and not root.path.exists() and not root.path.parent.exists()
    ]
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
        roots = log_roots(configured_log_environment(paths.config_file, os.environ), Path.home())
    problems.extend(missing_roots(roots))
    ledger = Ledger(paths.ledger)
    try:
        summary = sync(ledger, roots, jobs=jobs, progress=progress)
    except BaseException:
        ledger.close()
        raise
    return Session(paths, roots, ledger, summary, loaded, problems)
