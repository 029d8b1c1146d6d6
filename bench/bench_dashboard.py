#!/usr/bin/env python3
"""Time the live dashboard: append-to-screen latency, idle CPU and first paint.

A benchmark, not a test: it prints figures, each next to its target.

* latency: the real app runs headless in this process (``run_test``, 80x24,
  ``watch=True``, the default ``refresh_seconds`` and re-scan) on a temporary
  Claude config dir holding one live session plus the demo history. After the
  first snapshot, one complete assistant record at a time is appended, and timed
  from the write (flush + close) to the moment the ``SnapshotBuilt`` carrying it
  has been handled ("shown": the widgets hold the new figures) and to the screen
  refresh after that ("painted"). Split into write -> watcher hand-over (watchdog
  plus the debounce) and hand-over -> shown (ingest, snapshot query, message).
  Appends over 50 ms slower than the median are listed with the garbage
  collection and the app timers (re-scan, refresh) that ran meanwhile.
  Target <= 1 s, aim 250 ms.
* idle CPU: CPU time of every thread while nothing is written, as % of one
  core, with the default 30 s re-scan and snapshot refresh running. Measured on
  the headless app in this process (with a per-thread split and the Textual
  timers left running), and, unless ``--skip terminal``, on the real app in a
  pseudo-terminal (Textual's terminal driver, input thread and output included)
  over the same small history and over the big ledger. Target < 2 %.
* first paint: a ledger is built once from the corpus (``report daily`` with
  ``TOKENBUDDY_HOME``), then a fresh process per run builds the dashboard from
  ``user_config()`` on it and times, from spawn: interpreter up, imports,
  first frame (mounted, no data yet), first snapshot shown and painted. One
  warm-up run, then the median of ``--paint-runs``; headless, and in a
  pseudo-terminal. The clock is pinned a minute after the corpus's last request,
  so today's figures and the sessions of the last 24 hours are full, as for an
  active user (``--real-clock`` to use the wall clock); the big-ledger idle run
  uses the same clock. Children compile bytecode into a scratch prefix
  (PYTHONPYCACHEPREFIX), so timed runs import compiled modules as an installed
  package does, even where PYTHONDONTWRITEBYTECODE is set. Target < 1.5 s.

The corpus comes from ``<shared>/bench/gen_corpus.py`` as for ``bench_ingest.py``.
Cross-process times use ``time.monotonic`` (CLOCK_MONOTONIC, one clock per machine
on Linux). CPU figures come from getrusage (this process) or /proc (children), so
this script needs Linux.

Exit status: 0 when every appended record reached the screen, 1 when one did
not within ``--timeout`` seconds, 2 on a setup error. Missed targets are flagged
in the table, not in the status.

usage: python bench/bench_dashboard.py [--size M] [--corpus-dir DIR] [--shared DIR]
                                       [--appends 50] [--idle-seconds 60]
                                       [--paint-runs 5] [--timeout 45] [--skip PHASE]
                                       [--no-history] [--real-clock] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import gc
import inspect
import json
import math
import os
import random
import resource
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import textual
from bench_ingest import (
    Corpus,
    SetupError,
    add_corpus_arguments,
    ensure_corpus,
    load_corpus,
    positive_int,
    progress,
    run_once,
    tool_env,
    warm_page_cache,
)

from tokenbuddy.services.dashboard import DashboardService
from tokenbuddy.services.demo import write_demo_history
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.store.paths import app_paths
from tokenbuddy.store.timezone import resolve_zone
from tokenbuddy.tui.app import TokenBuddyApp
from tokenbuddy.tui.config import DashboardConfig

if TYPE_CHECKING:
    from collections.abc import Callable

    from tokenbuddy.tui.messages import SnapshotBuilt

PHASES = ("latency", "idle", "paint", "terminal")
LATENCY_TARGET_S = 1.0
LATENCY_AIM_S = 0.25
IDLE_TARGET_PCT = 2.0
PAINT_TARGET_S = 1.5
SIZE = (80, 24)
SETTLE_S = 2.0
"""Quiet time after the first snapshot before an idle window starts."""
LIVE_PROJECT = "/home/dev/src/bench-live"
TICKS = os.sysconf("SC_CLK_TCK")
FILLER = (
    "I'll update the handler so the retry honours the backoff, then run the tests "
    "again to check the flaky case no longer reproduces. "
) * 4

# --------------------------------------------------------------------------- arguments


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_corpus_arguments(parser)
    parser.add_argument(
        "--appends", type=positive_int, default=50, help="records appended (default 50)"
    )
    parser.add_argument(
        "--idle-seconds",
        type=positive_float,
        default=60.0,
        help="length of each idle window (default 60)",
    )
    parser.add_argument(
        "--paint-runs", type=positive_int, default=5, help="first-paint runs (default 5)"
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=45.0,
        help="seconds to wait for an append or a first paint (default 45)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        choices=PHASES,
        default=[],
        help="skip a phase (repeatable); 'terminal' skips the pseudo-terminal runs",
    )
    parser.add_argument(
        "--no-history", action="store_true", help="latency/idle: the live session only"
    )
    parser.add_argument(
        "--real-clock",
        action="store_true",
        help="first paint: the wall clock instead of one pinned after the corpus's last request",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed for records and gaps")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    return parser.parse_args(argv)


def positive_float(value: str) -> float:
    """An argparse type: a number above 0."""
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {value}")
    return number


# --------------------------------------------------------------------------- figures


def nearest_rank(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted values."""
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def spread_ms(values: list[float]) -> dict[str, float] | None:
    """Median, p90, min and max of durations in seconds, as milliseconds."""
    if not values:
        return None
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered) * 1000,
        "p90": nearest_rank(ordered, 0.9) * 1000,
        "min": ordered[0] * 1000,
        "max": ordered[-1] * 1000,
    }


