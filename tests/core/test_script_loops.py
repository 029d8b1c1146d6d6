"""Loops of short scripted runs: which sessions become one row of the sessions table."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tokenbuddy.core.dashboard import ScriptLoop, SessionSummary
from tokenbuddy.core.script_loops import MIN_RUNS, SHORT_RUN_MS, group_script_loops
from tokenbuddy.core.units import HOUR_MS, MINUTE_MS

NOW_MS = 1_795_000_000_000


def run(
    number: int,
    *,
    start_ms: int,
    minutes: float = 2,
    entrypoint: str = "sdk-cli",
    source: str = "claude-code",
    project: str = "/home/dev/nightly",
    cost: float = 0.85,
) -> SessionSummary:
    last = start_ms + int(minutes * MINUTE_MS)
    return SessionSummary(
        session_id=f"s{number}",
        source=source,
        project=project.rsplit("/", 1)[-1],
        project_path=project,
        models=("claude-opus-4-6",),
        cost_usd=cost,
        requests=4,
        cache_hit_ratio=0.25,
        subagent_share=0.0,
        first_ms=start_ms,
        last_ms=last,
        active=NOW_MS - last <= 15 * MINUTE_MS,
        entrypoint=entrypoint,
        prompt_tokens=100_000,
    )


def latest_first(sessions: list[SessionSummary]) -> list[SessionSummary]:
    return sorted(sessions, key=lambda s: -s.last_ms)


def every_90_seconds(count: int, **fields: object) -> list[SessionSummary]:
    """A script starting a two-minute run every 90 s, the latest ending now."""
    first = NOW_MS - 2 * MINUTE_MS - (count - 1) * 90_000
    return [run(n, start_ms=first + n * 90_000, **fields) for n in range(count)]  # type: ignore[arg-type]


def test_a_night_of_claude_p_runs_is_one_row_with_its_figures() -> None:
    runs = every_90_seconds(340)
    listed, loops = group_script_loops(latest_first(runs))
    assert listed == []
    (loop,) = loops
    assert isinstance(loop, ScriptLoop)
    assert (loop.source, loop.entrypoint, loop.project, loop.project_path) == (
        "claude-code",
        "sdk-cli",
        "nightly",
        "/home/dev/nightly",
    )
    assert len(loop.runs) == 340 and loop.runs[0].session_id == "s339"
    assert loop.cost_usd == pytest.approx(340 * 0.85)
    assert loop.requests == 340 * 4
    assert (loop.first_ms, loop.last_ms) == (runs[0].first_ms, NOW_MS)
    span_hours = (NOW_MS - runs[0].first_ms) / HOUR_MS
    assert loop.usd_per_hour == pytest.approx(340 * 0.85 / span_hours)
    assert loop.usd_per_hour == pytest.approx(34, rel=0.01)
    assert loop.cache_hit_ratio == pytest.approx(0.25)
    assert loop.active and loop.models == ("claude-opus-4-6",)


def test_a_person_with_many_short_sessions_is_never_grouped() -> None:
    for entrypoint in ("cli", "claude-desktop", "claude-vscode", ""):
        sessions = latest_first(every_90_seconds(50, entrypoint=entrypoint))
        assert group_script_loops(sessions) == (sessions, [])
    codex = latest_first(every_90_seconds(20, source="codex", entrypoint="codex-tui"))
    assert group_script_loops(codex) == (codex, [])


def test_a_few_runs_or_long_runs_stay_on_their_own_rows() -> None:
    few = latest_first(every_90_seconds(MIN_RUNS - 1))
    assert group_script_loops(few) == (few, [])
    long_minutes = SHORT_RUN_MS / MINUTE_MS
    long = [
        run(100 + n, start_ms=NOW_MS - (n + 1) * HOUR_MS, minutes=long_minutes) for n in range(5)
    ]
    short = every_90_seconds(MIN_RUNS)
    listed, loops = group_script_loops(latest_first(long + short))
    assert listed == latest_first(long)
    assert [len(loop.runs) for loop in loops] == [MIN_RUNS]


def test_each_agent_project_and_entrypoint_is_a_loop_of_its_own() -> None:
    nightly = every_90_seconds(4)
    ci = [
        run(200 + n, start_ms=NOW_MS - 3 * HOUR_MS + n * MINUTE_MS, project="/srv/ci")
        for n in range(3)
    ]
    sdk = [
        run(300 + n, start_ms=NOW_MS - 5 * HOUR_MS + n * MINUTE_MS, entrypoint="sdk-ts")
        for n in range(3)
    ]
    codex = [
        run(400 + n, start_ms=NOW_MS - 6 * HOUR_MS + n * MINUTE_MS, source="codex",
            entrypoint="codex_exec")
        for n in range(3)
    ]  # fmt: skip
    person = run(500, start_ms=NOW_MS - HOUR_MS, minutes=1, entrypoint="cli")
    listed, loops = group_script_loops(latest_first([*nightly, *ci, *sdk, *codex, person]))
    assert listed == [person]
    assert [(loop.project, loop.entrypoint, len(loop.runs)) for loop in loops] == [
        ("nightly", "sdk-cli", 4),
        ("ci", "sdk-cli", 3),
        ("nightly", "sdk-ts", 3),
        ("nightly", "codex_exec", 3),
    ]
    assert not loops[1].active


def test_a_loops_cache_ratio_and_subagent_share_weigh_its_runs() -> None:
    start = NOW_MS - HOUR_MS
    runs = [
        run(1, start_ms=start, cost=1.0),
        run(2, start_ms=start + MINUTE_MS, cost=3.0),
        run(3, start_ms=start + 2 * MINUTE_MS, cost=0.0),
    ]
    runs[0] = replace(runs[0], cache_hit_ratio=0.9, subagent_share=0.5, prompt_tokens=300_000)
    runs[2] = replace(runs[2], cache_hit_ratio=None, prompt_tokens=0)
    (loop,) = group_script_loops(latest_first(runs))[1]
    assert loop.cache_hit_ratio == pytest.approx((0.9 * 300_000 + 0.25 * 100_000) / 400_000)
    assert loop.subagent_share == pytest.approx(0.5 / 4.0)
