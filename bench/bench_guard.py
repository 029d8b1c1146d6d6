#!/usr/bin/env python3
"""Time the guard hook as Claude Code runs it, with a 500 MB history in the ledger.

A benchmark, not a test: it prints figures next to their targets.

The hook runs as ``tokenbuddy guard --install`` installs it (this Python, ``-c``
straight into the fast path), each run a fresh process fed a ``PreToolUse`` input on
stdin. Set-up, as in ``bench_statusline.py``: the ledger is built once from the
corpus (``report daily`` with ``TOKENBUDDY_HOME``) plus a live copy of one of its
sessions written today (the corpus's own days are past, and the caps count this
cycle and today), then ``tokenbuddy status`` writes the figures with ``[guard]`` set
in ``config.toml``. Cases:

* ``python -c pass``: the bare interpreter, the yardstick, run just before each run of
  the hook (so both share whatever else the machine is doing);
* ``go ahead``: block mode, nothing tripped (the common case, before every tool call);
* ``block``: the cycle's hard cap reached: the deny is written and journalled;
* ``block, ledger locked``: the same while another connection holds the ledger's
  exclusive lock (the hook never opens the ledger, so nothing changes);
* ``old figures``: figures older than the hook accepts, so each run also starts the
  background refresh of every root (its own time is not the hook's; the next run
  waits until it is done, and the figures are made old again).

Median, 90th percentile and maximum of the wall time from spawn to exit.
Targets: a median of 30 ms at most, and no run over 1 s.

usage: python bench/bench_guard.py [--size M] [--corpus-dir DIR] [--shared DIR]
                                   [--runs 200] [--stale-runs 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_ingest import (
    SetupError,
    add_corpus_arguments,
    compile_bytecode,
    ensure_corpus,
    load_corpus,
    positive_int,
    progress,
    tool_env,
    warm_page_cache,
)
from bench_statusline import fresh_line, live_session, tokenbuddy_command

TARGET_MEDIAN_MS = 30.0
TARGET_MAX_MS = 1000.0
HOOK_INPUT = json.dumps(
    {
        "session_id": "bench-session",
        "transcript_path": "/nonexistent/bench-session.jsonl",
        "cwd": "/home/dev/shop",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "npm test", "description": "Run the tests"},
        "tool_use_id": "toolu_01BENCH",
    }
).encode()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_corpus_arguments(parser)
    parser.add_argument("--runs", type=positive_int, default=200, help="runs each (default 200)")
    parser.add_argument(
        "--stale-runs", type=positive_int, default=20, help="runs with old figures (default 20)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    return parser.parse_args(argv)


def hook_command() -> list[str]:
    """The command ``tokenbuddy guard --install`` writes into Claude Code's settings."""
    from tokenbuddy.cli.guard_install import LAUNCHER

    return [sys.executable, "-c", LAUNCHER]


