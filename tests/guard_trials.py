"""The guard tried over generated or real logs, as ``replay --guard`` tries it, with each
Claude Code session's entrypoint as its hook would have it.

The hook reads a session's entrypoint (``claude -p`` or a person) from
``CLAUDE_CODE_ENTRYPOINT``; the ledger keeps none yet, so the replay's events are given
each session's from its transcripts. Once the ledger keeps it, :func:`with_entrypoints`
changes nothing (the events carry the same already).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from tokenbuddy.core.alerts import AlertEngine, RequestEvent, Thresholds
from tokenbuddy.core.guard_replay import GuardBlock, GuardReplay, GuardTally
from tokenbuddy.services.replay import file_counts, ingest, replay_guarded, resolve_targets
from tokenbuddy.store.events import EventStream
from tokenbuddy.store.ledger import Ledger

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    from tokenbuddy.core.alerts import Alert, PromptEvent
    from tokenbuddy.core.guard_replay import GuardLift, GuardTrial


def transcript_entrypoints(root: Path) -> dict[str, str]:
    """Each session's ``entrypoint`` as its transcripts' lines say it: what Claude Code also
    hands its hooks as ``CLAUDE_CODE_ENTRYPOINT``. Lines that are not JSON objects with
    both fields are passed over."""
    found: dict[str, str] = {}
    for path in sorted((root / "projects").rglob("*.jsonl")):
        with path.open("rb") as handle:
            for line in handle:
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(record, dict) and {"sessionId", "entrypoint"} <= record.keys():
                    found.setdefault(str(record["sessionId"]), str(record["entrypoint"]))
                    break
    return found


def with_entrypoints(
    events: Iterable[RequestEvent | PromptEvent], entrypoints: dict[str, str]
) -> Iterator[RequestEvent | PromptEvent]:
    """Each request with its session's entrypoint from ``entrypoints`` where it has none."""
    for event in events:
        known = entrypoints.get(event.session_id, "")
        if isinstance(event, RequestEvent) and known and not event.entrypoint:
            yield event._replace(entrypoint=known)
        else:
            yield event


@dataclass
class GuardTried:
    """What a replay with the guard found in some logs."""

    alerts: list[Alert]
    outcomes: list[GuardBlock | GuardLift]
    tally: GuardTally
    timeline: list[tuple[int, float]]
    """(time, cost) of every request in the logs, in time order."""

    @property
    def blocks(self) -> list[GuardBlock]:
        return [o for o in self.outcomes if isinstance(o, GuardBlock)]

    def spend(self, start_ms: int, end_ms: int | None = None) -> float:
        """Dollars of the logs' requests from ``start_ms`` up to ``end_ms`` (or the end)."""
        return sum(
            cost for ts, cost in self.timeline if ts >= start_ms and (end_ms is None or ts < end_ms)
        )


def try_guard(root: Path, trial: GuardTrial, scratch: Path) -> GuardTried:
    """``replay --guard`` over ``root`` (any path ``replay`` takes) with the entrypoints its
    transcripts name; ``scratch`` holds the replay's ledger."""
    tried = GuardTried([], [], GuardTally(), [])
    with Ledger(scratch / "replay.sqlite3") as ledger:
        ingest(ledger, resolve_targets([str(root)]))
        counts = file_counts(ledger)
        guard = GuardReplay(AlertEngine(Thresholds(), zone=trial.zone), trial)
        known = transcript_entrypoints(root) if (root / "projects").is_dir() else {}
        events = with_entrypoints(EventStream(ledger), known)
        replay_guarded(events, guard, counts, tried.alerts.append, tried.outcomes.append)
        rows = ledger.db.execute("SELECT ts_ms, cost_usd FROM requests ORDER BY ts_ms")
        tried.timeline = [(int(ts), float(cost or 0.0)) for ts, cost in rows]
    tried.tally = guard.tally
    return tried
