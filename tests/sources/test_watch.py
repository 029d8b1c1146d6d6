"""The log watcher: a lone write is handed over at once, a burst is handed over in few batches."""

from __future__ import annotations

import queue
import time
from typing import TYPE_CHECKING

from tokenbuddy.sources.discovery import LogRoot
from tokenbuddy.sources.watch import LogWatcher, source_of

if TYPE_CHECKING:
    from pathlib import Path

LONG_DEBOUNCE = 3.0


def watch(root: Path, debounce: float) -> tuple[LogWatcher, queue.Queue[frozenset[str]]]:
    batches: queue.Queue[frozenset[str]] = queue.Queue()
    watcher = LogWatcher([LogRoot("claude-code", root, "test")], batches.put, debounce=debounce)
    watcher.start()
    return watcher, batches


def test_first_write_is_handed_over_before_the_debounce_elapses(tmp_path: Path) -> None:
    watcher, batches = watch(tmp_path, LONG_DEBOUNCE)
    try:
        started = time.monotonic()
        (tmp_path / "a.jsonl").write_text("{}\n")
        batch = batches.get(timeout=LONG_DEBOUNCE * 2)
        waited = time.monotonic() - started
    finally:
        watcher.stop()
    assert str(tmp_path / "a.jsonl") in batch
    assert waited < LONG_DEBOUNCE


def test_a_burst_is_batched_and_nothing_is_lost(tmp_path: Path) -> None:
    watcher, batches = watch(tmp_path, 0.5)
    paths = [tmp_path / f"s{n}.jsonl" for n in range(20)]
    try:
        for _ in range(10):
            for path in paths:
                with path.open("a") as handle:
                    handle.write("{}\n")
        seen: set[str] = set()
        calls = 0
        deadline = time.monotonic() + 10
        while len(seen) < len(paths) and time.monotonic() < deadline:
            seen |= batches.get(timeout=5)
            calls += 1
    finally:
        watcher.stop()
    assert seen == {str(path) for path in paths}
    assert calls <= 5, f"200 writes were handed over in {calls} batches"


def test_other_files_and_directories_are_ignored(tmp_path: Path) -> None:
    watcher, batches = watch(tmp_path, 0.05)
    try:
        (tmp_path / "notes.txt").write_text("x")
        (tmp_path / "sub.jsonl").mkdir()
        (tmp_path / "sub.jsonl" / "real.jsonl").write_text("{}\n")
        batch = batches.get(timeout=5)
    finally:
        watcher.stop()
    assert batch == {str(tmp_path / "sub.jsonl" / "real.jsonl")}


def test_source_of_matches_whole_directory_names(tmp_path: Path) -> None:
    roots = [
        LogRoot("claude-code", tmp_path / "claude", "x"),
        LogRoot("codex", tmp_path / "c", "x"),
    ]
    assert source_of(str(tmp_path / "claude" / "p" / "s.jsonl"), roots) == "claude-code"
    assert source_of(str(tmp_path / "c" / "s.jsonl"), roots) == "codex"
    assert source_of(str(tmp_path / "cx" / "s.jsonl"), roots) is None
