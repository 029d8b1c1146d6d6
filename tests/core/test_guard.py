"""The guard's policy: which rule stops which call, in block and warn mode, and allows."""

from __future__ import annotations

from typing import Any

import pytest

from tokenbuddy.core import guard as policy
from tokenbuddy.core.units import HOUR_MS, MINUTE_MS

NOW_MS = 1_795_000_000_000
PRE, PROMPT = policy.PRE_TOOL_USE, policy.USER_PROMPT_SUBMIT


def status(**guard_settings: Any) -> dict[str, Any]:
    """A status file's figures: $412.30 this cycle, $61 today, two sessions, no warnings."""
    return {
        "version": 1,
        "updated_ms": NOW_MS - MINUTE_MS,
        "cycle_usd": 412.3,
        "today_usd": 61.0,
        "alerts": [],
        "sessions": {"loop-1": 12.5, "person": 3.0},
        "guard": {
            "settings": {"mode": "block", **guard_settings},
            "cycle_ends_ms": NOW_MS + 10 * 24 * HOUR_MS,
            "day_ends_ms": NOW_MS + 5 * HOUR_MS,
        },
    }


def alert(kind: str, severity: str, session_id: str | None, *sessions: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "severity": severity,
        "session_id": session_id,
        "sessions": list(sessions),
        "message": f"{kind} with numbers",
    }


def rules(
    state: dict[str, Any], session: str = "person", entry: str = "cli", event: str = PRE
) -> list[str]:
    trips = policy.evaluate(state, session_id=session, entrypoint=entry, event=event, now_ms=NOW_MS)
    return [trip.rule for trip in trips]


def test_caps_stop_every_session_with_the_numbers() -> None:
    state = status(hard_cap_usd=400, daily_cap_usd=60)
    trips = policy.evaluate(state, session_id="x", entrypoint="cli", event=PRE, now_ms=NOW_MS)
    assert [t.message for t in trips] == [
        "cycle spend $412.30 reached hard_cap_usd $400.00",
        "today's spend $61.00 reached daily_cap_usd $60.00",
    ]
    assert rules(status(hard_cap_usd=500, daily_cap_usd=61.5)) == []


def test_a_cap_holds_however_old_the_figures_until_its_cycle_or_day_ends() -> None:
    state = status(hard_cap_usd=400, daily_cap_usd=60)
    state["updated_ms"] = NOW_MS - 3 * HOUR_MS
    assert rules(state) == ["hard_cap", "daily_cap"]
    state["guard"]["day_ends_ms"] = NOW_MS - 1  # yesterday's figures
    assert rules(state) == ["hard_cap"]
    state["guard"]["cycle_ends_ms"] = NOW_MS  # last cycle's
    assert rules(state) == []


def test_a_critical_warning_stops_only_the_sessions_it_names() -> None:
    state = status()
    state["alerts"] = [
        alert("cache_collapse", "critical", "person"),
        alert("spend_spike", "critical", None, "loop-1"),
        alert("unattended_loop", "warning", "other"),
    ]
    assert rules(state, "person") == ["critical_alert"]
    assert rules(state, "person", event=PROMPT) == ["critical_alert"]
    assert rules(state, "loop-1") == ["critical_alert"]
    assert rules(state, "other") == []
    assert rules(state, "someone-else") == []
    assert rules({**state, "guard": {"settings": {"block_on_critical": False}}}, "person") == []


def test_warnings_in_old_figures_are_not_acted_on() -> None:
    state = status()
    state["alerts"] = [alert("cache_collapse", "critical", "person")]
    state["updated_ms"] = NOW_MS - policy.ALERT_FRESH_MS - 1
    assert rules(state, "person") == []


@pytest.mark.parametrize(
    ("session", "entry", "event", "stopped"),
    [
        ("new-iteration", "sdk-cli", PRE, True),  # the loop's next `claude -p`
        ("new-iteration", "sdk-cli", PROMPT, True),  # its scripted prompt
        ("sdk-run", "sdk-py", PRE, True),
        ("loop-1", "cli", PRE, True),  # named by the warning
        ("loop-1", "cli", PROMPT, False),  # a person typing ends unattended spend
        ("person", "cli", PRE, False),
        ("person", "claude-vscode", PROMPT, False),
        ("unknown-entrypoint", "", PRE, False),
    ],
)
def test_person_wide_unattended_spend_stops_scripted_and_named_sessions(
    session: str, entry: str, event: str, stopped: bool
) -> None:
    state = status()
    state["alerts"] = [alert("unattended_spend", "critical", None, "loop-1", "loop-2")]
    assert rules(state, session, entry, event) == (["unattended_spend"] if stopped else [])
    state["alerts"] = [alert("unattended_spend", "warning", None, "loop-1")]
    assert rules(state, session, entry, event) == []


