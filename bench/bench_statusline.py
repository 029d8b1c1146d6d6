#!/usr/bin/env python3
"""Time ``tokenbuddy statusline`` as Claude Code runs it, with a 500 MB history in the ledger.

A benchmark, not a test: it prints figures next to their targets.

The status line is run as ``tokenbuddy statusline --install`` installs it (this
Python, ``-c`` straight into the fast path). Set-up: the ledger is built once from
the corpus (``report daily`` with ``TOKENBUDDY_HOME``), one of the corpus's sessions
is copied into a live
transcript, and one status-line run (plus its background refresh) writes the
snapshot. Then, each as a fresh process fed the Claude Code JSON on stdin:

* ``python -c pass``: the bare interpreter, the yardstick;
* ``steady``: the status line with nothing new to read (the common case between
  messages, and every ``refreshInterval`` tick);
* ``after an append``: a new assistant message is appended to the live
  transcript before each run, so each run also starts the detached background
  refresh (its own time is not part of the status line's, but it shares the CPU).

Median over ``--runs`` (default 50) of the wall time from spawn to exit.
Targets: under 80 ms median, and under 2.5x the bare interpreter.

usage: python bench/bench_statusline.py [--size M] [--corpus-dir DIR] [--shared DIR]
                                        [--runs 50] [--json]
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
from typing import Any

from bench_ingest import (
    SetupError,
    add_corpus_arguments,
    ensure_corpus,
    load_corpus,
    positive_int,
    progress,
    tool_env,
    warm_page_cache,
)

TARGET_MS = 80.0
TARGET_RATIO = 2.5


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_corpus_arguments(parser)
    parser.add_argument("--runs", type=positive_int, default=50, help="runs each (default 50)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    return parser.parse_args(argv)


def timed(argv: list[str], stdin: bytes, env: dict[str, str], *, line: bool = True) -> float:
    """Wall seconds of one child, from spawn to exit (checking it printed a status line)."""
    started = time.perf_counter()
    result = subprocess.run(argv, input=stdin, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or (line and not result.stdout.startswith("⚡".encode())):
        raise SetupError(f"unexpected output from {argv}: {result.stdout!r} {result.stderr!r}")
    return elapsed


def tokenbuddy_command() -> list[str]:
    """The installed console script, for the set-up commands (else ``python -m``)."""
    script = shutil.which("tokenbuddy", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "tokenbuddy"]


def statusline_command() -> list[str]:
    """The command ``tokenbuddy statusline --install`` writes into Claude Code's settings."""
    from tokenbuddy.cli.statusline_install import LAUNCHER

    return [sys.executable, "-c", LAUNCHER]


def live_session(corpus_root: Path, scratch: Path) -> tuple[Path, list[bytes]]:
    """A copy of one corpus session to append to, and assistant lines to append."""
    sources = sorted((corpus_root / ".claude" / "projects").rglob("*.jsonl"))
    source = max(sources[:50], key=lambda p: p.stat().st_size)
    lines = [line for line in source.read_bytes().splitlines(keepends=True) if b'"usage"' in line]
    live_dir = scratch / "live" / "projects" / "-home-dev-live"
    live_dir.mkdir(parents=True)
    transcript = live_dir / source.name
    shutil.copyfile(source, transcript)
    return transcript, lines


