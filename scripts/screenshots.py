"""Regenerate ``screenshots/`` from the real dashboard on the demo history.

Every image comes from :class:`TokenBuddyApp` driven headless by a Pilot over
:func:`demo_config` with a fixed ``NOW`` and a frozen clock, so the same code
gives the same SVGs byte for byte. The main SVG is also rendered to PNG when a
converter is available (``rsvg-convert`` from librsvg2-bin, or the ``cairosvg``
package); without one the PNG is skipped with a message.

Usage::

    python scripts/screenshots.py [--out DIR] [--no-png]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from textual.widgets import TabbedContent

from tokenbuddy.tui.app import TokenBuddyApp
from tokenbuddy.tui.config import DashboardConfig
from tokenbuddy.tui.history_screen import HistoryScreen
from tokenbuddy.tui.launch import demo_config
from tokenbuddy.tui.screens import HelpScreen, SessionScreen
from tokenbuddy.tui.widgets import BreakdownTables

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.pilot import Pilot

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC).timestamp()
"""The frozen 'now' of every image (the snapshot tests use the same one)."""

SMALL = (80, 24)
LARGE = (120, 36)
SETTLE_SECONDS = 30.0
MAIN = "dashboard-120x36"
"""The image also rendered to PNG."""
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "screenshots"


def _on_screen(kind: type) -> Callable[[TokenBuddyApp], bool]:
    return lambda app: isinstance(app.screen, kind)


def _tips_shown(app: TokenBuddyApp) -> bool:
    return app.query_one("#main", TabbedContent).active == "tips-tab"


def _history_shown(app: TokenBuddyApp) -> bool:
    return isinstance(app.screen, HistoryScreen) and app.screen.page is not None


def _breakdown_shown(app: TokenBuddyApp) -> bool:
    active = app.query_one("#main", TabbedContent).active
    return active == "breakdown-tab" and app.query_one(BreakdownTables).shown_period is not None


@dataclass(frozen=True, slots=True)
class Shot:
    """One image: its name, the terminal size, the keys to press and what to wait for."""

    name: str
    size: tuple[int, int]
    keys: tuple[str, ...] = ()
    ready: Callable[[TokenBuddyApp], bool] | None = None
    title: str = "tokenbuddy"


SHOTS = (
    Shot("dashboard-80x24", SMALL),
    Shot(MAIN, LARGE),
    Shot("breakdown-120x36", LARGE, ("b",), _breakdown_shown, "tokenbuddy: breakdown"),
    Shot("session-120x36", LARGE, ("enter",), _on_screen(SessionScreen), "tokenbuddy: session"),
    Shot("tips-120x36", LARGE, ("t",), _tips_shown, "tokenbuddy: tips"),
    Shot("history-120x36", LARGE, ("h",), _history_shown, "tokenbuddy: history"),
    Shot("help-120x36", LARGE, ("question_mark",), _on_screen(HelpScreen), "tokenbuddy: help"),
)


def frozen_config(scratch: Path) -> DashboardConfig:
    """The demo dashboard at ``NOW``: frozen clock, no watcher, no notices, UTC."""
    return dataclasses.replace(
        demo_config(scratch, NOW, watch=False),
        clock=lambda: NOW,
        watch=False,
        notices=[],
        zone=ZoneInfo("UTC"),
    )


async def _until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_SECONDS
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await pilot.pause(0.02)
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def capture(shot: Shot) -> str:
    """Run the app on a fresh demo history and return the SVG of ``shot``."""
    with tempfile.TemporaryDirectory(prefix="tokenbuddy-shots-") as scratch:
        app = TokenBuddyApp(frozen_config(Path(scratch)))
        async with app.run_test(size=shot.size) as pilot:
            await _until(
                pilot,
                lambda: app.snapshot is not None and app.tips is not None,
                "the first snapshot and tips",
            )
            app.clear_notifications()
            if shot.keys:
                await pilot.press(*shot.keys)
            ready = shot.ready
            if ready is not None:
                await _until(pilot, lambda: ready(app), shot.name)
            await _until(pilot, lambda: True, "animations")
            svg = app.export_screenshot(title=shot.title)
            app.exit()
        return svg


def rasterizable(svg: str) -> str:
    """``svg`` as librsvg and cairosvg lay it out like a browser does.

    Textual writes every space as ``&#160;``, which librsvg draws with the wrong
    advance, shifting runs of text into each other. Plain spaces with
    ``xml:space="preserve"`` render on the terminal's grid.
    """
    return svg.replace("&#160;", " ").replace("<svg ", '<svg xml:space="preserve" ', 1)


def _renderer() -> Callable[[Path, Path], None] | None:
    """A function drawing an SVG file into a PNG file, or None without a converter."""
    converter = shutil.which("rsvg-convert")
    if converter is not None:

        def rsvg(svg: Path, png: Path) -> None:
            subprocess.run([converter, "--output", str(png), str(svg)], check=True)

        return rsvg
    try:
        cairosvg = importlib.import_module("cairosvg")
    except ImportError:
        return None

    def cairo(svg: Path, png: Path) -> None:
        cairosvg.svg2png(url=str(svg), write_to=str(png))

    return cairo


def to_png(svg: Path) -> Path | None:
    """Render ``svg`` next to itself as PNG, or say why not and return None."""
    png = svg.with_suffix(".png")
    render = _renderer()
    if render is None:
        print(
            f"skipping {png.name}: no SVG converter (apt-get install librsvg2-bin"
            " for rsvg-convert, or pip install cairosvg)",
            file=sys.stderr,
        )
        return None
    with tempfile.TemporaryDirectory(prefix="tokenbuddy-png-") as scratch:
        source = Path(scratch) / svg.name
        source.write_text(rasterizable(svg.read_text(encoding="utf-8")), encoding="utf-8")
        render(source, png)
    return png


def main(argv: list[str] | None = None) -> int:
    """Write every shot to ``--out`` (default ``screenshots/``) and the main one as PNG."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--no-png", action="store_true", help="write SVGs only")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for shot in SHOTS:
        path = out / f"{shot.name}.svg"
        path.write_text(asyncio.run(capture(shot)), encoding="utf-8")
        print(f"wrote {path}")
        if shot.name == MAIN and not args.no_png:
            png = to_png(path)
            if png is not None:
                print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