def test_the_scripted_session_limit_needs_a_scripted_entrypoint() -> None:
    state = status(scripted_session_limit_usd=10)
    assert rules(state, "loop-1", "sdk-cli") == ["scripted_session_limit"]
    assert rules(state, "loop-1", "sdk-ts") == ["scripted_session_limit"]
    assert rules(state, "loop-1", "cli") == []
    assert rules(state, "loop-1", "") == []
    assert rules(state, "person", "sdk-cli") == []  # $3 of $10
    assert rules(state, "never-seen", "sdk-cli") == []
    message = policy.evaluate(
        state, session_id="loop-1", entrypoint="sdk-cli", event=PRE, now_ms=NOW_MS
    )[0].message
    assert message == (
        "this scripted session (sdk-cli) has spent $12.50, "
        "reaching scripted_session_limit_usd $10.00"
    )


@pytest.mark.parametrize(
    ("mode", "action"), [("block", "block"), ("warn", "warn"), ("off", None), (None, None)]
)
def test_the_mode_decides_what_a_trip_does(mode: str | None, action: str | None) -> None:
    state = status(hard_cap_usd=100)
    state["guard"]["settings"]["mode"] = mode
    verdict = policy.decide(state, [], session_id="x", entrypoint="cli", event=PRE, now_ms=NOW_MS)
    assert (verdict.action if verdict else None) == action


def test_allows_lift_blocks_for_their_sessions_until_they_expire() -> None:
    state = status(hard_cap_usd=100)

    def verdict(allows: list[dict[str, Any]], session: str) -> str | None:
        found = policy.decide(
            state, allows, session_id=session, entrypoint="cli", event=PRE, now_ms=NOW_MS
        )
        return found.action if found else None

    everyone = {"until_ms": NOW_MS + 1, "session_id": None}
    one = {"until_ms": NOW_MS + HOUR_MS, "session_id": "a"}
    expired = {"until_ms": NOW_MS, "session_id": None}
    assert verdict([everyone], "a") is None and verdict([everyone], "b") is None
    assert verdict([one], "a") is None and verdict([one], "b") == "block"
    assert verdict([expired], "a") == "block"
    assert verdict([{"until_ms": "soon"}], "a") == "block"


def test_the_reason_says_what_tripped_and_how_to_resume() -> None:
    verdict = policy.Verdict("block", [policy.Trip("hard_cap", "cycle spend $412.30 reached")])
    to_model = policy.block_reason(verdict, "s-1", PRE)
    assert to_model.startswith("tokenbuddy guard stopped this tool call: cycle spend $412.30")
    assert "Do not retry" in to_model
    assert "tokenbuddy guard allow --for 30m (or --session s-1" in to_model
    to_person = policy.block_reason(verdict, "s-1", PROMPT)
    assert to_person.startswith("tokenbuddy guard stopped this prompt:")
    assert "Do not retry" not in to_person and "--session s-1" in to_person


def test_warnings_are_spaced_per_session_and_rule() -> None:
    earlier = [{"decision": "warn", "session_id": "a", "rule": "hard_cap", "ts_ms": NOW_MS - 1000}]
    assert policy.warned_lately(earlier, "a", "hard_cap", NOW_MS)
    assert not policy.warned_lately(earlier, "b", "hard_cap", NOW_MS)
    assert not policy.warned_lately(earlier, "a", "daily_cap", NOW_MS)
    assert not policy.warned_lately(earlier, "a", "hard_cap", NOW_MS + policy.WARN_EVERY_MS)
    blocked = [{**earlier[0], "decision": "block"}]
    assert not policy.warned_lately(blocked, "a", "hard_cap", NOW_MS)