def cpu_seconds_self() -> tuple[float, int]:
    """This process's CPU time (every thread, live or finished) and context switches."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, usage.ru_nvcsw + usage.ru_nivcsw


def _stat_cpu(stat_path: str) -> float:
    """utime + stime from a /proc stat file, in seconds."""
    text = Path(stat_path).read_text()
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def thread_cpu(pid: int | str = "self") -> dict[int, float]:
    """CPU seconds of each live thread of a process, by thread id."""
    found: dict[int, float] = {}
    task_dir = f"/proc/{pid}/task"
    for tid in os.listdir(task_dir):
        with contextlib.suppress(OSError):
            found[int(tid)] = _stat_cpu(f"{task_dir}/{tid}/stat")
    return found


def process_usage(pid: int) -> tuple[float, int]:
    """A child's CPU seconds (every thread) and its live threads' context switches."""
    cpu = _stat_cpu(f"/proc/{pid}/stat")
    switches = 0
    task_dir = f"/proc/{pid}/task"
    for tid in os.listdir(task_dir):
        with contextlib.suppress(OSError):
            for line in Path(f"{task_dir}/{tid}/status").read_text().splitlines():
                if "ctxt_switches:" in line:
                    switches += int(line.split()[1])
    return cpu, switches


# --------------------------------------------------------------------------- logs


@dataclass(slots=True)
class LiveLogs:
    """A temporary Claude config dir with one live session, as the app sees it."""

    root: Path
    transcript: Path
    session_id: str
    environ: dict[str, str]
    rng: random.Random
    written: int = 0

    @property
    def home(self) -> Path:
        """The ``TOKENBUDDY_HOME`` the in-process and child apps share."""
        return self.root / "tokenbuddy-home"

    def config(self) -> DashboardConfig:
        """What ``user_config()`` gives with this environment and default settings."""
        paths = app_paths({"TOKENBUDDY_HOME": str(self.home)})
        paths.ensure()
        return DashboardConfig(
            ledger_path=paths.ledger,
            config_file=paths.config_file,
            roots=log_roots(self.environ, self.root),
            zone=resolve_zone(None),
        )

    def child_env(self) -> dict[str, str]:
        """The environment of a child dashboard on these logs."""
        return {**os.environ, **self.environ, "TOKENBUDDY_HOME": str(self.home)}

    def append(self) -> float:
        """Append one complete assistant record; returns the time the file was closed."""
        line = assistant_line(self.session_id, self.rng, datetime.now(UTC))
        with self.transcript.open("ab") as handle:
            handle.write(line)
            handle.flush()
        done = time.perf_counter()
        self.written += 1
        return done


def make_live_logs(root: Path, *, history: bool, seed: int) -> LiveLogs:
    """The demo history (unless not wanted) plus a live session of a few records."""
    now = datetime.now(UTC)
    if history:
        write_demo_history(root, now)
    claude_dir, codex_home = root / "claude", root / "codex"
    rng = random.Random(seed)  # benchmark data: reproducible
    session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    transcript = claude_dir / "projects" / LIVE_PROJECT.replace("/", "-") / f"{session_id}.jsonl"
    transcript.parent.mkdir(parents=True, exist_ok=True)
    earlier = [now - timedelta(minutes=minutes) for minutes in (9, 6, 3)]
    transcript.write_bytes(b"".join(assistant_line(session_id, rng, t) for t in earlier))
    environ = {"CLAUDE_CONFIG_DIR": str(claude_dir), "CODEX_HOME": str(codex_home)}
    return LiveLogs(root, transcript, session_id, environ, rng)


def assistant_line(session_id: str, rng: random.Random, moment: datetime) -> bytes:
    """One final assistant line as Claude Code writes it, with fresh message and request ids."""
    message_id = f"msg_01{rng.getrandbits(96):024x}"
    writes = rng.randint(200, 3000)
    one_hour = writes if rng.random() < 0.2 else 0
    record = {
        "parentUuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "isSidechain": False,
        "userType": "external",
        "cwd": LIVE_PROJECT,
        "sessionId": session_id,
        "version": "2.1.90",
        "gitBranch": "main",
        "message": {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": FILLER}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": rng.randint(1, 12),
                "cache_creation_input_tokens": writes,
                "cache_read_input_tokens": rng.randint(20_000, 120_000),
                "cache_creation": {
                    "ephemeral_5m_input_tokens": writes - one_hour,
                    "ephemeral_1h_input_tokens": one_hour,
                },
                "output_tokens": rng.randint(40, 1800),
                "service_tier": "standard",
            },
        },
        "requestId": f"req_011C{rng.getrandbits(96):024x}",
        "type": "assistant",
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
    }
    return orjson.dumps(record) + b"\n"


# --------------------------------------------------------------------------- the probed app


def app_css_path() -> str:
    """The dashboard's stylesheet as an absolute path (Textual resolves a relative
    ``CSS_PATH`` against the file of the subclass, not of the app)."""
    return str(Path(inspect.getfile(TokenBuddyApp)).parent / str(TokenBuddyApp.CSS_PATH))


class ProbeService(DashboardService):
    """The dashboard service, timing each snapshot it builds."""

    def __init__(self, config: DashboardConfig) -> None:
        super().__init__(config)
        self.builds: list[tuple[float, float]] = []

    def snapshot(self) -> Any:
        start = time.perf_counter()
        try:
            return super().snapshot()
        finally:
            self.builds.append((start, time.perf_counter()))


class ProbeApp(TokenBuddyApp):
    """The dashboard with time stamps: snapshots shown and painted, watcher hand-overs.

    Textual calls a message's handlers along the class hierarchy, subclass first,
    so :meth:`on_snapshot_built` here only schedules a stamp for after the app's own
    handler (``call_next``); it must not call ``super()``.
    """

    CSS_PATH = app_css_path()

    def __init__(self, config: DashboardConfig) -> None:
        probe = ProbeService(config)
        super().__init__(config, probe)
        self.shown: list[tuple[float, int]] = []
        self.painted: list[tuple[float, int]] = []
        self.handovers: list[float] = []
        self.builds = probe.builds
        self.timers: list[tuple[float, str]] = []

    def on_snapshot_built(self, message: SnapshotBuilt) -> None:
        self.call_next(self._stamp_shown, message.snapshot.total_requests)

    def _stamp_shown(self, total: int) -> None:
        self.shown.append((time.perf_counter(), total))
        self.call_after_refresh(self._stamp_painted, total)

    def _stamp_painted(self, total: int) -> None:
        self.painted.append((time.perf_counter(), total))

    def _on_watch(self, paths: frozenset[str]) -> None:
        self.handovers.append(time.perf_counter())
        super()._on_watch(paths)

    def action_rescan(self) -> None:
        self.timers.append((time.perf_counter(), "rescan"))
        super().action_rescan()

    def refresh_snapshot(self) -> Any:
        self.timers.append((time.perf_counter(), "refresh"))
        return super().refresh_snapshot()

    @property
    def ready(self) -> bool:
        """The first snapshot is shown and the watcher follows the logs."""
        return bool(self.shown) and (self._watcher is not None or not self.config.watch)

    def running_timers(self) -> list[str]:
        """The Textual timers scheduled and not paused, as 'Widget#id every N s'."""
        found = []
        for node in [self, *self.screen.walk_children(with_self=True)]:
            for timer in list(getattr(node, "_timers", ())):
                if timer._task is None or not timer._active.is_set():
                    continue
                name = "" if timer.name.startswith(("Timer#", "auto refresh")) else timer.name
                if timer.name.startswith("auto refresh"):
                    name = "auto_refresh"
                owner = f"{type(node).__name__}#{node.id}" if node.id else type(node).__name__
                found.append(f"{owner} {name} every {timer._interval:.3g} s".replace("  ", " "))
        return sorted(found)


async def until(app: ProbeApp, condition: Callable[[], bool], timeout: float) -> bool:
    """Let the app run until ``condition()`` holds; False on timeout or when the app exits."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline or app._exit:
            return False
        await asyncio.sleep(0.002)
    return True


