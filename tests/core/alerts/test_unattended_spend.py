"""The person-wide unattended-spend detector: script loops at night, and the days that are not."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.core.alerts.streams import (
    HOUR,
    MINUTE,
    SECOND,
    T0,
    Event,
    costing,
    kinds,
    replay,
)
from tokenbuddy.core.alerts import Alert, AlertEngine, PromptEvent, RequestEvent, Thresholds
from tokenbuddy.core.alerts.unattended_spend import projection_horizon

NIGHT = T0 + 14 * HOUR  # 23:00 UTC on the Monday
BERLIN = ZoneInfo("Europe/Berlin")


def interactive_day(start: int = T0) -> list[Event]:
    """A day of interactive Opus work: a 40-minute session each hour from 09:00 to 17:40,
    a prompt every 4 minutes and a request every 30 s at about $14/h."""
    events: list[Event] = []
    for hour in range(9):
        session = f"day{hour}"
        begin = start + hour * HOUR
        events += [PromptEvent(begin + turn * 4 * MINUTE, session) for turn in range(10)]
        events += [
            costing(
                begin + 5 * SECOND + i * 30 * SECOND, session, 0.12, project="/home/u/app"
            )._replace(source="claude-code")
            for i in range(80)
        ]
    return events


def script_loop(
    start: int,
    hours: float,
    usd_per_hour: float,
    *,
    every_s: int = 90,
    entrypoint: str = "sdk-cli",
    source: str = "claude-code",
    project: str = "/home/u/nightly",
) -> list[RequestEvent]:
    """A script starting a fresh ``claude -p`` session every ``every_s`` seconds: three
    requests each, at ``usd_per_hour`` in all."""
    per_request = usd_per_hour * every_s / 3600 / 3
    return [
        costing(
            start + run * every_s * SECOND + step * 25 * SECOND, f"run{run}", per_request
        )._replace(entrypoint=entrypoint, source=source, project=project)
        for run in range(int(hours * 3600 / every_s))
        for step in range(3)
    ]


def unattended(alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if a.kind == "unattended_spend"]


def at(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S")


def test_an_overnight_claude_p_loop_fires_by_23_30_and_clears_when_a_person_types() -> None:
    """The incident: a day of interactive work, then from 23:00 a script starting
    ``claude -p`` every 90 s (``while sleep 90; do claude -p ... & done``) at $34/h for
    8.5 hours; the person types again at 07:45."""
    engine = AlertEngine()
    loop = script_loop(NIGHT, 8.5, 34.0)
    fired = replay(engine, [*interactive_day(), *loop])
    assert [a for a in fired if a.at_ms < NIGHT] == []
    assert {a.kind for a in fired} == {"unattended_spend"}
    first = unattended(fired)[0]
    # $34/h projects to ≈$306 by 08:00, over the $100 that makes it critical: at once
    assert (at(first.at_ms), first.severity) == ("23:30:00", "critical")
    assert first.session_id is None
    assert first.project == "/home/u/nightly"
    assert first.message == (
        "Unattended spend for 30 min (no prompt typed in any session): 21 scripted sessions "
        "via claude -p in nightly at $34.00/h; $17.28 so far, ≈$306 by 08:00 at this rate"
    )
    assert first.cost_per_hour_usd == pytest.approx(34.0)
    assert first.sessions[-1] == "run20" and len(first.sessions) == 21
    last = loop[-1].ts_ms
    assert kinds(unattended(engine.active(last))) == [("unattended_spend", "critical")]
    engine.feed_prompt(PromptEvent(last + 15 * MINUTE, "day8", entrypoint="cli"))
    assert unattended(engine.active(last + 15 * MINUTE)) == []


def test_a_cheaper_loop_is_a_warning_until_its_projection_reaches_the_critical_spend() -> None:
    engine = AlertEngine()
    fired = unattended(replay(engine, [*interactive_day(), *script_loop(NIGHT, 8.5, 9.0)]))
    assert [(at(a.at_ms), a.severity) for a in fired] == [
        ("23:30:00", "warning"),
        ("02:06:25", "critical"),
    ]
    assert fired[0].message.endswith("$4.58 so far, ≈$81.08 by 08:00 at this rate")
    # after midnight 08:00 is under 8 hours away: the next 8 hours, on top of the spend so
    # far, reach $100 once $28 is spent
    assert fired[1].message.endswith("$28.05 so far, ≈$100 by 10:06, 8 h from now at this rate")


def test_a_person_typing_again_clears_it_at_once() -> None:
    engine = AlertEngine()
    loop = script_loop(NIGHT, 8.5, 34.0)
    replay(engine, [*interactive_day(), *loop[:900]])
    now = loop[899].ts_ms
    assert kinds(unattended(engine.active(now))) == [("unattended_spend", "critical")]
    engine.feed_prompt(PromptEvent(now + SECOND, "morning", entrypoint="cli"))
    assert unattended(engine.active(now + SECOND)) == []
    # the script goes on: a new unattended run, judged from the person's prompt
    replay(engine, loop[900:])
    assert unattended(engine.active(loop[900].ts_ms)) == []
    assert unattended(engine.active(loop[900].ts_ms + 30 * MINUTE)) != []


def test_a_prompt_in_a_new_session_counts_once_its_session_is_known() -> None:
    engine = AlertEngine()
    loop = script_loop(NIGHT, 2, 34.0)
    replay(engine, loop)
    now = loop[-1].ts_ms + SECOND
    engine.feed_prompt(PromptEvent(now, "fresh"))  # its entrypoint unknown: held
    assert unattended(engine.active(now)) != []
    engine.feed_request(costing(now + 20 * SECOND, "fresh", 0.1)._replace(entrypoint="cli"))
    assert unattended(engine.active(now + 20 * SECOND)) == []


def test_a_held_prompt_with_no_answer_counts_as_a_persons_after_five_minutes() -> None:
    engine = AlertEngine()
    loop = script_loop(NIGHT, 2, 34.0)
    replay(engine, loop)
    now = loop[-1].ts_ms + SECOND
    engine.feed_prompt(PromptEvent(now, "fresh"))
    assert unattended(engine.active(now + 5 * MINUTE - 1)) != []
    assert unattended(engine.active(now + 5 * MINUTE)) == []


def test_prompts_scripts_write_do_not_clear_it() -> None:
    """``codex exec`` logs its prompt as a user message; the session's requests tell."""
    loop = script_loop(NIGHT, 2, 20.0, entrypoint="codex_exec", source="codex")
    prompts = [PromptEvent(e.ts_ms - 2 * SECOND, e.session_id) for e in loop[::3]]
    fired = unattended(replay(AlertEngine(), [*loop, *prompts]))
    # the first prompt, two seconds before the first request, began the run
    assert [(at(a.at_ms), a.severity) for a in fired] == [("23:29:58", "critical")]
    assert "20 scripted sessions via codex exec in nightly at $20.00/h" in fired[0].message
    said = [PromptEvent(p.ts_ms, p.session_id, "codex_exec", "codex") for p in prompts]
    assert unattended(replay(AlertEngine(), [*loop, *said])) != []


