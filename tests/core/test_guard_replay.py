"""The guard replayed over event streams: which calls it judges, on which figures, and
what its blocks stop."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tokenbuddy.cli import guard_hook
from tokenbuddy.core.alerts import AlertEngine, PromptEvent, RequestEvent, Thresholds
from tokenbuddy.core.guard import PRE_TOOL_USE, USER_PROMPT_SUBMIT
from tokenbuddy.core.guard_replay import (
    HOOK_REFRESH_MS,
    GuardBlock,
    GuardLift,
    GuardReplay,
    GuardTrial,
)
from tokenbuddy.core.records import CLAUDE_CODE, CODEX
from tokenbuddy.core.units import MINUTE_MS

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T0 = int(START.timestamp() * 1000)
SECOND = 1000


def settings(**limits: Any) -> dict[str, Any]:
    """``[guard]`` as status.json carries it, in block mode."""
    values: dict[str, Any] = {
        "mode": "block",
        "hard_cap_usd": None,
        "daily_cap_usd": None,
        "scripted_session_limit_usd": None,
        "block_on_critical": True,
    }
    return {**values, **limits}


def request(
    ts: int,
    session: str,
    cost: float = 1.0,
    *,
    entrypoint: str = "cli",
    source: str = CLAUDE_CODE,
) -> RequestEvent:
    """A healthy cached request (nothing for the cache detector to see)."""
    return RequestEvent(
        ts,
        session,
        f"/home/dev/src/{session[:4]}",
        "claude-opus-4-6",
        cost,
        5,
        800,
        60_000,
        300,
        False,
        entrypoint=entrypoint,
        source=source,
    )


def prompt(ts: int, session: str, source: str = CLAUDE_CODE) -> PromptEvent:
    return PromptEvent(ts, session, source=source)


Event = RequestEvent | PromptEvent


def replay(
    events: Sequence[Event],
    *,
    lag_ms: int = HOOK_REFRESH_MS,
    zone: Any = UTC,
    **limits: Any,
) -> tuple[GuardReplay, list[GuardBlock], list[GuardLift]]:
    trial = GuardTrial(settings(**limits), zone, refresh_lag_ms=lag_ms)
    guard = GuardReplay(AlertEngine(Thresholds(), zone=zone), trial)
    outcomes = [outcome for event in events for outcome in guard.feed(event)]
    blocks = [o for o in outcomes if isinstance(o, GuardBlock)]
    return guard, blocks, [o for o in outcomes if isinstance(o, GuardLift)]


def working(session: str, start: int, requests: int, every_s: int = 30) -> list[Event]:
    """A prompt at ``start``, then a request every ``every_s`` seconds, $1 each."""
    events: list[Event] = [prompt(start, session)]
    return events + [request(start + (n + 1) * every_s * SECOND, session) for n in range(requests)]


def test_the_hook_refresh_lag_is_the_hooks_own() -> None:
    assert HOOK_REFRESH_MS == guard_hook.STALE_MS


def test_with_no_lag_the_first_call_after_the_cap_is_reached_is_stopped() -> None:
    events = working("aaaa-1", T0, 12)  # requests at 30, 60, 90 s...: $3 reached at 90 s
    guard, blocks, _ = replay(events, lag_ms=0, hard_cap_usd=3.0)
    first = blocks[0]
    assert (first.at_ms - T0, first.event, first.rule) == (120 * SECOND, PRE_TOOL_USE, "hard_cap")
    assert (first.incident_ms, first.spend_since_usd, first.figures_ms) == (
        T0 + 90 * SECOND,
        0.0,
        first.at_ms,
    )
    assert "cycle spend $3.00 reached hard_cap_usd $3.00" in first.message
    assert first.reason.startswith("tokenbuddy guard stopped this tool call:")
    # the request the denied call led to is the model's answer to it; the rest never happen
    assert guard.tally.stopped_requests == 12 - 4
    assert guard.tally.spent_usd == 4.0
    assert len(blocks) == 1


def test_a_call_is_judged_on_the_figures_of_the_last_refresh() -> None:
    """Figures are refreshed by the first call that finds them over two minutes old, for
    the calls after it: that call itself is judged on the old ones."""
    guard, blocks, _ = replay(working("aaaa-1", T0, 12), hard_cap_usd=3.0)
    first = blocks[0]
    # the prompt at 0 had no figures (let through) and refreshed them; the call at 150 s
    # found them old, went ahead on them and refreshed them: $4 by then
    assert guard.tally.blind_calls == 1
    assert (first.at_ms - T0, first.figures_ms - T0) == (180 * SECOND, 150 * SECOND)
    assert (first.incident_ms, first.spend_since_usd) == (T0 + 90 * SECOND, 2.0)
    assert guard.tally.spent_usd == 6.0


def test_a_blocked_prompt_never_sends_its_turn() -> None:
    events = working("aaaa-1", T0, 5) + working("aaaa-1", T0 + 10 * MINUTE_MS, 5)
    guard, blocks, _ = replay(events, lag_ms=0, hard_cap_usd=2.5)
    assert [(b.event, b.at_ms - T0) for b in blocks] == [
        (PRE_TOOL_USE, 120 * SECOND),
        (USER_PROMPT_SUBMIT, 10 * MINUTE_MS),
    ]
    assert blocks[1].reason.startswith("tokenbuddy guard stopped this prompt:")
    assert guard.tally.spent_usd == 4.0
    assert guard.tally.stopped_usd == {"hard_cap": 6.0}


def scripted_loop(start: int, runs: int) -> list[Event]:
    """A ``claude -p`` run every 90 s: four requests of $0.30 each ($48/h)."""
    events: list[Event] = []
    for run in range(runs):
        at = start + run * 90 * SECOND
        session = f"run{run:04d}-sdk"
        events += [
            request(at + (5 + 10 * n) * SECOND, session, 0.3, entrypoint="sdk-cli")
            for n in range(4)
        ]
    return events


def test_a_loop_of_scripted_runs_is_stopped_at_its_next_runs_and_a_person_is_not() -> None:
    loop_at = T0 + 30 * MINUTE_MS
    events = working("pers-1", T0, 20) + scripted_loop(loop_at, 30)
    typed_at = loop_at + 40 * MINUTE_MS
    events += working("pers-2", typed_at, 2)
    events.sort(key=lambda e: (e.ts_ms, isinstance(e, RequestEvent)))
    guard, blocks, lifts = replay(events)
    first = blocks[0]
    assert first.rule == "unattended_spend" and first.entrypoint == "sdk-cli"
    assert loop_at + 30 * MINUTE_MS < first.at_ms <= loop_at + 34 * MINUTE_MS
    assert first.incident_ms is not None and first.incident_ms - loop_at >= 30 * MINUTE_MS
    later_runs = [b for b in blocks if b.at_ms > first.at_ms + 2 * MINUTE_MS]
    assert later_runs and {b.event for b in later_runs} == {USER_PROMPT_SUBMIT}
    assert all(b.session_id.endswith("-sdk") for b in blocks), "the person typing goes ahead"
    # a person typing ends unattended spend, once the figures have it
    assert not [b for b in blocks if b.at_ms > typed_at + 3 * MINUTE_MS]
    assert [lift.rule for lift in lifts] == ["unattended_spend"]
    assert guard.tally.stopped_usd["unattended_spend"] > 0


def test_the_person_wide_block_holds_after_its_warning_lapses() -> None:
    """Blocking the loop stops the spend that keeps its warning up, so the warning lapses
    once the run has been quiet for ``unattended_max_gap_minutes``; the loop's runs stay
    stopped all the same (nobody has typed), each counted in the incident it began."""
    loop_at = T0 + 30 * MINUTE_MS
    events = working("pers-1", T0, 20) + scripted_loop(loop_at, 120)
    guard, blocks, lifts = replay(events)
    assert [b.at_ms for b in blocks if b.opens] == [blocks[0].at_ms] and lifts == []
    assert guard.engine.active(blocks[-1].at_ms) == [], "the warning itself lapsed"
    assert {b.rule for b in blocks} == {"unattended_spend"}
    assert {b.incident_ms for b in blocks} == {blocks[0].incident_ms}
    assert blocks[-1].at_ms - blocks[0].at_ms > 60 * MINUTE_MS


def test_codex_requests_are_counted_and_never_judged() -> None:
    events = [prompt(T0, "cdx-1", CODEX)] + [
        request(T0 + n * 30 * SECOND, "cdx-1", source=CODEX) for n in range(1, 10)
    ]
    guard, blocks, _ = replay(events, lag_ms=0, hard_cap_usd=1.0)
    assert blocks == [] and guard.tally.calls == 0
    assert guard.tally.unguarded_usd == guard.tally.logged_usd == 9.0


def test_the_daily_cap_starts_again_at_local_midnight() -> None:
    zone = ZoneInfo("America/New_York")
    evening = int(datetime(2026, 3, 7, 23, 50, tzinfo=zone).timestamp() * 1000)
    events = working("late-1", evening, 40)  # 23:50:30 to 00:10 local, $1 every 30 s
    guard, blocks, lifts = replay(events, lag_ms=0, zone=zone, daily_cap_usd=5.0)
    assert blocks[0].rule == "daily_cap" and blocks[0].incident_ms == evening + 150 * SECOND
    midnight = int(datetime(2026, 3, 8, tzinfo=zone).timestamp() * 1000)
    assert lifts == [], "its turn was stopped; nothing else was judged before midnight"
    assert guard.tally.stopped_requests == 40 - 6
    after = [o for e in working("late-1", midnight + MINUTE_MS, 8) for o in guard.feed(e)]
    again = [o for o in after if isinstance(o, GuardBlock)]
    assert [b.incident_ms for b in again] == [midnight + MINUTE_MS + 150 * SECOND]
    assert guard.figures.today_usd == 6.0, "the new day's $5, and the answer to the denial"


def test_without_a_rule_tripped_nothing_is_stopped() -> None:
    events = working("aaaa-1", T0, 30) + working("bbbb-1", T0 + 20 * MINUTE_MS, 30)
    events.sort(key=lambda e: (e.ts_ms, isinstance(e, RequestEvent)))
    guard, blocks, lifts = replay(events, hard_cap_usd=100.0)
    assert (blocks, lifts, guard.tally.stopped_usd) == ([], [], {})
    assert guard.tally.spent_usd == guard.tally.logged_usd == 60.0
    assert guard.tally.calls > 50


def test_the_figures_carry_when_the_day_and_the_cycle_end() -> None:
    guard, _, _ = replay(working("aaaa-1", T0, 3), lag_ms=0)
    view: dict[str, Any] = guard._view  # type: ignore[assignment]
    assert view["guard"]["day_ends_ms"] == int((START + timedelta(hours=15)).timestamp() * 1000)
    assert view["guard"]["cycle_ends_ms"] == int(
        datetime(2026, 4, 1, tzinfo=UTC).timestamp() * 1000
    )
    assert view["sessions"] == {"aaaa-1": 2.0}


def test_a_scripted_session_is_stopped_once_it_has_spent_its_limit() -> None:
    """Under the limit, the hook has a scripted session's transcript read as it grows: its
    own spend is current from its next call, however old the other figures."""
    run = [request(T0 + n * 10 * SECOND, "run0001-sdk", entrypoint="sdk-cli") for n in range(10)]
    person = working("pers-1", T0, 10)
    guard, blocks, _ = replay(run, scripted_session_limit_usd=3.0)
    first = blocks[0]
    assert (first.rule, first.event, first.at_ms - T0) == (
        "scripted_session_limit",
        PRE_TOOL_USE,
        40 * SECOND,
    )
    # $3 reached by the request at 20 s; the call at 30 s went ahead on $2 and had the
    # transcript read; the one at 40 s is denied, and its answer is the last request
    assert (first.incident_ms, first.spend_since_usd) == (T0 + 20 * SECOND, 1.0)
    assert guard.tally.spent_usd == 5.0
    _guard, person_blocks, _ = replay(person, scripted_session_limit_usd=3.0)
    assert person_blocks == [], "a person's session has no such limit"