def painted_since(app: ProbeApp, total: int, after: float) -> bool:
    """Whether a refresh after ``after`` painted a snapshot of at least ``total`` requests."""
    return first_at_least(app.painted, total, after) is not None


def first_at_least(stamps: list[tuple[float, int]], total: int, after: float) -> float | None:
    """The first stamp after ``after`` whose request total reached ``total``."""
    for moment, seen in stamps:
        if moment >= after and seen >= total:
            return moment
    return None


# --------------------------------------------------------------------------- latency


@dataclass(slots=True)
class Append:
    """One appended record's timings, in seconds from the write (None: never seen)."""

    handover: float | None = None
    shown: float | None = None
    painted: float | None = None
    near_timer: str = ""
    gap_before: float = 0.0
    gc_ms: float = 0.0
    """Garbage collection in this process between the write and the paint."""


class GcPauses:
    """This process's garbage collections while in use: (start, seconds, generation)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float, int]] = []
        self._start = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._start = now
        else:
            self.pauses.append((self._start, now - self._start, info["generation"]))

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def between(self, start: float, end: float) -> float:
        """Seconds spent collecting between ``start`` and ``end``."""
        return sum(took for began, took, _ in self.pauses if start <= began <= end)

    def figures(self) -> dict[str, Any]:
        """Count and longest pause per generation, in ms."""
        return {
            f"gen{generation}": {
                "count": len(took),
                "max_ms": round(max(took) * 1000, 1),
                "total_ms": round(sum(took) * 1000, 1),
            }
            for generation in (0, 1, 2)
            if (took := [t for _, t, g in self.pauses if g == generation])
        }


async def _latency(logs: LiveLogs, appends: int, timeout: float, seed: int) -> dict[str, Any]:
    app = ProbeApp(logs.config())
    gaps = random.Random(seed + 1)  # pacing between appends
    results: list[Append] = []
    collections = GcPauses()
    async with app.run_test(size=SIZE):
        if not await until(app, lambda: app.ready, timeout):
            raise SetupError("latency: the dashboard showed no first snapshot")
        await asyncio.sleep(0.3)
        assert app.snapshot is not None
        base = app.snapshot.total_requests
        progress(f"latency: first snapshot with {base:,} requests; appending {appends} records")
        with collections:
            for number in range(1, appends + 1):
                gap = gaps.uniform(0.1, 0.4)
                await asyncio.sleep(gap)
                written = logs.append()
                want = base + number
                await until(app, partial(painted_since, app, want, written), timeout)
                results.append(_timings(app, written, want, gap, collections))
        await asyncio.sleep(0.05)
    shown = [r.shown for r in results if r.shown is not None]
    figures = {
        "appends": appends,
        "seen": len(shown),
        "requests_before": base,
        "debounce_s": app.config.refresh_seconds,
        "shown_ms": spread_ms(shown),
        "painted_ms": spread_ms([r.painted for r in results if r.painted is not None]),
        "handover_ms": spread_ms([r.handover for r in results if r.handover is not None]),
        "after_handover_ms": spread_ms(
            [r.shown - r.handover for r in results if r.shown is not None and r.handover]
        ),
        "snapshot_build_ms": spread_ms([end - start for start, end in app.builds]),
        "shown_samples_ms": [round(r.shown * 1000, 1) if r.shown else None for r in results],
        "painted_samples_ms": [round(r.painted * 1000, 1) if r.painted else None for r in results],
        "timer_ticks": [name for _, name in app.timers],
        "gc_during_appends": collections.figures(),
    }
    figures["spikes"] = _spikes(results, figures["shown_ms"], figures["painted_ms"])
    return figures


def _timings(app: ProbeApp, written: float, want: int, gap: float, collections: GcPauses) -> Append:
    result = Append(gap_before=gap)
    shown = first_at_least(app.shown, want, written)
    painted = first_at_least(app.painted, want, written)
    handover = next((t for t in app.handovers if t >= written), None)
    result.shown = shown - written if shown is not None else None
    result.painted = painted - written if painted is not None else None
    if handover is not None and (shown is None or handover <= shown):
        result.handover = handover - written
    end = shown if shown is not None else time.perf_counter()
    result.near_timer = ",".join(
        name for moment, name in app.timers if written - 1.0 <= moment <= end
    )
    result.gc_ms = collections.between(written, painted or time.perf_counter()) * 1000
    return result


SPIKE_MS = 50.0
"""An append is a spike when shown or painted this much later than the median."""


def _spikes(
    results: list[Append], shown: dict[str, float] | None, painted: dict[str, float] | None
) -> list[dict[str, Any]]:
    """Appends shown or painted over SPIKE_MS later than the median, with what ran meanwhile."""
    if shown is None or painted is None:
        return [{"append": i + 1, "shown_ms": None} for i in range(len(results))]
    shown_limit = (shown["median"] + SPIKE_MS) / 1000
    painted_limit = (painted["median"] + SPIKE_MS) / 1000
    return [
        {
            "append": index + 1,
            "shown_ms": round(r.shown * 1000, 1) if r.shown is not None else None,
            "painted_ms": round(r.painted * 1000, 1) if r.painted is not None else None,
            "handover_ms": round(r.handover * 1000, 1) if r.handover is not None else None,
            "gc_ms": round(r.gc_ms, 1),
            "timer_nearby": r.near_timer or None,
        }
        for index, r in enumerate(results)
        if r.shown is None
        or r.painted is None
        or r.shown > shown_limit
        or r.painted > painted_limit
    ]


# --------------------------------------------------------------------------- idle, in process


async def _idle_headless(logs: LiveLogs, seconds: float, timeout: float) -> dict[str, Any]:
    app = ProbeApp(logs.config())
    async with app.run_test(size=SIZE):
        if not await until(app, lambda: app.ready, timeout):
            raise SetupError("idle: the dashboard showed no first snapshot")
        await asyncio.sleep(SETTLE_S)
        progress(f"idle (headless, this process): {seconds:g} s with nothing written ...")
        names = {t.native_id: t.name for t in threading.enumerate()}
        threads_before = thread_cpu()
        shown_before, timers_before = len(app.shown), len(app.timers)
        cpu_before, switches_before = cpu_seconds_self()
        start = time.perf_counter()
        await asyncio.sleep(seconds)
        wall = time.perf_counter() - start
        cpu_after, switches_after = cpu_seconds_self()
        threads_after = thread_cpu()
        names |= {t.native_id: t.name for t in threading.enumerate()}
        running = app.running_timers()
        snapshots = len(app.shown) - shown_before
        ticks = [name for _, name in app.timers[timers_before:]]
    cpu = cpu_after - cpu_before
    per_thread = {
        names.get(tid, f"tid {tid}"): round((used - threads_before.get(tid, 0.0)) * 1000)
        for tid, used in threads_after.items()
        if used - threads_before.get(tid, 0.0) > 0
    }
    per_thread["(threads ended meanwhile)"] = max(round(cpu * 1000) - sum(per_thread.values()), 0)
    return {
        "wall_s": round(wall, 3),
        "cpu_ms": round(cpu * 1000, 1),
        "cpu_pct": cpu / wall * 100,
        "context_switches_per_s": (switches_after - switches_before) / wall,
        "snapshots_built": snapshots,
        "timer_ticks": ticks,
        "per_thread_cpu_ms": dict(sorted(per_thread.items(), key=lambda kv: -kv[1])),
        "textual_timers_running": running,
    }


# --------------------------------------------------------------------------- child dashboards

DRIVER = r'''
"""Launch the dashboard as ``tokenbuddy`` does (``user_config()``), with time stamps."""
import asyncio, dataclasses, json, os, sys, time

stamps = {"main": time.monotonic()}
from tokenbuddy.tui.launch import user_config
from tokenbuddy.services.dashboard import DashboardService
from tokenbuddy.tui.app import TokenBuddyApp

stamps["imported"] = time.monotonic()
mode, out = sys.argv[1], sys.argv[2]
config = user_config()
if os.environ.get("BENCH_CLOCK"):
    pinned = float(os.environ["BENCH_CLOCK"])
    config = dataclasses.replace(config, clock=lambda: pinned)
stamps["configured"] = time.monotonic()


class ProbeService(DashboardService):
    def sync(self, progress=None):
        start = time.monotonic()
        try:
            return super().sync(progress)
        finally:
            stamps.setdefault("sync_s", time.monotonic() - start)

    def snapshot(self):
        start = time.monotonic()
        try:
            return super().snapshot()
        finally:
            stamps.setdefault("build_s", time.monotonic() - start)


class Probe(TokenBuddyApp):
    CSS_PATH = os.path.join(os.path.dirname(sys.modules[TokenBuddyApp.__module__].__file__),
                            TokenBuddyApp.CSS_PATH)
    done = None

    def on_mount(self):  # runs before the app's own on_mount (handlers follow the MRO)
        stamps["mounted"] = time.monotonic()
        self.call_after_refresh(self._stamp, "first_frame")

    def _stamp(self, name):
        stamps.setdefault(name, time.monotonic())

    def on_snapshot_built(self, message):
        if "snapshot" not in stamps:
            self.call_next(self._shown, message.snapshot.total_requests)

    def _shown(self, total):
        stamps["snapshot"] = time.monotonic()
        stamps["total_requests"] = total
        self.call_after_refresh(self._painted)

    def _painted(self):
        stamps["painted"] = time.monotonic()
        with open(out + ".tmp", "w") as handle:
            json.dump(stamps, handle)
        os.replace(out + ".tmp", out)
        if self.done is not None:
            self.done.set()


async def headless():
    app = Probe(config, ProbeService(config))
    app.done = asyncio.Event()
    async with app.run_test(size=(80, 24)):
        await asyncio.wait_for(app.done.wait(), 120)


if mode == "headless":
    asyncio.run(headless())
else:
    Probe(config, ProbeService(config)).run()
'''


@dataclass(slots=True)
class Child:
    """A child dashboard and the file its stamps arrive in."""

    process: subprocess.Popen[bytes]
    spawned: float
    stamps_path: Path
    terminal: Terminal | None = None

    def stamps(self, timeout: float) -> dict[str, float]:
        """The stamps, once the first snapshot is painted (or the child exits)."""
        deadline = time.monotonic() + timeout
        while not self.stamps_path.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SetupError(f"the child dashboard painted no snapshot:\n{self.output()}")
            time.sleep(0.005)
        return json.loads(self.stamps_path.read_text())

    def output(self) -> str:
        """The tail of what the child wrote (terminal runs only)."""
        if self.terminal is None:
            return "(headless: see stderr above)"
        return self.terminal.tail().decode(errors="replace")

    def stop(self) -> None:
        """Quit the app as a user would ('q'), killing it if it does not go."""
        if self.process.poll() is None:
            if self.terminal is not None:
                self.terminal.send(b"q")
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.terminal is not None:
            self.terminal.close()


class Terminal:
    """A pseudo-terminal of 80x24 whose output is drained (and counted) by a thread."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        self.bytes_out = 0
        self._tail = bytearray()
        self._reader = threading.Thread(target=self._drain, name="pty-drain", daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.bytes_out += len(chunk)
            self._tail = (self._tail + chunk)[-4096:]

    def send(self, data: bytes) -> None:
        """Type ``data``."""
        with contextlib.suppress(OSError):
            os.write(self.master, data)

    def tail(self) -> bytes:
        """The last bytes written to the terminal."""
        return bytes(self._tail)

    def close(self) -> None:
        """Close both ends once the child has gone."""
        with contextlib.suppress(OSError):
            os.close(self.slave)
        self._reader.join(timeout=2)
        with contextlib.suppress(OSError):
            os.close(self.master)


def with_bytecode_cache(env: dict[str, str], scratch: Path) -> dict[str, str]:
    """``env`` with bytecode written to and read from a scratch prefix.

    An installed package has its .pyc files; an editable checkout run with
    PYTHONDONTWRITEBYTECODE has none and compiles every module at each start.
    A prefix gives the children compiled modules (from the warm-up run on)
    without writing into the checkout.
    """
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    return env


def launch(driver: Path, mode: str, env: dict[str, str], stamps_path: Path) -> Child:
    """Start a child dashboard, headless or in a fresh pseudo-terminal."""
    stamps_path.unlink(missing_ok=True)
    env = with_bytecode_cache(env, stamps_path.parent)
    argv = [sys.executable, str(driver), mode, str(stamps_path)]
    if mode == "headless":
        spawned = time.monotonic()
        process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL)
        return Child(process, spawned, stamps_path)
    terminal = Terminal()
    env = {**env, "TERM": "xterm-256color", "COLUMNS": str(SIZE[0]), "LINES": str(SIZE[1])}
    spawned = time.monotonic()
    process = subprocess.Popen(
        argv,
        env=env,
        stdin=terminal.slave,
        stdout=terminal.slave,
        stderr=terminal.slave,
        start_new_session=True,
    )
    return Child(process, spawned, stamps_path, terminal)


