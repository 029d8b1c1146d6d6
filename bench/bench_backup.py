#!/usr/bin/env python3
"""What the ledger's self-protection costs on a large history: the daily backup, and a
recovery from a damaged ledger.

A benchmark, not a test: it prints figures. The ledger is built by a real
``tokenbuddy report daily`` over the synthetic corpus ``bench_ingest.py`` uses
(``M``: about 520 MB of Claude Code transcripts), then:

* backup: the daily copy as ``Ledger.back_up`` takes it (``PRAGMA quick_check``, then
  SQLite's online backup into a temporary file, synced and renamed), timed in this
  process, with the sizes of the ledger and of its copy;
* warm report: ``report daily`` with nothing new to read and today's copy already
  taken, the usual run, for comparison;
* report on the first run of a day: the same, with the day's copy still to take;
* recovery: ``report daily`` on a ledger whose rollup pages were overwritten with
  garbage: the whole command, which moves the ledger aside, restores the copy, re-reads
  the logs since (none are new) and answers; its totals are checked against the
  corpus's ground truth;
* recovery without a copy: the same with no backup, so every log is read again.

usage: python bench/bench_backup.py [--size XS|S|M|L] [--runs 3] [--corpus-dir DIR]
                                    [--shared DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path[:0] = [str(REPO_ROOT), str(BENCH_DIR)]

import bench_ingest  # noqa: E402  (a sibling script, found through sys.path)

from tokenbuddy.store.ledger import Ledger, backups  # noqa: E402

REPORT = [sys.executable, "-m", "tokenbuddy", "report", "daily", "--json"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench_ingest.add_corpus_arguments(parser)
    parser.add_argument("--runs", type=bench_ingest.positive_int, default=3)
    return parser.parse_args(argv)


def timed(runs: int, label: str, once: Callable[[int], float]) -> list[float]:
    """``once(i)`` seconds for each of ``runs`` runs, each reported on stderr."""
    walls = []
    for index in range(runs):
        wall = once(index)
        bench_ingest.progress(f"  {label} {index + 1}/{runs}: {wall:.3f} s")
        walls.append(wall)
    return walls


def take_backup(ledger_path: Path, day: date) -> float:
    """Seconds for ``Ledger.back_up`` to check and copy the ledger as ``day``'s backup."""
    with Ledger(ledger_path) as ledger:
        started = time.perf_counter()
        taken = ledger.back_up(day)
        wall = time.perf_counter() - started
    assert taken is not None, "the backup was not due"
    return wall


def quick_check_seconds(ledger_path: Path) -> float:
    with Ledger(ledger_path) as ledger:
        started = time.perf_counter()
        problems = ledger.integrity_problems()
        wall = time.perf_counter() - started
    assert not problems, problems
    return wall


def damage(ledger_path: Path) -> None:
    """Overwrite the first page of the rollup the reports read with garbage."""
    with sqlite3.connect(ledger_path) as db:
        (page,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'usage_rollup'"
        ).fetchone()
        (size,) = db.execute("PRAGMA page_size").fetchone()
    db.close()
    with ledger_path.open("r+b") as handle:
        handle.seek((page - 1) * size)
        handle.write(bytes(range(256)) * 16)


def report_seconds(env: dict[str, str], corpus: bench_ingest.Corpus) -> float:
    run = bench_ingest.run_once(REPORT, env)
    totals = json.loads(run.stdout)["totals"]
    problems = bench_ingest.compare_totals(
        totals, corpus.ground_truth, bench_ingest.TOKENBUDDY_KEYS, "cost_usd"
    )
    if problems:
        raise bench_ingest.SetupError("totals do not match: " + "; ".join(problems))
    return run.wall_s


def collect(args: argparse.Namespace, scratch: Path) -> dict[str, object]:
    corpus = bench_ingest.load_corpus(
        bench_ingest.ensure_corpus(args.corpus_dir, args.size, args.shared)
    )
    bench_ingest.warm_page_cache(corpus.files)
    home = scratch / "home"
    env = bench_ingest.tool_env(corpus, scratch, home)
    ledger_path = home / "data" / "ledger.sqlite3"
    directory = backups.backup_dir(ledger_path)
    bench_ingest.progress(f"building the ledger from {corpus.mb:,.0f} MB of logs ...")
    bench_ingest.run_once(REPORT, env)
    pristine = scratch / "pristine"
    shutil.copytree(home, pristine)
    shutil.rmtree(directory)

    days = [date(2030, 1, 1) + timedelta(days=n) for n in range(args.runs)]
    backup_s = timed(args.runs, "backup", lambda i: take_backup(ledger_path, days[i]))
    check_s = timed(args.runs, "quick_check", lambda _: quick_check_seconds(ledger_path))
    copy = backups.backups(directory)[0]

    def fresh(with_backup: bool) -> None:
        shutil.rmtree(home)
        shutil.copytree(pristine, home)
        if not with_backup:
            shutil.rmtree(directory)

    def warm(_: int) -> float:
        fresh(with_backup=True)
        return report_seconds(env, corpus)

    def first_of_day(_: int) -> float:
        fresh(with_backup=False)
        return report_seconds(env, corpus)

    def recovery(with_backup: bool) -> Callable[[int], float]:
        def once(_: int) -> float:
            fresh(with_backup)
            damage(ledger_path)
            return report_seconds(env, corpus)

        return once

    warm_s = timed(args.runs, "warm report", warm)
    first_s = timed(args.runs, "first report of a day", first_of_day)
    recover_s = timed(args.runs, "recovery from the backup", recovery(True))
    rebuild_s = timed(args.runs, "recovery with no backup", recovery(False))
    return {
        "corpus": args.size,
        "corpus_mb": round(corpus.mb, 1),
        "ledger_mb": round(ledger_path.stat().st_size / 1e6, 1),
        "backup_mb": round(copy.size / 1e6, 1),
        "backup_s": statistics.median(backup_s),
        "quick_check_s": statistics.median(check_s),
        "warm_report_s": statistics.median(warm_s),
        "first_report_of_a_day_s": statistics.median(first_s),
        "recovery_report_s": statistics.median(recover_s),
        "recovery_without_backup_report_s": statistics.median(rebuild_s),
        "runs": args.runs,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tokenbuddy-bench-backup-") as scratch:
        try:
            figures = collect(args, Path(scratch))
        except bench_ingest.SetupError as error:
            print(f"bench_backup: {error}", file=sys.stderr)
            return 2
    width = max(map(len, figures))
    for key, value in figures.items():
        shown = f"{value:.3f}" if isinstance(value, float) and key.endswith("_s") else value
        print(f"{key:<{width}}  {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
