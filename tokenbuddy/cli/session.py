"""What every command starts with: paths, roots, and an up-to-date ledger."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tokenbuddy.ingest import IngestSummary, sync
from tokenbuddy.sources.discovery import LogRoot, log_roots
from tokenbuddy.store.ledger import Ledger
from tokenbuddy.store.paths import AppPaths, app_paths
from tokenbuddy.store.settings import Settings, load_settings

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(slots=True)
class Session:
    """The open ledger and what the last sync found."""

    paths: AppPaths
    roots: list[LogRoot]
    ledger: Ledger
    summary: IngestSummary
    settings: Settings
    problems: list[str]
    """What was wrong with the settings (the defaults were used instead)."""


def open_session(
    *, jobs: int | None = None, progress: Callable[[int, int], None] | None = None
) -> Session:
    """Open the ledger and bring it up to date with the logs."""
    paths = app_paths()
    paths.ensure()
    settings, problems = load_settings(paths.config_file)
    roots = log_roots(settings.log_environment(os.environ), Path.home())
    ledger = Ledger(paths.ledger)
    try:
        summary = sync(ledger, roots, jobs=jobs, progress=progress)
    except BaseException:
        ledger.close()
        raise
    return Session(paths, roots, ledger, summary, settings, problems)