STAGES = (
    ("interpreter", "main", "interpreter up"),
    ("imports", "imported", "imports done"),
    ("config", "configured", "user_config() done"),
    ("first_frame", "first_frame", "first frame (no data)"),
    ("snapshot", "snapshot", "first snapshot shown"),
    ("painted", "painted", "first snapshot painted"),
)


def paint_runs(
    driver: Path, mode: str, env: dict[str, str], runs: int, scratch: Path, timeout: float
) -> dict[str, Any]:
    """One warm-up launch, then ``runs`` timed ones: seconds from spawn to each stage."""
    samples: list[dict[str, float]] = []
    for index in range(runs + 1):
        child = launch(driver, mode, env, scratch / f"stamps-{mode}.json")
        stamps = child.stamps(timeout)
        child.stop()
        row = {key: stamps[stamp] - child.spawned for key, stamp, _ in STAGES}
        row |= {k: stamps[k] for k in ("sync_s", "build_s", "watcher_start_s") if k in stamps}
        row["total_requests"] = stamps.get("total_requests", 0)
        label = "warm-up" if index == 0 else f"{index}/{runs}"
        progress(f"  first paint {mode} {label}: {row['snapshot']:.3f} s to the first snapshot")
        if index:
            samples.append(row)
    keys = [key for key, _, _ in STAGES] + ["sync_s", "build_s", "watcher_start_s"]
    medians = {key: statistics.median(s[key] for s in samples) for key in keys if key in samples[0]}
    return {
        "median_s": medians,
        "snapshot_runs_s": [round(s["snapshot"], 4) for s in samples],
        "total_requests": samples[-1]["total_requests"],
    }


