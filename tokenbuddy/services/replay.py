"""Replaying past logs through the runaway detectors, as if live.

The logs under the given paths are ingested into a temporary ledger (deleted
afterwards; the user's own ledger is never opened), with the same parsing,
dedup, pricing and bad-line accounting as a live sync. Every request and human
prompt is then fed, in event-time order, to an
:class:`~tokenbuddy.core.alerts.AlertEngine` built with the user's thresholds,
and the engine is evaluated after each event with ``now`` set to that event's
time: a warning is announced at the moment the live dashboard would first have
announced it (and again when it got materially worse, as live).

The cap-trajectory alert is not replayed: it judges the whole budget cycle's
spend, which logs of a few sessions do not hold.

With a :class:`~tokenbuddy.core.guard_replay.GuardTrial` (``replay --guard``), the guard's
policy is asked before each Claude Code request as its hook would have asked it, and what
it stops is left out of everything after (see :mod:`tokenbuddy.core.guard_replay` for
the model: the hook calls, what a block stops, how fresh the hook's figures are).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

from tokenbuddy.core.alerts import Alert, AlertEngine, PromptEvent, RequestEvent
from tokenbuddy.core.guard_replay import HOOK_REFRESH_MS, GuardReplay, GuardTally, GuardTrial
from tokenbuddy.errors import ConfigError, SourceError
from tokenbuddy.services.ingest import sync, sync_paths
from tokenbuddy.sources.discovery import LogRoot, loose_transcripts, roots_at, transcript_source
from tokenbuddy.store.events import EventStream
from tokenbuddy.store.ledger import Ledger

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import tzinfo

    from tokenbuddy.core.alerts import Severity, Thresholds
    from tokenbuddy.core.guard_replay import GuardBlock, GuardLift
    from tokenbuddy.store.settings import Settings

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
    guard: GuardTally | None = None
    """What the guard judged and stopped, in a replay with it."""


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
                raise SourceError(f"replay: no such file or directory: {_printable(raw)}")
        except OSError as error:
            raise SourceError(f"replay: cannot read {_printable(raw)}: {error.strerror}") from None
    return targets


def _printable(text: str) -> str:
    """A path from the command line as an error message may hold it: controls become ``?``."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _add_directory(targets: ReplayTargets, directory: Path) -> None:
    roots = roots_at(directory)
    if roots:
        targets.roots.extend(roots)
    else:
        targets.files.extend(loose_transcripts(directory, targets.errors))


def replay_targets(
    targets: ReplayTargets,
    thresholds: Thresholds,
    announce: Callable[[Alert], None],
    *,
    zone: tzinfo = UTC,
    guard: GuardTrial | None = None,
    report: Callable[[GuardBlock | GuardLift], None] | None = None,
) -> tuple[ReplayCounts, list[str]]:
    """Replay every target in a scratch ledger, calling ``announce`` for each warning as it
    would have fired (local times, as the morning an unattended run is projected to, in
    ``zone``); returns what was read and the errors met on the way.

    With ``guard``, the guard is tried too, and ``report`` is called with each block it
    would have made and each rule that stopped tripping.
    """
    engine = AlertEngine(thresholds, zone=zone)
    with (
        tempfile.TemporaryDirectory(prefix="tokenbuddy-replay-") as scratch,
        Ledger(Path(scratch) / "ledger.sqlite3") as ledger,
    ):
        errors = targets.errors + ingest(ledger, targets)
        counts = file_counts(ledger)
        if guard is None:
            replay(EventStream(ledger), engine, counts, announce)
        else:
            trial = GuardReplay(engine, guard)
            counts.guard = trial.tally
            replay_guarded(EventStream(ledger), trial, counts, announce, report or _ignore)
    return counts, errors


def guard_trial(
    settings: Settings,
    *,
    zone: tzinfo,
    hard_cap_usd: float | None = None,
    daily_cap_usd: float | None = None,
    scripted_session_limit_usd: float | None = None,
    refresh_lag_s: float | None = None,
) -> GuardTrial:
    """The user's ``[guard]`` in block mode, with the limits given here in place of theirs
    (0 turns a limit off), for a replay to try; its figures refreshed as the hook refreshes
    them unless ``refresh_lag_s`` says otherwise."""
    from pydantic import ValidationError

    from tokenbuddy.store.settings import GuardSettings

    values = settings.guard.model_dump()
    values["mode"] = "block"
    for name, given in (
        ("hard_cap_usd", hard_cap_usd),
        ("daily_cap_usd", daily_cap_usd),
        ("scripted_session_limit_usd", scripted_session_limit_usd),
    ):
        if given is not None:
            values[name] = given or None
    try:
        guard = GuardSettings.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in error.errors())
        raise ConfigError(f"replay: the guard's limits cannot be used ({problems})") from None
    if refresh_lag_s is not None and not refresh_lag_s >= 0:
        raise ConfigError("replay: the refresh lag must be 0 or more seconds")
    lag_ms = HOOK_REFRESH_MS if refresh_lag_s is None else round(refresh_lag_s * 1000)
    return GuardTrial(guard.model_dump(), zone, settings.cycle_start_day, lag_ms)


def _ignore(_outcome: GuardBlock | GuardLift) -> None:
    return None


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


def replay_guarded(
    events: Iterable[Event],
    trial: GuardReplay,
    counts: ReplayCounts,
    announce: Callable[[Alert], None],
    report: Callable[[GuardBlock | GuardLift], None],
) -> None:
    """Feed each event through the guard's trial: its blocks and lifts go to ``report``,
    the warnings of what would have happened to ``announce``."""
    for event in events:
        if isinstance(event, RequestEvent):
            counts.requests += 1
        else:
            counts.prompts += 1
        for outcome in trial.feed(event):
            if isinstance(outcome, Alert):
                counts.warnings[outcome.severity] += 1
                announce(outcome)
            else:
                report(outcome)