def timed(argv: list[str], stdin: bytes, env: dict[str, str], expect: bytes | None) -> float:
    """Wall seconds of one child, from spawn to exit, checking what it printed."""
    started = time.perf_counter()
    result = subprocess.run(argv, input=stdin, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if (
        result.returncode != 0
        or result.stderr
        or (expect is not None and expect not in result.stdout)
    ):
        raise SetupError(f"unexpected output from {argv}: {result.stdout!r} {result.stderr!r}")
    return elapsed


def publish(env: dict[str, str], **guard: object) -> dict[str, Any]:
    """Write ``[guard]`` into ``config.toml``, then the figures as ``tokenbuddy status`` does
    (the background refreshes the hook starts read the same file); returns the figures."""
    lines = ["[guard]", *(f"{key} = {json.dumps(value)}" for key, value in guard.items())]
    (Path(env["TOKENBUDDY_HOME"]) / "config.toml").write_text("\n".join(lines) + "\n")
    subprocess.run(
        [*tokenbuddy_command(), "status", "--json"], env=env, capture_output=True, check=True
    )
    return json.loads(status_file(env).read_text())  # type: ignore[no-any-return]


def status_file(env: dict[str, str]) -> Path:
    return Path(env["TOKENBUDDY_HOME"]) / "cache" / "status.json"


def refresh_running(env: dict[str, str]) -> bool:
    """Whether a background refresh the hook started is still at work."""
    from tokenbuddy.cli.guard_hook import EVERY_ROOT_LOCK, _busy

    state = Path(env["TOKENBUDDY_HOME"]) / "state"
    return _busy(str(state / EVERY_ROOT_LOCK)) or any(state.glob("statusline-*.json"))


def make_old(env: dict[str, str]) -> None:
    """Wait for any refresh to end, then age the figures past what the hook accepts."""
    deadline = time.monotonic() + 300
    while refresh_running(env):
        if time.monotonic() > deadline:
            raise SetupError("a background refresh did not end within 5 minutes")
        time.sleep(0.05)
    path = status_file(env)
    figures = json.loads(path.read_text())
    figures["updated_ms"] = figures["synced_ms"] = figures["updated_ms"] - 3_600_000
    path.write_text(json.dumps(figures))


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(s * 1000 for s in samples)
    return {
        "median_ms": statistics.median(ordered),
        "p90_ms": ordered[max(0, round(0.9 * len(ordered)) - 1)],
        "max_ms": ordered[-1],
    }


def collect(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """Build the ledger and the figures, then time each case."""
    corpus = load_corpus(ensure_corpus(args.corpus_dir, args.size, args.shared))
    warm_page_cache(corpus.files)
    home = scratch / "home"
    home.mkdir()
    env = tool_env(corpus, scratch, home)
    env.pop("CLAUDE_CODE_ENTRYPOINT", None)
    transcript, lines = live_session(corpus.root, scratch)
    with transcript.open("ab") as handle:
        for number in range(20):
            handle.write(fresh_line(lines[number % len(lines)], number))
    env["CLAUDE_CONFIG_DIR"] += f",{scratch / 'live'}"
    progress(f"building the ledger from {corpus.total_bytes / 1e6:,.0f} MB ...")
    subprocess.run(
        [*tokenbuddy_command(), "report", "daily", "--json"],
        env=env,
        capture_output=True,
        check=True,
    )
    compile_bytecode()
    hook = hook_command()
    bare: list[float] = []
    cases: dict[str, list[float]] = {}

    def paired(label: str, expect: bytes, before: Callable[[], None] | None = None) -> None:
        """Time the hook, each run right after a bare interpreter (the load is shared)."""
        progress(f"timing the hook: {label} ...")
        for _ in range(args.stale_runs if before else args.runs):
            if before:
                before()
            bare.append(timed([sys.executable, "-c", "pass"], b"", env, None))
            cases.setdefault(label, []).append(timed(hook, HOOK_INPUT, env, expect))

    figures = publish(env, mode="block", hard_cap_usd=10_000_000)
    if figures["cycle_usd"] <= 0:
        raise SetupError("the live session counted nothing this cycle; the hook cannot block")
    paired("go ahead", b"")
    publish(env, mode="block", hard_cap_usd=figures["cycle_usd"] / 2)
    paired("block", b'"deny"')
    holder = sqlite3.connect(home / "data" / "ledger.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        paired("block, ledger locked", b'"deny"')
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    paired("old figures", b'"deny"', before=lambda: make_old(env))
    make_old(env)  # waits for the last refresh
    return {
        "runs": args.runs,
        "stale_runs": args.stale_runs,
        "ledger_mb": (home / "data" / "ledger.sqlite3").stat().st_size / 1e6,
        "cycle_usd": figures["cycle_usd"],
        "cases": {
            "python -c pass": summary(bare),
            **{label: summary(samples) for label, samples in cases.items()},
        },
    }


def format_figures(figures: dict[str, Any]) -> str:
    bare = figures["cases"]["python -c pass"]["median_ms"]
    out = [
        f"tokenbuddy guard hook benchmark: {figures['runs']} runs each ({figures['stale_runs']} "
        f"with old figures), ledger {figures['ledger_mb']:.1f} MB, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs",
        "",
        f"{'case':<24}{'median ms':>10}{'p90 ms':>9}{'max ms':>9}{'x bare':>8}  target",
        "-" * 80,
    ]
    for label, row in figures["cases"].items():
        verdict = ""
        if label != "python -c pass":
            ok = row["median_ms"] <= TARGET_MEDIAN_MS and row["max_ms"] < TARGET_MAX_MS
            verdict = (
                f"median <= {TARGET_MEDIAN_MS:.0f} ms, max < {TARGET_MAX_MS / 1000:.0f} s: "
                f"{'ok' if ok else 'MISSED'}"
            )
        numbers = f"{row['median_ms']:>10.1f}{row['p90_ms']:>9.1f}{row['max_ms']:>9.1f}"
        numbers += f"{row['median_ms'] / bare:>8.2f}"
        out.append(f"{label:<24}{numbers}  {verdict}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="tokenbuddy-bench-guard-") as scratch:
            figures = collect(args, Path(scratch))
    except SetupError as error:
        print(f"bench_guard: {error}", file=sys.stderr)
        return 2
    print(json.dumps(figures, indent=2) if args.json else format_figures(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