def idle_terminal(
    driver: Path, env: dict[str, str], seconds: float, scratch: Path, timeout: float, label: str
) -> dict[str, Any]:
    """CPU of the real app in a pseudo-terminal while nothing is written."""
    child = launch(driver, "terminal", env, scratch / "stamps-idle.json")
    try:
        child.stamps(timeout)
        time.sleep(SETTLE_S)
        assert child.terminal is not None
        progress(f"idle (terminal, {label}): {seconds:g} s with nothing written ...")
        pid = child.process.pid
        cpu_before, switches_before = process_usage(pid)
        out_before = child.terminal.bytes_out
        start = time.monotonic()
        time.sleep(seconds)
        wall = time.monotonic() - start
        cpu_after, switches_after = process_usage(pid)
        out_after = child.terminal.bytes_out
        threads = sorted(thread_cpu(pid).values(), reverse=True)
    finally:
        child.stop()
    cpu = cpu_after - cpu_before
    return {
        "wall_s": round(wall, 3),
        "cpu_ms": round(cpu * 1000, 1),
        "cpu_pct": cpu / wall * 100,
        "context_switches_per_s": (switches_after - switches_before) / wall,
        "terminal_bytes_per_s": (out_after - out_before) / wall,
        "threads": len(threads),
        "busiest_threads_total_cpu_s": [round(t, 2) for t in threads[:4]],
    }


