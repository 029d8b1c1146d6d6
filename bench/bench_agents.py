#!/usr/bin/env python3
"""Time the first read and an unchanged re-read of each agent's logs, beside Claude Code's.

A benchmark, not a test: it prints figures. For every agent tokenbuddy reads besides
Claude Code and Codex (Gemini CLI, Copilot, OpenCode, Qwen Code, Cline), it writes a
large realistic history with the agent's test builder (``tests/sources/<agent>/files.py``,
``history()``), then runs ``tokenbuddy report agent --json --source <agent>`` as a whole
process, the way a user runs it, with only that agent's logs in view:

* cold: a fresh, empty ``TOKENBUDDY_HOME`` each run, so the whole history is read;
* warm: the ledger left by the last cold run, with nothing new to read.

Claude Code's figures come from the shared corpus (``<shared>/bench/gen_corpus.py``, the
one ``bench_ingest.py`` uses) at ``--claude-size``, measured the same way, so the MB/s
of every agent can be set against Claude Code's. One worker process (``--jobs 1``) for
every agent, so the figures compare parsing, not parallelism. MB means 10^6 bytes of
the agent's own files on disk (a SQLite database counts whole).

usage: python bench/bench_agents.py [--sessions 150] [--calls 60] [--runs 3]
                                    [--claude-size XS] [--shared DIR] [--json]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path[:0] = [str(REPO_ROOT), str(BENCH_DIR)]

import bench_ingest  # noqa: E402  (a sibling script, found through sys.path)

AGENTS: dict[str, tuple[str, dict[str, str]]] = {
    "gemini-cli": ("gemini_cli", {"TOKENBUDDY_GEMINI_DIR": ""}),
    "copilot": (
        "copilot",
        {"TOKENBUDDY_COPILOT_DIR": ".copilot", "TOKENBUDDY_VSCODE_USER_DIR": "Code/User"},
    ),
    "opencode": ("opencode", {"TOKENBUDDY_OPENCODE_DIR": ""}),
    "qwen-code": ("qwen_code", {"TOKENBUDDY_QWEN_DIR": ""}),
    "cline": ("cline", {"TOKENBUDDY_VSCODE_USER_DIR": ""}),
}
"""--source name -> (its test package under tests/sources, the variables pointing at the
history, relative to where ``history()`` wrote it)."""
EVERY_VARIABLE = (
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "TOKENBUDDY_CURSOR_DIR",
    "TOKENBUDDY_GEMINI_DIR",
    "TOKENBUDDY_COPILOT_DIR",
    "TOKENBUDDY_VSCODE_USER_DIR",
    "TOKENBUDDY_OPENCODE_DIR",
    "TOKENBUDDY_QWEN_DIR",
)
"""Every agent's directory variable: each is pointed at an empty directory unless it is
the agent under test's."""


