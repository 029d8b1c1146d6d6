"""Driving the dashboard in tests: the frozen demo configuration and waiting for the app."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.tui.app import TokenBuddyApp
from tokenbuddy.tui.launch import demo_config

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from textual.pilot import Pilot

    from tokenbuddy.tui.config import DashboardConfig

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC).timestamp()
"""The frozen 'now' of the demo dashboards: a Friday afternoon late in the cycle."""


def frozen_demo(scratch: Path, **changes: Any) -> DashboardConfig:
    """The demo dashboard at :data:`NOW`: frozen clock, no watcher, no start-up notices."""
    config = demo_config(scratch, NOW, watch=False)
    return dataclasses.replace(config, clock=lambda: NOW, notices=[], **changes)


def over_logs(
    tmp_path: Path, environ: Mapping[str, str], ledger: str, *, live: bool = False, **changes: Any
) -> DashboardConfig:
    """The frozen demo's dashboard reading the log roots ``environ`` names into the ledger
    file ``ledger`` in ``tmp_path``; ``live`` follows them with a fast watcher."""
    follow: dict[str, Any] = {"watch": True, "refresh_seconds": 0.05} if live else {}
    roots = log_roots(environ, tmp_path)
    return frozen_demo(
        tmp_path / "demo", roots=roots, ledger_path=tmp_path / ledger, **follow, **changes
    )


async def until(
    condition: Callable[[], object],
    pilot: Pilot[None],
    timeout: float = 20.0,
    what: str = "the app",
) -> None:
    """Let the app run until ``condition()`` holds, failing after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def loaded(pilot: Pilot[None]) -> None:
    """Wait until the first snapshot is on screen."""
    app = pilot.app
    assert isinstance(app, TokenBuddyApp)
    await until(lambda: app.snapshot is not None, pilot)
    await pilot.pause()