# --------------------------------------------------------------------------- the big ledger


@dataclass(slots=True)
class BigLedger:
    """A ledger built from the corpus, and the environment that opens it."""

    env: dict[str, str]
    figures: dict[str, Any] = field(default_factory=dict)


def build_big_ledger(corpus: Corpus, scratch: Path, *, real_clock: bool) -> BigLedger:
    """Ingest the corpus once (``report daily``) into a fresh ``TOKENBUDDY_HOME``."""
    home = scratch / "big-home"
    home.mkdir()
    env = tool_env(corpus, scratch, home)
    progress(f"building the ledger from the {corpus.mb:,.0f} MB corpus ...")
    run = run_once([sys.executable, "-m", "tokenbuddy", "report", "daily", "--json"], env)
    ledger = app_paths({"TOKENBUDDY_HOME": str(home)}).ledger
    with contextlib.closing(sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)) as db:
        requests, last_ms = db.execute("SELECT COUNT(*), MAX(ts_ms) FROM requests").fetchone()
        rollup = db.execute("SELECT COUNT(*) FROM usage_rollup").fetchone()[0]
        files = db.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    size = sum(p.stat().st_size for p in ledger.parent.glob(ledger.name + "*"))
    clock = None if real_clock else last_ms / 1000 + 60
    if clock is not None:
        env["BENCH_CLOCK"] = repr(clock)
    figures = {
        "build_s": round(run.wall_s, 3),
        "requests": requests,
        "rollup_rows": rollup,
        "files": files,
        "ledger_mb": round(size / 1e6, 1),
        "clock": "wall clock"
        if clock is None
        else datetime.fromtimestamp(clock, UTC).isoformat(timespec="seconds"),
    }
    return BigLedger(env, figures)