def test_standing_says_whom_each_tripped_rule_stops() -> None:
    state = status(hard_cap_usd=400, scripted_session_limit_usd=10)
    state["alerts"] = [
        alert("unattended_spend", "critical", None, "loop-1"),
        alert("cache_collapse", "critical", "person"),
    ]
    found = [(scope, trip.rule) for scope, trip in policy.standing(state, NOW_MS)]
    assert found == [
        ("every session", "hard_cap"),
        ("scripted sessions and loop-1", "unattended_spend"),
        ("session person", "critical_alert"),
        ("session loop-1, if scripted", "scripted_session_limit"),
    ]
    state["alerts"] = [alert("unattended_spend", "critical", None, *"abcd")]
    assert policy.standing(state, NOW_MS)[1][0] == (
        "scripted sessions and the 4 sessions of the warning"
    )


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"guard": "block"},
        {"guard": {"settings": {"mode": "block", "hard_cap_usd": "400"}}, "cycle_usd": 500},
        {"guard": {"settings": {"mode": "block"}}, "alerts": [None, 3, {"severity": "critical"}]},
        {"guard": {"settings": {"mode": "block", "scripted_session_limit_usd": 1}}, "sessions": []},
    ],
)
def test_malformed_figures_trip_nothing(state: dict[str, Any]) -> None:
    verdict = policy.decide(
        state, [], session_id="s", entrypoint="sdk-cli", event=PRE, now_ms=NOW_MS
    )
    assert verdict is None


@pytest.mark.parametrize(
    "entrypoint",
    ["cli", "sdk-cli", "sdk-ts", "sdk-py", "claude-vscode", "claude-desktop", "sdk", "", "SDK-x"],
)
def test_scripted_means_what_the_detectors_mean_for_claude_code(entrypoint: str) -> None:
    from tokenbuddy.core.entrypoints import is_scripted
    from tokenbuddy.core.records import CLAUDE_CODE

    assert policy.is_scripted(entrypoint) == is_scripted(CLAUDE_CODE, entrypoint)


def stopped_loop(*decisions: tuple[str, str, int], typed_ms: int | None = None) -> dict[str, Any]:
    """Figures with no warning left (the stopped loop spends nothing, so it lapsed), the
    given (decision, rule, minutes ago) decisions, and when a person last typed."""
    state = status()
    state["person_typed_ms"] = typed_ms
    state["guard"]["decisions"] = [
        {"ts_ms": NOW_MS - ago * MINUTE_MS, "decision": what, "rule": rule}
        for what, rule, ago in decisions
    ]
    return state


def test_a_stopped_loop_stays_stopped_after_its_warning_lapses() -> None:
    state = stopped_loop(("block", "unattended_spend", 25), typed_ms=NOW_MS - 3 * HOUR_MS)
    assert rules(state, "loop-9", "sdk-cli", PROMPT) == ["unattended_spend"]
    assert rules(state, "loop-9", "sdk-cli", PRE) == ["unattended_spend"]
    (trip,) = policy.evaluate(
        state, session_id="loop-9", entrypoint="sdk-ts", event=PRE, now_ms=NOW_MS
    )
    assert trip.message.startswith("unattended spend was stopped 25 min ago")
    assert rules(state, "person", "cli", PROMPT) == []  # a person typing is never stopped
    assert rules(state, "person", "cli", PRE) == []  # nor their session's tools
    assert [scope for scope, _ in policy.standing(state, NOW_MS)] == ["every scripted session"]


@pytest.mark.parametrize(
    ("decisions", "typed_ago"),
    [
        ((("block", "unattended_spend", 25),), 10),  # a person typed after the stop
        ((("block", "unattended_spend", 25), ("allow", "", 5)), None),  # an allow was given
        ((("block", "unattended_spend", 25 * 60),), None),  # a day has passed
        ((("block", "hard_cap", 25),), None),  # another rule's block does not stick
        ((("warn", "unattended_spend", 25),), None),  # a warning stops nothing
    ],
)
def test_a_stopped_loop_is_released_by_a_person_an_allow_or_a_day(
    decisions: tuple[tuple[str, str, int], ...], typed_ago: int | None
) -> None:
    typed_ms = None if typed_ago is None else NOW_MS - typed_ago * MINUTE_MS
    state = stopped_loop(*decisions, typed_ms=typed_ms)
    assert rules(state, "loop-9", "sdk-cli", PRE) == []
    assert policy.standing(state, NOW_MS) == []


def test_a_live_warning_and_a_stopped_loop_trip_once() -> None:
    state = stopped_loop(("block", "unattended_spend", 3))
    state["alerts"] = [alert("unattended_spend", "critical", None, "loop-1")]
    assert rules(state, "loop-9", "sdk-cli", PRE) == ["unattended_spend"]
    assert len(policy.standing(state, NOW_MS)) == 1
