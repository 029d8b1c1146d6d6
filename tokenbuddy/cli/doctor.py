"""``tokenbuddy doctor``: where tokenbuddy looks, what it read, what it skipped and why."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from tokenbuddy.cli.progress import terminal_progress
from tokenbuddy.cli.table import clean
from tokenbuddy.core.model_ids import model_label
from tokenbuddy.core.wording import counted
from tokenbuddy.services.doctor import diagnose, repair


def run_doctor(args: argparse.Namespace) -> int:
    """Sync the ledger, then print the diagnosis; with ``--repair``, recover a damaged
    ledger from its newest sound backup first."""
    if getattr(args, "repair", False):
        recovered = repair()
        print(
            "The ledger passed its integrity check: nothing to repair."
            if recovered is None
            else f"Repaired: {recovered}",
            file=sys.stderr,
        )
    with terminal_progress() as progress:
        report = diagnose(progress=progress)
    if args.json:
        sys.stdout.write(orjson.dumps(report).decode() + "\n")
    else:
        print(format_doctor(report))
    return 0


def format_doctor(report: dict[str, Any]) -> str:
    """The diagnosis as readable text."""
    out = [f"tokenbuddy {report['version']}", ""]
    out.append(f"Ledger        {report['ledger']}  ({counted(report['requests'], 'request')})")
    out += format_integrity(report)
    config_state = "" if report["config_file_exists"] else "  (not created; defaults in use)"
    out.append(f"Config        {report['config_file']}{config_state}")
    out.extend(f"  problem: {clean(problem)}" for problem in report["config_problems"])
    out.append(f"Cache         {report['cache_dir']}")
    out.append(f"State         {report['state_dir']}  (statusline.log)")
    out += ["", "Log directories searched:"]
    for root in report["log_roots"]:
        state = counted(root["files"], "file") if root["exists"] else "not found"
        out.append(f"  {root['source']:<12} {clean(root['path'])}  [{root['origin']}]  {state}")
    files = report["files"]
    out += ["", f"Files read    {files['known']:,}"]
    if files["missing_from_disk"]:
        out.append(
            f"  {files['missing_from_disk']:,} no longer on disk"
            " (their requests stay in the ledger)"
        )
    if files["waiting_for_line_end"]:
        out.append(
            f"  {files['waiting_for_line_end']:,} end in an unfinished line, read when complete"
        )
    if files["unreadable"]:
        out.append(f"  {files['unreadable']:,} unreadable (see errors below)")
    skipped = report["lines_skipped"]
    out.append(f"Lines read    {report['lines_read']:,}, skipped {sum(skipped.values()):,}")
    out += format_agents(report["agents"])
    if report["unpriced_models"]:
        out.append("Unpriced models (not in any cost):")
        for model, count in sorted(report["unpriced_models"].items()):
            out.append(f"  {clean(model_label(model))}: {counted(count, 'request')}")
    out += format_cursor(report["cursor"])
    if report["not_regular_files"]:
        out += ["", "Not regular files (FIFOs, devices, sockets; never opened):"]
        out += [f"  {clean(entry)}" for entry in report["not_regular_files"]]
    if report["errors"]:
        out += ["", "Errors:"]
        out += [f"  {clean(error)}" for error in report["errors"]]
    if not any(root["exists"] for root in report["log_roots"]):
        out += [
            "",
            "No agent logs were found. Point tokenbuddy at them with CLAUDE_CONFIG_DIR",
            "(a Claude config dir, comma-separated for several), CODEX_HOME,",
            "TOKENBUDDY_GEMINI_DIR, TOKENBUDDY_COPILOT_DIR, TOKENBUDDY_VSCODE_USER_DIR",
            "(Copilot Chat, Cline), TOKENBUDDY_OPENCODE_DIR or TOKENBUDDY_QWEN_DIR.",
        ]
    return "\n".join(out)


def format_integrity(report: dict[str, Any]) -> list[str]:
    """The ledger's integrity check and its daily backups."""
    problems = report["integrity_problems"]
    if problems:
        out = [f"  integrity check FAILED: {clean(problems[0])}"]
        out += [f"    {clean(problem)}" for problem in problems[1:5]]
        out.append("  run `tokenbuddy doctor --repair` to restore the newest sound backup")
    else:
        out = ["  integrity check passed"]
    copies = report["backups"]
    if copies:
        newest = copies[0]
        out.append(
            f"Backups       {len(copies)} daily, newest {newest['day']}"
            f" ({newest['bytes'] / 1e6:,.1f} MB) in {clean(str(Path(newest['path']).parent))}"
        )
    else:
        out.append("Backups       none yet (one is taken each day the ledger is used)")
    return out


def format_agents(agents: list[dict[str, Any]]) -> list[str]:
    """One line per agent (files, requests, lines skipped), then what it skipped and why
    and its notes; agents with nothing found are one short line."""
    out = ["", "Agents:"]
    for agent in agents:
        skipped = agent["lines_skipped"]
        if not (agent["files"] or agent["requests"] or skipped or agent["roots_found"]):
            out.append(f"  {agent['name']:<16} nothing found")
            continue
        line = f"  {agent['name']:<16} {counted(agent['files'], 'file')}"
        line += f", {counted(agent['requests'], 'request')}"
        if agent["last_request_ms"] is not None:
            line += f" (latest {_utc(agent['last_request_ms'])})"
        if skipped:
            line += f", {counted(sum(skipped.values()), 'line')} skipped"
        out.append(line)
        for reason, count in sorted(skipped.items(), key=lambda item: -item[1]):
            out.append(f"    {count:>8,}  skipped: {clean(reason)}")
        for fact, count in agent["notes"].items():
            out.append(f"    {count:>8,}  {clean(fact)}")
    return out


def format_cursor(cursor: dict[str, Any]) -> list[str]:
    """Cursor's stores: each database, the ``_v`` versions seen, what was read and skipped."""
    if not cursor["databases"]:
        return []
    out = ["", "Cursor stores read:"]
    for entry in cursor["databases"]:
        if entry["kind"] == "workspace":
            continue
        out.append(f"  {clean(entry['path'])}  [{entry['read_mode'] or 'not read'}]")
        out.append(
            f"    {entry['composers']:,} conversations, {entry['bubbles']:,} bubbles,"
            f" {entry['requests']:,} requests ({entry['unknown_tokens']:,} with unknown tokens)"
        )
        versions = ", ".join(f"{k}: {v:,}" for k, v in sorted(entry["versions"].items()))
        out.append(f"    versions seen: {clean(versions) or 'none'}")
        for reason, count in sorted(entry["skipped"].items()):
            out.append(f"    {count:>8,}  skipped: {reason}")
    workspaces = sum(1 for entry in cursor["databases"] if entry["kind"] == "workspace")
    out.append(f"  {workspaces:,} workspace databases (conversation → project)")
    for version, counts in cursor["versions"].items():
        out.append(
            f"  composerData _v={clean(version)}: {counts['real']:,} requests with real token"
            f" counts, {counts['estimated']:,} estimated, {counts['unknown']:,} unknown"
        )
    for low, high in cursor["billed_ranges"]:
        out.append(
            f"  billed Cursor rows replace the local estimates from {_utc(low)} to {_utc(high)}"
        )
    if cursor["unknown_token_requests"]:
        out.append(
            f"  {cursor['unknown_token_requests']:,} counted Cursor requests have unknown tokens"
            " (no cost)"
        )
    return out


def _utc(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