@dataclass
class AgentFigures:
    """One agent's history and its read times."""

    source: str
    files: int
    mb: float
    requests: int
    cold: bench_ingest.Figures
    warm: bench_ingest.Figures


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=bench_ingest.positive_int, default=150)
    parser.add_argument("--calls", type=bench_ingest.positive_int, default=60)
    parser.add_argument("--runs", type=bench_ingest.positive_int, default=3)
    parser.add_argument("--claude-size", choices=bench_ingest.SIZES, default="XS")
    parser.add_argument(
        "--shared", type=Path, default=REPO_ROOT.parent / "shared", help="default ../shared"
    )
    parser.add_argument(
        "--corpus-dir", type=Path, default=BENCH_DIR / "corpus", help="default bench/corpus"
    )
    parser.add_argument("--only", choices=sorted(AGENTS), action="append", default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser.parse_args(argv)


def agent_env(scratch: Path, variables: dict[str, str], home: Path | None) -> dict[str, str]:
    """Every agent's directory empty but the ones in ``variables``."""
    env = dict(os.environ)
    empty = scratch / "empty"
    empty.mkdir(exist_ok=True)
    for name in EVERY_VARIABLE:
        env[name] = str(empty)
    env.update(variables)
    env["XDG_DATA_HOME"] = str(empty)
    if home is not None:
        env["TOKENBUDDY_HOME"] = str(home)
    return env


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def measure(
    label: str, source: str, variables: dict[str, str], files: list[Path], runs: int, scratch: Path
) -> AgentFigures:
    """Cold and warm ``report agent --json --source`` runs over one agent's logs."""
    argv = [sys.executable, "-m", "tokenbuddy", "report", "agent", "--json", "--jobs", "1"]
    argv += ["--source", source]
    mb = sum(path.stat().st_size for path in files) / 1e6
    bench_ingest.warm_page_cache(files)
    homes = [scratch / f"home-{label}-{index}" for index in range(runs)]

    def cold(index: int) -> bench_ingest.Run:
        return bench_ingest.run_once(argv, agent_env(scratch, variables, homes[index]))

    cold_runs = bench_ingest.repeat(f"{label} cold", runs, cold)
    last = homes[-1]
    warm_runs = bench_ingest.repeat(
        f"{label} warm",
        runs,
        lambda _: bench_ingest.run_once(argv, agent_env(scratch, variables, last)),
    )
    report = json.loads(cold_runs[-1].stdout)
    requests = int(report["totals"]["requests"])
    if requests == 0:
        raise bench_ingest.SetupError(f"{label}: the report counted no request")
    return AgentFigures(
        source,
        len(files),
        mb,
        requests,
        bench_ingest.summarize(cold_runs, mb),
        bench_ingest.summarize(warm_runs, mb),
    )


def bench_agent(source: str, args: argparse.Namespace, scratch: Path) -> AgentFigures:
    """Write one agent's history, then time reading it."""
    package, relative = AGENTS[source]
    builder = importlib.import_module(f"tests.sources.{package}.files")
    root = scratch / "logs" / source
    root.mkdir(parents=True)
    bench_ingest.progress(f"writing {args.sessions} x {args.calls} {source} calls ...")
    builder.history(root, args.sessions, args.calls, seed=7)
    variables = {name: str(root / sub) if sub else str(root) for name, sub in relative.items()}
    return measure(source, source, variables, files_under(root), args.runs, scratch)


def bench_claude(args: argparse.Namespace, scratch: Path) -> AgentFigures:
    """Claude Code's shared corpus, read the same way."""
    root = bench_ingest.ensure_corpus(args.corpus_dir, args.claude_size, args.shared)
    corpus = bench_ingest.load_corpus(root)
    variables = {"CLAUDE_CONFIG_DIR": str(corpus.claude_dir)}
    return measure("claude-code", "claude-code", variables, corpus.files, args.runs, scratch)


def format_table(rows: list[AgentFigures]) -> str:
    """One line per agent. ``read s`` is the cold run less the warm one (start-up, the price
    database and the report are in both), the time the reading itself took; MB/s and
    requests/s are over it."""
    header = (
        f"{'agent':<12} {'files':>6} {'MB':>6} {'requests':>9} {'cold s':>7} {'warm s':>7}"
        f" {'read s':>7} {'MB/s':>6} {'req/s':>7}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        read = max(row.cold.median_s - row.warm.median_s, 1e-3)
        lines.append(
            f"{row.source:<12} {row.files:>6,} {row.mb:>6.1f} {row.requests:>9,}"
            f" {row.cold.median_s:>7.2f} {row.warm.median_s:>7.2f} {read:>7.2f}"
            f" {row.mb / read:>6.1f} {row.requests / read:>7,.0f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench_ingest.compile_bytecode()
    try:
        with tempfile.TemporaryDirectory(prefix="tokenbuddy-agents-") as directory:
            scratch = Path(directory)
            rows = [bench_claude(args, scratch)]
            rows += [bench_agent(source, args, scratch) for source in args.only or AGENTS]
    except bench_ingest.SetupError as error:
        print(f"bench_agents: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([asdict(row) for row in rows], indent=2))
    else:
        print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