def test_a_person_working_in_many_short_sessions_is_not_unattended() -> None:
    """40 sessions of 12 minutes, one after another and some side by side, each typed into."""
    events: list[Event] = []
    for n in range(40):
        begin = T0 + n * 12 * MINUTE
        session = f"short{n}"
        events += [PromptEvent(begin + turn * 3 * MINUTE, session) for turn in range(4)]
        events += [costing(begin + 5 * SECOND + i * 20 * SECOND, session, 0.15) for i in range(36)]
        if n % 4 == 0:  # a second terminal, also typed into
            side = f"side{n}"
            events.append(PromptEvent(begin + MINUTE, side))
            events += [costing(begin + MINUTE + i * 40 * SECOND, side, 0.1) for i in range(15)]
    assert unattended(replay(AlertEngine(), events)) == []


def test_one_interactive_session_running_long_is_the_loop_detectors_alone() -> None:
    events: list[Event] = [PromptEvent(NIGHT, "night")]
    events += [costing(NIGHT + i * 45 * SECOND, "night", 0.3) for i in range(1, 120)]
    assert {a.kind for a in replay(AlertEngine(), events)} == {"unattended_loop"}


def test_one_scripted_session_running_long_is_the_loop_detectors_alone() -> None:
    prompt = PromptEvent(NIGHT, "sdk", "sdk-ts", "claude-code")
    later = PromptEvent(NIGHT + 20 * MINUTE, "sdk")  # its session's requests tell
    requests = [
        costing(NIGHT + i * 45 * SECOND, "sdk", 0.3)._replace(entrypoint="sdk-ts")
        for i in range(1, 120)
    ]
    fired = replay(AlertEngine(), [prompt, later, *requests])
    assert kinds(fired) == [("unattended_loop", "critical")]
    assert at(fired[0].at_ms) == "23:30:45"  # the script's second prompt did not restart it


def test_two_sessions_left_running_after_their_prompts_are_unattended() -> None:
    events: list[Event] = [PromptEvent(NIGHT, "a"), PromptEvent(NIGHT + MINUTE, "b")]
    events += [costing(NIGHT + MINUTE + i * 40 * SECOND, "a", 0.05) for i in range(1, 60)]
    events += [costing(NIGHT + MINUTE + i * 50 * SECOND, "b", 0.05) for i in range(1, 50)]
    fired = unattended(replay(AlertEngine(), events))
    assert kinds(fired) == [("unattended_spend", "warning")]
    assert fired[0].message == (
        "Unattended spend for 30 min (no prompt typed in any session): 2 sessions via an agent "
        "in p at $8.10/h; $4.10 so far, ≈$72.72 by 08:00 at this rate"
    )
    assert set(fired[0].sessions) == {"a", "b"}


