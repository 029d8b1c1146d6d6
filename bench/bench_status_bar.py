#!/usr/bin/env python3
"""Time ``tokenbuddy status --format plain|tmux|waybar`` as a bar or a prompt runs it.

A benchmark, not a test: it prints figures next to their target.

Set-up: a ledger is built from a Claude Code history (``--claude-dir``, default the
shared fixtures) in a scratch ``TOKENBUDDY_HOME``, and one ``tokenbuddy status``
writes the status line's snapshot. Then each format runs ``--runs`` times as a fresh
process, through the installed console script as a bar calls it, with ``python -c
pass`` as the yardstick. The snapshot is kept fresh between runs (its ``synced_ms``
is now), so no run starts a background refresh: this is the steady case of a bar
polling every few seconds.

Target: a median of 50 ms or less for each format.

usage: python bench/bench_status_bar.py [--claude-dir DIR] [--runs 50] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS = 50.0
FORMATS = ("plain", "tmux", "waybar")
FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "claude"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claude-dir", type=Path, default=FIXTURES, help="a Claude config dir")
    parser.add_argument("--runs", type=int, default=50, help="runs each (default 50)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args(argv)


def command() -> list[str]:
    """The installed console script (else ``python -m tokenbuddy``)."""
    script = shutil.which("tokenbuddy", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "tokenbuddy"]


def timed(argv: list[str], env: dict[str, str], *, prints: bool = True) -> float:
    """Wall seconds of one child, from spawn to exit (checking it printed a line)."""
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or (prints and not result.stdout.strip()):
        raise SystemExit(f"unexpected output from {argv}: {result.stdout!r} {result.stderr!r}")
    return elapsed


def keep_fresh(status_file: Path) -> None:
    """Mark the snapshot as just synced, as a steady bar finds it."""
    payload = json.loads(status_file.read_text())
    payload["synced_ms"] = payload["updated_ms"] = int(time.time() * 1000)
    status_file.write_text(json.dumps(payload))


def collect(args: argparse.Namespace, scratch: Path) -> dict[str, float]:
    """Build the ledger and the snapshot, then time each format and the bare interpreter."""
    home = scratch / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "TOKENBUDDY_HOME": str(scratch / "tokenbuddy"),
        "CLAUDE_CONFIG_DIR": str(args.claude_dir),
    }
    subprocess.run([*command(), "status"], env=env, capture_output=True, check=True)
    status_file = scratch / "tokenbuddy" / "cache" / "status.json"
    bare = [timed([sys.executable, "-c", "pass"], env, prints=False) for _ in range(args.runs)]
    figures = {"python -c pass": statistics.median(bare) * 1000}
    for form in FORMATS:
        keep_fresh(status_file)
        figures[form] = _median([*command(), "status", "--format", form], env, args.runs)
    return figures


def _median(argv: list[str], env: dict[str, str], runs: int) -> float:
    return statistics.median(timed(argv, env) for _ in range(runs)) * 1000


def main(argv: list[str] | None = None) -> int:
    """Print each median beside the target."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tb-bar-") as scratch:
        figures = collect(args, Path(scratch))
    if args.json:
        print(json.dumps({name: round(ms, 1) for name, ms in figures.items()}))
        return 0
    for name, ms in figures.items():
        verdict = (
            ""
            if name.startswith("python")
            else ("  ok" if ms <= TARGET_MS else f"  over the {TARGET_MS:.0f} ms target")
        )
        print(f"{name:<16} median {ms:6.1f} ms{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
