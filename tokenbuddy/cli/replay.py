"""``tokenbuddy replay``: the runaway detectors run over past logs, as if live.

The logs under the given paths are ingested into a temporary ledger (deleted
afterwards; the user's own ledger is never opened), with the same parsing,
dedup, pricing and bad-line accounting as a live sync. Every request and human
prompt is then fed, in event-time order, to an
:class:`~tokenbuddy.core.alerts.AlertEngine` built with the user's thresholds,
and the engine is evaluated after each event with ``now`` set to that event's
time: a warning is printed at the moment the live dashboard would first have
announced it (and again when it got materially worse, as live).

The cap-trajectory alert is not replayed: it judges the whole budget cycle's
spend, which logs of a few sessions do not hold.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from tokenbuddy.cli.report import resolve_zone
from tokenbuddy.cli.table import clean
from tokenbuddy.core.alerts import AlertEngine, PromptEvent, RequestEvent
from tokenbuddy.core.wording import counted
from tokenbuddy.errors import SourceError
from tokenbuddy.ingest import sync, sync_paths
from tokenbuddy.sources.discovery import LogRoot, loose_transcripts, roots_at, transcript_source
from tokenbuddy.store.ledger import Ledger
from tokenbuddy.store.monitor import EventStream
from tokenbuddy.store.paths import app_paths
from tokenbuddy.store.settings import load_settings

if TYPE_CHECKING:
    import argparse
    import sqlite3
    from collections.abc import Callable, Iterable, Iterator
    from zoneinfo import ZoneInfo

    from tokenbuddy.core.alerts import Alert, Severity

Event = RequestEvent | PromptEvent


@dataclass(slots=True)
class ReplayTargets:
    """What the command-line paths stand for: whole log roots, and single transcripts."""

    roots: list[LogRoot] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)
    """(path, source) of transcripts named directly or found in an unrecognised directory."""
    errors: list[str] = field(default_factory=list)
    """Directories that could not be walked."""


@dataclass(slots=True)
class ReplayCounts:
    """What a replay read and announced, for the closing summary."""

    files: int = 0
    unreadable_files: int = 0
    incomplete_files: int = 0
    """Files whose last line has no line end yet (not read, as live)."""
    requests: int = 0
    prompts: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    """Lines skipped, by reason."""
    warnings: dict[Severity, int] = field(
        default_factory=lambda: {"critical": 0, "warning": 0, "info": 0}
    )


def run_replay(args: argparse.Namespace) -> int:
    """Replay the logs under ``args.paths`` and print every warning as it would have fired."""
    settings, problems = load_settings(app_paths().config_file)
    for problem in problems:
        print(f"tokenbuddy: {problem}", file=sys.stderr)
    targets = resolve_targets(args.paths)
    engine = AlertEngine(settings.thresholds)
    announce = print_json if args.json else text_printer(resolve_zone(settings.timezone))
    with (
        tempfile.TemporaryDirectory(prefix="tokenbuddy-replay-") as scratch,
        Ledger(Path(scratch) / "ledger.sqlite3") as ledger,
    ):
        errors = targets.errors + ingest(ledger, targets)
        counts = file_counts(ledger)
        replay(ordered_events(ledger.db), engine, counts, announce)
    for error in errors:
        print(f"tokenbuddy: {clean(error)}", file=sys.stderr)
    print(format_summary(counts), file=sys.stderr)
    return 0


def resolve_targets(paths: Iterable[str]) -> ReplayTargets:
    """Sort the command-line paths into roots and files; a missing path is an error."""
    targets = ReplayTargets()
    for raw in paths:
        path = Path(raw).expanduser()
        try:
            if path.is_file():
                targets.files.append((str(path), transcript_source(str(path))))
            elif path.is_dir():
                _add_directory(targets, path)
            else:
                raise SourceError(f"replay: no such file or directory: {clean(raw)}")
        except OSError as error:
            raise SourceError(f"replay: cannot read {clean(raw)}: {error.strerror}") from None
    return targets


def _add_directory(targets: ReplayTargets, directory: Path) -> None:
    roots = roots_at(directory)
    if roots:
        targets.roots.extend(roots)
    else:
        targets.files.extend(loose_transcripts(directory, targets.errors))


def ingest(ledger: Ledger, targets: ReplayTargets) -> list[str]:
    """Read every target into ``ledger`` as a live sync would; returns the errors met."""
    if not targets.roots and not targets.files:
        raise SourceError("replay: no Claude Code or Codex transcripts under the given paths")
    errors: list[str] = []
    if targets.roots:
        errors += sync(ledger, targets.roots).errors
    if targets.files:
        errors += sync_paths(ledger, targets.files).errors
    return errors


def file_counts(ledger: Ledger) -> ReplayCounts:
    """Files read, unreadable and incomplete, and lines skipped by reason."""
    counts = ReplayCounts()
    for stored in ledger.files().values():
        if stored.error:
            counts.unreadable_files += 1
            continue
        counts.files += 1
        counts.incomplete_files += stored.cursor.pending_bytes > 0
        for reason, skipped in stored.skipped.items():
            counts.skipped[reason] = counts.skipped.get(reason, 0) + skipped
    return counts


def ordered_events(db: sqlite3.Connection) -> Iterator[Event]:
    """Every request and prompt in the ledger in time order."""
    return iter(EventStream(db))


def replay(
    events: Iterable[Event],
    engine: AlertEngine,
    counts: ReplayCounts,
    announce: Callable[[Alert], None],
) -> None:
    """Feed each event, then announce what the engine would have announced at its time."""
    for event in events:
        if isinstance(event, RequestEvent):
            engine.feed_request(event)
            counts.requests += 1
        else:
            engine.feed_prompt(event)
            counts.prompts += 1
        for alert in engine.evaluate(event.ts_ms):
            counts.warnings[alert.severity] += 1
            announce(alert)


def alert_record(alert: Alert) -> dict[str, object]:
    """One warning as ``--json`` prints it."""
    return {
        "at": datetime.fromtimestamp(alert.at_ms / 1000, UTC).isoformat(timespec="milliseconds"),
        "kind": alert.kind,
        "severity": alert.severity,
        "session_id": alert.session_id,
        "project": alert.project,
        "message": alert.message,
        "cost_per_hour_usd": round(alert.cost_per_hour_usd, 2),
    }


def print_json(alert: Alert) -> None:
    """Write one warning as a JSON line."""
    sys.stdout.write(orjson.dumps(alert_record(alert)).decode() + "\n")


PROJECT_WIDTH = 24


def text_printer(zone: ZoneInfo) -> Callable[[Alert], None]:
    """A printer of one aligned line per warning, with times in ``zone``."""

    def print_line(alert: Alert) -> None:
        print(format_line(alert, zone), flush=True)

    return print_line


def format_line(alert: Alert, zone: ZoneInfo) -> str:
    """Time, severity, kind, where, and the message; text from logs made safe to print."""
    moment = datetime.fromtimestamp(alert.at_ms / 1000, UTC).astimezone(zone)
    where = _short_project(alert.project or "")
    if alert.session_id:
        where = f"{where}/{clean(alert.session_id[:8])}" if where else clean(alert.session_id[:8])
    return "  ".join(
        [
            moment.strftime("%Y-%m-%d %H:%M:%S %Z"),
            alert.severity.ljust(8),
            alert.kind.ljust(15),
            where.ljust(PROJECT_WIDTH + 9),
            clean(alert.message),
        ]
    )


def _short_project(project: str) -> str:
    """The project's last path component, printable and at most ``PROJECT_WIDTH`` wide."""
    name = clean(project.rstrip("/").rsplit("/", 1)[-1] or project)
    return name if len(name) <= PROJECT_WIDTH else name[: PROJECT_WIDTH - 1] + "…"


def format_summary(counts: ReplayCounts) -> str:
    """One line: what was read, what was skipped and why, and the warnings by severity."""
    files = counted(counts.files, "file")
    if counts.unreadable_files:
        files += f", {counts.unreadable_files:,} unreadable"
    if counts.incomplete_files:
        files += f", {counts.incomplete_files:,} ending in an incomplete line"
    skipped = sum(counts.skipped.values())
    lines = f"{counted(skipped, 'line')} skipped"
    if skipped:
        reasons = sorted(counts.skipped.items(), key=lambda item: -item[1])
        lines += " (" + ", ".join(f"{clean(reason)}: {n:,}" for reason, n in reasons) + ")"
    warnings = ", ".join(f"{n} {severity}" for severity, n in counts.warnings.items())
    return (
        f"Replayed {files}; {counts.requests:,} requests, {counts.prompts:,} prompts; "
        f"{lines}; warnings: {warnings}"
    )
