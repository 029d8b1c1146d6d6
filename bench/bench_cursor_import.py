#!/usr/bin/env python3
"""Time ``tokenbuddy import cursor-csv`` on a built 2,000-row export of each generation.

A benchmark, not a test: it prints figures. For each of the v2 (billed, with a Cost
column) and v3 (no Cost column: every row priced at list price) layouts, it writes an
export of ``--rows`` rows over a month with a dozen models, then runs the import as a
whole process the way a user runs it, in a fresh ``TOKENBUDDY_HOME``: first into an
empty ledger, then the same file again (every row already imported). The time is the
process's wall clock, Python's start-up included; the figure reported is the median of
``--runs`` runs.

usage: python bench/bench_cursor_import.py [--rows 2000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.sources.cursor_exports.builders import V2, V3, Row, export

MODELS = (
    "claude-4.5-sonnet-thinking", "claude-4.6-opus-max-thinking", "gpt-5-high",
    "gpt-5.1-codex-high-fast", "gemini-3-pro-preview", "grok-code-fast-1", "auto",
    "composer-1", "composer-2-fast", "claude-4.5-haiku-thinking", "gpt-5.5-medium",
    "composer-1.5",
)  # fmt: skip
START_MS = 1_772_000_000_000


def rows(count: int) -> list[Row]:
    """``count`` rows over 30 days, cycling through the models and a few Kinds."""
    kinds = ("Included", "Usage-based", "Errored, No Charge", "Included")
    step = 30 * 86_400_000 // count
    return [
        Row(START_MS + i * step, model=MODELS[i % len(MODELS)], kind=kinds[i % 4],
            cache_write=1000 + i, uncached=200 + i % 50, cache_read=30_000 + i, output=500,
            cost=f"${(i % 90) / 100:.2f}", requests="0.5" if i % 3 else "1")
        for i in range(count)
    ]  # fmt: skip


def timed_import(home: Path, path: Path) -> float:
    env = {**os.environ, "TOKENBUDDY_HOME": str(home)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tokenbuddy", "import", "cursor-csv", str(path)],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - started


def measure(header: list[str], count: int, runs: int) -> tuple[float, float]:
    """Median seconds of a first import and of a re-import of the same file."""
    first, again = [], []
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch, "export.csv")
        path.write_text(export(header, rows(count)), encoding="utf-8")
        for run in range(runs):
            home = Path(scratch, f"home-{run}")
            first.append(timed_import(home, path))
            again.append(timed_import(home, path))
    return statistics.median(first), statistics.median(again)


def in_process(header: list[str], count: int, runs: int) -> tuple[float, float]:
    """Median seconds of :func:`import_cursor_csv` itself (modules already loaded, price
    schedules built by the first run and cached in each fresh ledger's price cache
    afterwards are not: every run starts from an empty ledger)."""
    from tokenbuddy.services.cursor_import import import_cursor_csv

    first, again = [], []
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch, "export.csv")
        path.write_text(export(header, rows(count)), encoding="utf-8")
        for run in range(runs):
            os.environ["TOKENBUDDY_HOME"] = str(Path(scratch, f"home-{run}"))
            started = time.perf_counter()
            import_cursor_csv([str(path)])
            first.append(time.perf_counter() - started)
            started = time.perf_counter()
            import_cursor_csv([str(path)])
            again.append(time.perf_counter() - started)
    return statistics.median(first), statistics.median(again)


def baseline(runs: int) -> float:
    """Median seconds of ``tokenbuddy --version``-like start-up: the process alone."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import tokenbuddy.cli.main"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    start = baseline(args.runs)
    print(f"process start-up (import tokenbuddy.cli.main): {start * 1000:.0f} ms")
    for name, header in (("v2 (Cost column)", V2), ("v3 (no Cost: list price)", V3)):
        first, again = measure(header, args.rows, args.runs)
        print(
            f"{name:<26} {args.rows:,} rows: first import {first * 1000:.0f} ms,"
            f" re-import {again * 1000:.0f} ms (whole process, median of {args.runs})"
        )
        first, again = in_process(header, args.rows, args.runs)
        print(
            f"{'':<26} in process: first import {first * 1000:.0f} ms,"
            f" re-import {again * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