# --------------------------------------------------------------------------- collection


def collect(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """Run every phase not skipped and gather the figures."""
    skip = set(args.skip)
    terminal = "terminal" not in skip
    figures: dict[str, Any] = {
        "python": sys.version.split()[0],
        "textual": textual.__version__,
        "cpus": os.cpu_count(),
        "size": SIZE,
        "idle_seconds": args.idle_seconds,
    }
    driver = scratch / "driver.py"
    driver.write_text(DRIVER)
    logs = make_live_logs(scratch / "live", history=not args.no_history, seed=args.seed)
    if "latency" not in skip:
        figures["latency"] = asyncio.run(_latency(logs, args.appends, args.timeout, args.seed))
    if "idle" not in skip:
        idle: dict[str, Any] = {
            "headless": asyncio.run(_idle_headless(logs, args.idle_seconds, args.timeout))
        }
        if terminal:
            idle["terminal"] = idle_terminal(
                driver, logs.child_env(), args.idle_seconds, scratch, args.timeout, "small"
            )
        figures["idle"] = idle
    if "paint" in skip and ("idle" in skip or not terminal):
        return figures
    corpus = load_corpus(ensure_corpus(args.corpus_dir, args.size, args.shared))
    progress(f"warming the page cache: {corpus.mb:,.1f} MB in {len(corpus.files):,} files")
    warm_page_cache(corpus.files)
    big = build_big_ledger(corpus, scratch, real_clock=args.real_clock)
    figures["ledger"] = {
        "corpus": args.size,
        "corpus_mb": round(corpus.mb, 1),
        "corpus_files": len(corpus.files),
        **big.figures,
    }
    if "paint" not in skip:
        paint = {
            "headless": paint_runs(
                driver, "headless", big.env, args.paint_runs, scratch, args.timeout
            )
        }
        if terminal:
            paint["terminal"] = paint_runs(
                driver, "terminal", big.env, args.paint_runs, scratch, args.timeout
            )
        figures["first_paint"] = paint
    if "idle" not in skip and terminal:
        figures["idle"]["terminal_big"] = idle_terminal(
            driver, big.env, args.idle_seconds, scratch, args.timeout, "big ledger"
        )
    return figures


# --------------------------------------------------------------------------- output


def verdict(ok: bool) -> str:
    """The table's target column."""
    return "ok" if ok else "MISSED"


def format_table(figures: dict[str, Any]) -> str:
    """The figures as an aligned, human-readable summary."""
    lines = [
        f"tokenbuddy dashboard benchmark: Python {figures['python']}, Textual "
        f"{figures['textual']}, {figures['cpus']} CPUs, {SIZE[0]}x{SIZE[1]}",
    ]
    if "latency" in figures:
        lines += ["", *format_latency(figures["latency"])]
    if "idle" in figures:
        lines += ["", *format_idle(figures["idle"], figures)]
    if "first_paint" in figures:
        lines += ["", *format_paint(figures["first_paint"], figures["ledger"])]
    return "\n".join(lines)


def format_latency(latency: dict[str, Any]) -> list[str]:
    """The append-to-screen section."""
    header = f"{'append -> screen (ms)':<36}{'median':>9}{'p90':>9}{'max':>9}  target"
    lines = [
        f"Append-to-screen latency: {latency['seen']}/{latency['appends']} records seen, "
        f"{latency['requests_before']:,} requests before, "
        f"watcher debounce {latency['debounce_s']:g} s",
        header,
        "-" * len(header),
    ]
    rows = (
        ("shown_ms", "write -> snapshot shown"),
        ("painted_ms", "write -> screen painted"),
        ("handover_ms", "  write -> watcher hand-over"),
        ("after_handover_ms", "  hand-over -> shown"),
        ("snapshot_build_ms", "  snapshot query (each build)"),
    )
    for key, label in rows:
        spread = latency.get(key)
        if spread is None:
            lines.append(f"{label:<36}{'-':>9}{'-':>9}{'-':>9}")
            continue
        target = ""
        if key == "shown_ms":
            target = (
                f"<= {LATENCY_TARGET_S * 1000:.0f}: {verdict(spread['median'] <= 1000)}; "
                f"aim {LATENCY_AIM_S * 1000:.0f}: "
                f"{verdict(spread['median'] <= LATENCY_AIM_S * 1000)}"
            )
        lines.append(
            f"{label:<36}{spread['median']:>9.1f}{spread['p90']:>9.1f}{spread['max']:>9.1f}"
            f"  {target}"
        )
    for spike in latency["spikes"]:
        lines.append(
            f"  spike: append {spike['append']}: shown {spike['shown_ms']} ms, painted "
            f"{spike.get('painted_ms')} ms, hand-over {spike.get('handover_ms')} ms, "
            f"GC {spike.get('gc_ms', 0):.0f} ms, timer: {spike.get('timer_nearby') or 'none'}"
        )
    full = latency["gc_during_appends"].get("gen2")
    if full:
        lines.append(
            f"  full (gen 2) GC in this process while appending: {full['count']}x, "
            f"longest {full['max_ms']:.0f} ms"
        )
    return lines


def format_idle(idle: dict[str, Any], figures: dict[str, Any]) -> list[str]:
    """The idle CPU section."""
    header = f"{'idle, nothing written':<36}{'CPU %':>9}{'CPU ms':>9}{'csw/s':>9}  target"
    lines = [
        f"Idle CPU over {figures['idle_seconds']:g} s (default 30 s re-scan and refresh)",
        header,
        "-" * len(header),
    ]
    labels = (
        ("headless", "headless app, small history"),
        ("terminal", "terminal app, small history"),
        ("terminal_big", "terminal app, big ledger"),
    )
    for key, label in labels:
        if key not in idle:
            continue
        row = idle[key]
        lines.append(
            f"{label:<36}{row['cpu_pct']:>9.2f}{row['cpu_ms']:>9.0f}"
            f"{row['context_switches_per_s']:>9.1f}  < {IDLE_TARGET_PCT:g}%: "
            f"{verdict(row['cpu_pct'] < IDLE_TARGET_PCT)}"
        )
    headless = idle.get("headless")
    if headless:
        threads = ", ".join(f"{k} {v}" for k, v in list(headless["per_thread_cpu_ms"].items())[:5])
        lines.append(f"  headless per-thread CPU ms: {threads}")
        lines.append(
            f"  headless snapshots built while idle: {headless['snapshots_built']} "
            f"(timers: {', '.join(headless['timer_ticks']) or 'none'})"
        )
        lines.append("  Textual timers running: " + "; ".join(headless["textual_timers_running"]))
    for key in ("terminal", "terminal_big"):
        if key in idle:
            lines.append(
                f"  {key}: {idle[key]['terminal_bytes_per_s']:.1f} bytes/s written to the "
                f"terminal, {idle[key]['threads']} threads"
            )
    return lines


def format_paint(paint: dict[str, Any], ledger: dict[str, Any]) -> list[str]:
    """The first-paint section."""
    modes = [mode for mode in ("headless", "terminal") if mode in paint]
    header = f"{'from spawn, median s':<36}" + "".join(f"{m:>11}" for m in modes) + "  target"
    lines = [
        f"First paint: ledger of {ledger['requests']:,} requests ({ledger['ledger_mb']} MB, "
        f"{ledger['files']:,} files) from the {ledger['corpus_mb']:,} MB {ledger['corpus']} "
        f"corpus, built in {ledger['build_s']:.2f} s; clock: {ledger['clock']}",
        header,
        "-" * len(header),
    ]
    for key, _stamp, label in STAGES:
        cells = "".join(f"{paint[m]['median_s'][key]:>11.3f}" for m in modes)
        target = ""
        if key == "snapshot":
            worst = max(paint[m]["median_s"][key] for m in modes)
            target = f"< {PAINT_TARGET_S:g} s: {verdict(worst < PAINT_TARGET_S)}"
        lines.append(f"{label:<36}{cells}  {target}")
    for key, label in (
        ("sync_s", "  backlog sync (no new bytes)"),
        ("build_s", "  snapshot query"),
        ("watcher_start_s", "  watcher start (in the handler)"),
    ):
        if all(key in paint[m]["median_s"] for m in modes):
            lines.append(
                f"{label:<36}" + "".join(f"{paint[m]['median_s'][key]:>11.3f}" for m in modes)
            )
    for mode in modes:
        runs = ", ".join(f"{s:.3f}" for s in paint[mode]["snapshot_runs_s"])
        lines.append(f"  {mode} runs to first snapshot: {runs}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table (or JSON)."""
    args = parse_args(argv)
    if not sys.platform.startswith("linux"):
        print(
            "bench_dashboard: needs Linux (/proc, CLOCK_MONOTONIC across processes)",
            file=sys.stderr,
        )
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="tokenbuddy-bench-dash-") as scratch:
            figures = collect(args, Path(scratch))
    except SetupError as error:
        print(f"bench_dashboard: {error}", file=sys.stderr)
        return 2
    print(json.dumps(figures, indent=2) if args.json else format_table(figures))
    latency = figures.get("latency")
    return 1 if latency and latency["seen"] < latency["appends"] else 0


if __name__ == "__main__":
    sys.exit(main())