def test_a_script_beside_a_person_typing_waits_until_they_stop() -> None:
    loop = script_loop(T0 + 6 * HOUR, 4, 34.0)
    fired = unattended(replay(AlertEngine(), [*interactive_day(), *loop]))
    # the person types until 17:36:00; the run begins with the next request, at 17:36:05
    assert [(at(a.at_ms), a.severity) for a in fired] == [("18:06:25", "critical")]
    assert "22 sessions (21 scripted) via claude -p and Claude Code in nightly and app" in (
        fired[0].message
    )


def test_mixed_entrypoints_are_named_with_their_share() -> None:
    loop = script_loop(NIGHT, 1, 34.0)
    person = [PromptEvent(NIGHT - MINUTE, "long")]
    person += [
        costing(NIGHT + i * 60 * SECOND, "long", 0.05)._replace(source="codex") for i in range(60)
    ]
    fired = unattended(replay(AlertEngine(), [*loop, *person]))
    assert "22 sessions (21 scripted) via claude -p and Codex in nightly and p at $36.90/h" in (
        fired[0].message
    )


def test_cursor_spend_says_nothing_about_prompts() -> None:
    cursor = [
        costing(NIGHT + i * 30 * SECOND, f"c{i % 3}", 0.3)._replace(source="cursor")
        for i in range(120)
    ]
    assert unattended(replay(AlertEngine(), cursor)) == []


def test_it_lapses_once_the_loop_has_paused_past_the_gap() -> None:
    engine = AlertEngine()
    loop = script_loop(NIGHT, 1, 34.0)
    replay(engine, loop)
    end = loop[-1].ts_ms
    assert unattended(engine.active(end + 20 * MINUTE)) != []
    assert unattended(engine.active(end + 20 * MINUTE + 1)) == []


def test_a_job_every_fifteen_minutes_is_one_run() -> None:
    cron = script_loop(NIGHT, 3, 12.0, every_s=15 * 60)
    fired = unattended(replay(AlertEngine(), cron))
    # runs at 23:00, 23:15 and 23:30: half an hour at $12/h, ≈$109 by 08:00
    assert [(at(a.at_ms), a.severity) for a in fired] == [("23:30:00", "critical")]


def test_a_run_names_at_most_its_latest_sessions() -> None:
    limits = Thresholds(max_sessions=50)
    engine = AlertEngine(limits)
    replay(engine, script_loop(NIGHT, 3, 34.0))
    (alert,) = unattended(engine.active(NIGHT + 3 * HOUR))
    assert len(alert.sessions) == 50 and alert.sessions[-1] == "run119"
    assert "120 scripted sessions" in alert.message


@pytest.mark.parametrize(
    ("local", "hours", "phrase"),
    [
        # the night the clocks go back: 23:30 CEST to 08:00 CET is 9.5 hours
        (datetime(2026, 10, 24, 23, 30, tzinfo=BERLIN), 9.5, "by 08:00"),
        (datetime(2026, 10, 25, 1, 0, tzinfo=BERLIN), 8.0, "by 08:00"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=BERLIN), 8.0, "by 08:30, 8 h from now"),
        # the night they go forward: 23:00 CET to 08:00 CEST is only 8 hours
        (datetime(2026, 3, 28, 23, 0, tzinfo=BERLIN), 8.0, "by 08:00"),
        (datetime(2026, 3, 28, 23, 30, tzinfo=BERLIN), 8.0, "by 08:30, 8 h from now"),
        (datetime(2026, 3, 28, 16, 0, tzinfo=BERLIN), 15.0, "by 08:00"),
        (datetime(2026, 5, 11, 15, 59, tzinfo=BERLIN), 8.0, "by 23:59, 8 h from now"),
        (datetime(2026, 5, 11, 16, 0, tzinfo=BERLIN), 16.0, "by 08:00"),
        (datetime(2026, 5, 11, 8, 0, tzinfo=BERLIN), 8.0, "by 16:00, 8 h from now"),
    ],
)
def test_the_projection_runs_to_the_next_morning_in_local_time(
    local: datetime, hours: float, phrase: str
) -> None:
    now_ms = int(local.timestamp() * 1000)
    assert projection_horizon(now_ms, BERLIN, Thresholds()) == (pytest.approx(hours), phrase)


@pytest.mark.parametrize(
    ("night", "severity", "ending"),
    [
        # 23:30 CEST to 08:00 CET: 9.5 hours at $10/h on top of $5.08
        (datetime(2026, 10, 24, 23, 0, tzinfo=BERLIN), "critical", "≈$100 by 08:00"),
        # 23:30 CET to 08:00 CEST is 7.5 hours: the next 8 instead
        (datetime(2026, 3, 28, 23, 0, tzinfo=BERLIN), "warning", "≈$85.08 by 08:30, 8 h from now"),
    ],
)
def test_a_loop_over_a_clock_change_is_projected_to_the_real_morning(
    night: datetime, severity: str, ending: str
) -> None:
    start = int(night.timestamp() * 1000)
    fired = unattended(replay(AlertEngine(zone=BERLIN), script_loop(start, 2, 10.0)))
    assert (fired[0].at_ms - start, fired[0].severity) == (30 * MINUTE, severity)
    assert fired[0].message.endswith(f"$5.08 so far, {ending} at this rate")