def fresh_line(line: bytes, number: int) -> bytes:
    """An assistant line with new ids and the current time, so it counts as a new request."""
    record = json.loads(line)
    record["requestId"] = f"req_bench_{number}"
    if isinstance(record.get("message"), dict):
        record["message"]["id"] = f"msg_bench_{number}"
    record["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"


def wait_for_snapshot(status_file: Path, session_id: str, timeout: float = 60.0) -> None:
    """Until the background refresh has written the snapshot knowing the live session."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if session_id in json.loads(status_file.read_text())["sessions"]:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    raise SetupError(f"no snapshot for the live session in {status_file} after {timeout:.0f} s")


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def collect(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """Build the ledger and the snapshot, then time the three commands."""
    corpus = load_corpus(ensure_corpus(args.corpus_dir, args.size, args.shared))
    warm_page_cache(corpus.files)
    home = scratch / "home"
    env = tool_env(corpus, scratch, home)
    command = tokenbuddy_command()
    progress(f"building the ledger from {corpus.total_bytes / 1e6:,.0f} MB ...")
    subprocess.run(
        [*command, "report", "daily", "--json"], env=env, capture_output=True, check=True
    )
    transcript, lines = live_session(corpus.root, scratch)
    stdin = json.dumps(
        {
            "session_id": transcript.stem,
            "transcript_path": str(transcript),
            "cost": {"total_cost_usd": 1.0},
            "rate_limits": {"five_hour": {"used_percentage": 41, "resets_at": time.time() + 9000}},
        }
    ).encode()
    line = statusline_command()
    timed(line, stdin, env)
    wait_for_snapshot(home / "cache" / "status.json", transcript.stem)
    figures: dict[str, Any] = {
        "runs": args.runs,
        "ledger_mb": (home / "data" / "ledger.sqlite3").stat().st_size / 1e6,
    }
    progress("timing python -c pass ...")
    bare = [timed([sys.executable, "-c", "pass"], b"", env, line=False) for _ in range(args.runs)]
    progress("timing the steady status line ...")
    steady = []
    for _ in range(args.runs):
        if (
            time.time()
            - json.loads((home / "cache" / "status.json").read_text())["updated_ms"] / 1000
            > 50
        ):
            timed(line, stdin, env)  # let a refresh run outside the timing
            time.sleep(2)
        steady.append(timed(line, stdin, env))
    progress("timing the status line after appends ...")
    appended = []
    for number in range(args.runs):
        with transcript.open("ab") as handle:
            handle.write(fresh_line(lines[number % len(lines)], number))
        appended.append(timed(line, stdin, env))
        time.sleep(0.3)  # Claude Code debounces the status line by 300 ms
    figures["bare_ms"] = median_ms(bare)
    figures["steady_ms"] = median_ms(steady)
    figures["after_append_ms"] = median_ms(appended)
    figures["steady_p90_ms"] = statistics.quantiles(steady, n=10)[-1] * 1000
    figures["after_append_p90_ms"] = statistics.quantiles(appended, n=10)[-1] * 1000
    return figures


def format_figures(figures: dict[str, Any]) -> str:
    bare = figures["bare_ms"]
    rows = [
        ("python -c pass", bare, None),
        ("statusline, steady", figures["steady_ms"], figures["steady_p90_ms"]),
        ("statusline, after an append", figures["after_append_ms"], figures["after_append_p90_ms"]),
    ]
    out = [
        f"tokenbuddy statusline benchmark: {figures['runs']} runs each, ledger "
        f"{figures['ledger_mb']:.1f} MB, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs",
        "",
        f"{'command':<30}{'median ms':>10}{'p90 ms':>9}{'x bare':>8}  target",
        "-" * 75,
    ]
    for label, median, p90 in rows:
        ratio = median / bare
        verdict = ""
        if p90 is not None:
            ok = median < TARGET_MS and ratio < TARGET_RATIO
            verdict = f"< {TARGET_MS:.0f} ms and < {TARGET_RATIO}x: {'ok' if ok else 'MISSED'}"
        p90_text = "" if p90 is None else f"{p90:.1f}"
        out.append(f"{label:<30}{median:>10.1f}{p90_text:>9}{ratio:>8.2f}  {verdict}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="tokenbuddy-bench-sl-") as scratch:
            figures = collect(args, Path(scratch))
    except SetupError as error:
        print(f"bench_statusline: {error}", file=sys.stderr)
        return 2
    print(json.dumps(figures, indent=2) if args.json else format_figures(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
