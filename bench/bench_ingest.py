#!/usr/bin/env python3
"""Time ``tokenbuddy report daily --json`` over a synthetic Claude Code corpus.

A benchmark, not a test: it prints figures. Every tool runs as a whole process,
the way a user runs it, over a corpus already in the page cache:

* cold: a fresh, empty ``TOKENBUDDY_HOME`` each run, so the whole corpus is ingested;
* warm: the ledger left by the last cold run, with nothing new to read;
* baselines measured in the same run: ``python -c pass`` (interpreter start-up)
  and ``cat`` of every file to /dev/null (read throughput);
* optionally ccusage (``--ccusage CMD``), which must already be installed.

The corpus comes from ``<shared>/bench/gen_corpus.py`` (generated on first use)
and its ``manifest.json`` holds the ground-truth totals that tokenbuddy's report
is checked against: tokens and requests exactly, cost within 0.5%.

MB means 10^6 bytes throughout. Peak RSS is the child's ``ru_maxrss`` from
``os.wait4``: the largest single process among the child and the workers it
reaped, not their sum (forked workers share most of their pages anyway).
Linux folds the memory a child had before ``exec`` (this script's own, with
vfork) into that figure, so it never reads below this script's peak RSS; a
command whose figure does not exceed that floor is shown as "<= floor".

Exit status: 0 when the totals match, 1 when they do not, 2 on a setup error.

usage: python bench/bench_ingest.py [--size XS|S|M|L] [--runs 5] [--corpus-dir DIR]
                                    [--shared DIR] [--ccusage CMD] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
SIZES = ("XS", "S", "M", "L")
REPORT_ARGS = ("-m", "tokenbuddy", "report", "daily", "--json")
COST_TOLERANCE = 0.005
READ_CHUNK = 1 << 20

# tokenbuddy's report totals -> the manifest's ground-truth keys (exact match)
TOKENBUDDY_KEYS = {
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_creation_tokens": "cache_creation",
    "cache_read_tokens": "cache_read",
    "requests": "messages",
}
# ccusage's ``totals`` -> the manifest's ground-truth keys (it has no request count)
CCUSAGE_KEYS = {
    "inputTokens": "input",
    "outputTokens": "output",
    "cacheCreationTokens": "cache_creation",
    "cacheReadTokens": "cache_read",
}


class SetupError(Exception):
    """Something the benchmark needs is missing or broken; the message says what."""


@dataclass(frozen=True, slots=True)
class Corpus:
    """One generated corpus: its Claude config dir, files and ground truth."""

    root: Path
    files: list[Path]
    total_bytes: int
    ground_truth: dict[str, Any]

    @property
    def claude_dir(self) -> Path:
        """The directory to pass as ``CLAUDE_CONFIG_DIR``."""
        return self.root / ".claude"

    @property
    def mb(self) -> float:
        """The corpus size in MB (10^6 bytes)."""
        return self.total_bytes / 1e6


@dataclass(frozen=True, slots=True)
class Run:
    """One finished child process."""

    wall_s: float
    max_rss_kb: int
    rss_floor_kb: int
    stdout: bytes


@dataclass(frozen=True, slots=True)
class Figures:
    """Timings of N runs of one command."""

    median_s: float
    min_s: float
    mb_per_s: float | None
    peak_rss_mb: float
    peak_rss_is_floor: bool
    runs_s: list[float]


# --------------------------------------------------------------------------- arguments


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every benchmark shares: corpus size, where it lives, the shared checkout."""
    parser.add_argument("--size", choices=SIZES, default="M", help="corpus size (default M)")
    parser.add_argument(
        "--corpus-dir",
        type=Path,
        default=REPO_ROOT / "bench" / "corpus",
        help="where corpora live or are generated (default bench/corpus)",
    )
    parser.add_argument(
        "--shared",
        type=Path,
        default=REPO_ROOT.parent / "shared",
        help="the shared checkout holding bench/gen_corpus.py (default ../shared)",
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_corpus_arguments(parser)
    parser.add_argument("--runs", type=positive_int, default=5, help="runs per command (default 5)")
    parser.add_argument(
        "--ccusage",
        metavar="CMD",
        help='also time an installed ccusage, e.g. "npx ccusage@20" or a path',
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    return parser.parse_args(argv)


def positive_int(value: str) -> int:
    """An argparse type: an integer of at least 1."""
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {number}")
    return number


def progress(message: str) -> None:
    """A progress line on stderr, so ``--json`` output stays clean."""
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- corpus


def ensure_corpus(corpus_dir: Path, size: str, shared: Path) -> Path:
    """The corpus root for ``size``, generating it first when its manifest is missing."""
    root = corpus_dir / size
    if (root / "manifest.json").is_file():
        return root
    generator = shared / "bench" / "gen_corpus.py"
    if not generator.is_file():
        raise SetupError(
            f"no corpus at {root} and no generator at {generator}; "
            "pass --shared DIR (the checkout holding bench/gen_corpus.py) or --corpus-dir DIR"
        )
    if (root / ".claude").exists():
        raise SetupError(f"{root} has a .claude tree but no manifest (interrupted?); remove {root}")
    progress(f"generating the {size} corpus into {corpus_dir} ...")
    command = [sys.executable, str(generator), size, "--out", str(corpus_dir), "--jobs", "2"]
    if subprocess.run(command, stdout=sys.stderr, check=False).returncode != 0:
        raise SetupError(f"the generator failed: {shlex.join(command)}")
    if not (root / "manifest.json").is_file():
        raise SetupError(f"the generator wrote no {root / 'manifest.json'}")
    return root


def load_corpus(root: Path) -> Corpus:
    """The corpus's files (in a stable order) and ground truth."""
    claude_dir = root / ".claude"
    if not claude_dir.is_dir():
        raise SetupError(f"{root} has a manifest but no .claude directory; delete it to regenerate")
    files = sorted(path for path in claude_dir.rglob("*") if path.is_file())
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    truth = manifest["ground_truth_deduped_all_files"]
    return Corpus(root, files, sum(path.stat().st_size for path in files), truth)


def warm_page_cache(files: list[Path]) -> None:
    """Read every file once, so every run below starts from a warm page cache."""
    for path in files:
        with path.open("rb", buffering=0) as handle:
            while handle.read(READ_CHUNK):
                pass


# --------------------------------------------------------------------------- running


def run_once(argv: list[str], env: dict[str, str], *, capture: bool = True) -> Run:
    """Run one child to completion, with its wall time and peak RSS.

    Output goes to a temporary file rather than a pipe, so no reader competes
    with the child, and ``os.wait4`` reaps it to get its resource usage.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        floor = rss_kb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        start = time.perf_counter()
        try:
            child = subprocess.Popen(
                argv,
                env=env,
                stdout=out if capture else subprocess.DEVNULL,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        except OSError as error:
            raise SetupError(f"cannot run {shlex.join(argv)}: {error.strerror}") from error
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)  # Popen must not reap it again
        if child.returncode != 0:
            err.seek(0)
            detail = err.read().decode(errors="replace").strip()[-2000:]
            raise SetupError(f"{shlex.join(argv)} exited {child.returncode}:\n{detail}")
        out.seek(0)
        return Run(wall, rss_kb(usage.ru_maxrss), floor, out.read())


def rss_kb(ru_maxrss: int) -> int:
    """``ru_maxrss`` in KB: Linux reports kilobytes, macOS bytes."""
    return ru_maxrss // 1024 if sys.platform == "darwin" else ru_maxrss


def summarize(runs: list[Run], corpus_mb: float | None) -> Figures:
    """Median and min wall time, throughput over ``corpus_mb`` and the peak RSS."""
    walls = [run.wall_s for run in runs]
    median = statistics.median(walls)
    peak = max(runs, key=lambda run: run.max_rss_kb)
    return Figures(
        median_s=median,
        min_s=min(walls),
        mb_per_s=corpus_mb / median if corpus_mb is not None else None,
        peak_rss_mb=peak.max_rss_kb * 1024 / 1e6,
        peak_rss_is_floor=peak.max_rss_kb <= peak.rss_floor_kb,
        runs_s=walls,
    )


def repeat(label: str, runs: int, make_run: Callable[[int], Run]) -> list[Run]:
    """Call ``make_run(i)`` ``runs`` times, reporting each wall time on stderr."""
    results = []
    for index in range(runs):
        result = make_run(index)
        progress(f"  {label} {index + 1}/{runs}: {result.wall_s:.3f} s")
        results.append(result)
    return results


def tool_env(corpus: Corpus, scratch: Path, home: Path | None = None) -> dict[str, str]:
    """The environment for a tool under test: only this corpus, no Codex logs."""
    env = dict(os.environ)
    env["CLAUDE_CONFIG_DIR"] = str(corpus.claude_dir)
    env["CODEX_HOME"] = str(scratch / "no-codex-home")
    if home is not None:
        env["TOKENBUDDY_HOME"] = str(home)
    return env


# --------------------------------------------------------------------------- measurements


def bench_cat(corpus: Corpus, runs: int, scratch: Path) -> Figures:
    """``cat`` of every file to /dev/null: the cost of reading the bytes alone."""
    file_list = scratch / "files.nul"
    file_list.write_bytes(b"".join(bytes(path) + b"\0" for path in corpus.files))
    argv = ["xargs", "-0", "-a", str(file_list), "cat"]
    results = repeat("cat", runs, lambda _: run_once(argv, dict(os.environ), capture=False))
    return summarize(results, corpus.mb)


def bench_python(runs: int) -> Figures:
    """``python -c pass``: the interpreter start-up every Python tool pays."""
    argv = [sys.executable, "-c", "pass"]
    return summarize(
        repeat("python -c pass", runs, lambda _: run_once(argv, dict(os.environ))), None
    )


def bench_tokenbuddy(
    corpus: Corpus, runs: int, scratch: Path
) -> tuple[Figures, Figures, dict[str, Any]]:
    """Cold runs (fresh ledger each), then warm runs on the last ledger.

    Returns the cold and warm figures and the verdict on the last report of each.
    """
    argv = [sys.executable, *REPORT_ARGS]

    def cold(index: int) -> Run:
        home = scratch / f"home-{index}"
        home.mkdir()
        return run_once(argv, tool_env(corpus, scratch, home))

    cold_runs = repeat("tokenbuddy cold", runs, cold)
    warm_env = tool_env(corpus, scratch, scratch / f"home-{runs - 1}")
    warm_runs = repeat("tokenbuddy warm", runs, lambda _: run_once(argv, warm_env))
    verdict = check_reports(
        json.loads(cold_runs[-1].stdout), json.loads(warm_runs[-1].stdout), corpus.ground_truth
    )
    return summarize(cold_runs, corpus.mb), summarize(warm_runs, None), verdict


def bench_ccusage(
    command: str, corpus: Corpus, runs: int, scratch: Path, tokenbuddy_cold: Figures
) -> tuple[Figures, dict[str, Any]]:
    """``CMD daily --json --offline`` over the same corpus.

    Returns its figures, and the speed ratio plus whether its totals match the
    ground truth (a speed comparison means little if the counts differ).
    """
    argv = [*shlex.split(command), "daily", "--json", "--offline"]
    env = tool_env(corpus, scratch)
    results = repeat("ccusage", runs, lambda _: run_once(argv, env))
    figures = summarize(results, corpus.mb)
    problems = ccusage_problems(results[-1].stdout, corpus.ground_truth)
    return figures, {
        "command": command,
        "ratio_tokenbuddy_over_ccusage": tokenbuddy_cold.median_s / figures.median_s,
        "correctness": {"ok": not problems, "mismatches": problems},
    }


# --------------------------------------------------------------------------- correctness


def compare_totals(
    totals: dict[str, Any], truth: dict[str, Any], keys: dict[str, str], cost_key: str
) -> list[str]:
    """The mismatches between a report's totals and the ground truth (empty when all agree)."""
    problems = [
        f"{ours}: got {totals.get(ours)}, expected {truth[theirs]}"
        for ours, theirs in keys.items()
        if totals.get(ours) != truth[theirs]
    ]
    cost, expected = totals.get(cost_key), truth["cost_usd"]
    if not isinstance(cost, int | float) or abs(cost - expected) > COST_TOLERANCE * expected:
        problems.append(f"{cost_key}: got {cost}, expected {expected:.4f} (tolerance 0.5%)")
    return problems


def ccusage_problems(stdout: bytes, truth: dict[str, Any]) -> list[str]:
    """ccusage's totals against the ground truth (its JSON has no request count)."""
    try:
        totals = json.loads(stdout).get("totals")
    except (json.JSONDecodeError, AttributeError):
        totals = None
    if not isinstance(totals, dict):
        return ["no totals object in its JSON output"]
    return compare_totals(totals, truth, CCUSAGE_KEYS, "totalCost")


def check_reports(
    cold: dict[str, Any], warm: dict[str, Any], truth: dict[str, Any]
) -> dict[str, Any]:
    """tokenbuddy's verdict: cold totals against the ground truth, warm against cold."""
    totals = cold["totals"]
    problems = compare_totals(totals, truth, TOKENBUDDY_KEYS, "cost_usd")
    if warm["totals"] != totals:
        problems.append(f"warm totals {warm['totals']} differ from cold totals {totals}")
    return {
        "ok": not problems,
        "mismatches": problems,
        "cost_usd": totals.get("cost_usd"),
        "expected_cost_usd": truth["cost_usd"],
        "skipped_lines": cold.get("skipped_lines"),
    }


# --------------------------------------------------------------------------- output


def check_command(command: str) -> None:
    """Fail early, before the long runs, when ``--ccusage`` names nothing runnable."""
    words = shlex.split(command)
    if not words or shutil.which(words[0]) is None:
        raise SetupError(f"--ccusage {command!r}: no such command (this script installs nothing)")


def compile_bytecode() -> None:
    """Compile tokenbuddy's modules, as installing it does.

    From a source checkout (an editable install), modules are otherwise compiled
    on every run when bytecode cannot be cached (``PYTHONDONTWRITEBYTECODE``),
    which a user of an installed tokenbuddy never pays.
    """
    import importlib.util

    spec = importlib.util.find_spec("tokenbuddy")
    if spec is None or not spec.submodule_search_locations:
        progress("tokenbuddy's package directory was not found: its bytecode is not compiled")
        return
    package = next(iter(spec.submodule_search_locations))
    progress(f"compiling the bytecode of {package}")
    subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=False)


def collect(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """Run every measurement and gather the figures into one JSON-ready object."""
    if args.ccusage:
        check_command(args.ccusage)
    corpus = load_corpus(ensure_corpus(args.corpus_dir, args.size, args.shared))
    progress(f"warming the page cache: {corpus.mb:,.1f} MB in {len(corpus.files):,} files")
    warm_page_cache(corpus.files)
    compile_bytecode()
    results: dict[str, Any] = {
        "cat": bench_cat(corpus, args.runs, scratch),
        "python_startup": bench_python(args.runs),
    }
    cold, warm, verdict = bench_tokenbuddy(corpus, args.runs, scratch)
    results |= {"tokenbuddy_cold": cold, "tokenbuddy_warm": warm}
    figures: dict[str, Any] = {
        "size": args.size,
        "corpus_dir": str(corpus.root),
        "corpus_mb": round(corpus.mb, 3),
        "files": len(corpus.files),
        "runs": args.runs,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "results": results,
        "correctness": verdict,
    }
    if args.ccusage:
        results["ccusage"], figures["ccusage"] = bench_ccusage(
            args.ccusage, corpus, args.runs, scratch, cold
        )
    return figures


ROWS = (
    ("cat", "cat all files > /dev/null"),
    ("python_startup", "python -c pass"),
    ("tokenbuddy_cold", "tokenbuddy cold (empty ledger)"),
    ("tokenbuddy_warm", "tokenbuddy warm (nothing new)"),
    ("ccusage", "ccusage daily --offline"),
)


def format_table(figures: dict[str, Any]) -> str:
    """The figures as an aligned, human-readable summary."""
    results = figures["results"]
    header = f"{'command':<32}{'median s':>10}{'min s':>10}{'MB/s':>10}{'peak RSS MB':>13}"
    lines = [
        f"tokenbuddy ingest benchmark: corpus {figures['size']}, {figures['corpus_mb']:,.1f} MB "
        f"in {figures['files']:,} files, {figures['runs']} runs each, "
        f"Python {figures['python']}, {figures['cpus']} CPUs",
        "",
        header,
        "-" * len(header),
    ]
    for key, label in ROWS:
        if key in results:
            lines.append(format_row(label, results[key]))
    if any(row.peak_rss_is_floor for row in results.values()):
        lines.append("<= : not above this script's own peak RSS, which Linux counts in a child's")
    lines += ["", *format_verdicts(figures)]
    return "\n".join(lines)


def format_row(label: str, row: Figures) -> str:
    """One aligned table row."""
    rate = f"{row.mb_per_s:,.0f}" if row.mb_per_s is not None else "-"
    rss = f"{'<= ' if row.peak_rss_is_floor else ''}{row.peak_rss_mb:.1f}"
    return f"{label:<32}{row.median_s:>10.3f}{row.min_s:>10.3f}{rate:>10}{rss:>13}"


def format_verdicts(figures: dict[str, Any]) -> list[str]:
    """The correctness verdicts and the ccusage ratio, one line each."""
    lines = [f"tokenbuddy totals vs manifest ground truth: {tokenbuddy_verdict(figures)}"]
    if "ccusage" in figures:
        ccusage = figures["ccusage"]
        check = ccusage["correctness"]
        lines.append(
            "ccusage totals vs manifest ground truth: "
            + ("OK" if check["ok"] else "MISMATCH: " + "; ".join(check["mismatches"]))
        )
        lines.append(
            f"tokenbuddy cold / ccusage (median wall): "
            f"{ccusage['ratio_tokenbuddy_over_ccusage']:.2f}x"
        )
    return lines


def tokenbuddy_verdict(figures: dict[str, Any]) -> str:
    """OK with the cost figures, or the list of mismatches."""
    check = figures["correctness"]
    if not check["ok"]:
        return "MISMATCH: " + "; ".join(check["mismatches"])
    cost, expected = check["cost_usd"], check["expected_cost_usd"]
    return (
        f"OK (tokens and requests exact, warm = cold; cost ${cost:,.4f} vs ${expected:,.4f}, "
        f"{(cost / expected - 1) * 100:+.4f}%; {check['skipped_lines']} skipped lines)"
    )


def to_json(figures: dict[str, Any]) -> str:
    """The figures as one JSON object (dataclasses become objects)."""

    def default(value: object) -> Any:
        if isinstance(value, Figures):
            return asdict(value)
        raise TypeError(f"cannot serialise {type(value).__name__}")

    return json.dumps(figures, default=default, indent=2)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table (or JSON); non-zero when totals mismatch."""
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="tokenbuddy-bench-") as scratch:
            figures = collect(args, Path(scratch))
    except SetupError as error:
        print(f"bench_ingest: {error}", file=sys.stderr)
        return 2
    print(to_json(figures) if args.json else format_table(figures))
    return 0 if figures["correctness"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
