"""The guard's policy: whether a Claude Code tool call or prompt goes ahead, and why not.

Pure, and light enough for the guard hook's fast path (no ``typing``, no
``dataclasses``): it judges the status file's figures (see
:mod:`tokenbuddy.services.status_file`) as plain dicts, with ``now_ms`` given.

With ``mode = "block"`` in ``[guard]``, each rule that trips stops the call:

- ``hard_cap``: the cycle's spend reached ``hard_cap_usd``: every session;
- ``daily_cap``: today's spend reached ``daily_cap_usd``: every session;
- ``unattended_spend``: the person-wide unattended-spend warning is critical: every
  scripted session (new iterations of a loop included) and every session the warning
  names; a prompt typed in an interactive session is never stopped by it (a person
  typing is what ends unattended spend). Once it has stopped a call, scripted sessions
  stay stopped until a person types a prompt in any session or an allow is given (at
  most :data:`STOPPED_LOOP_MS`): a stopped loop spends nothing, so its warning lapses,
  and without this its next run would start the loop again;
- ``critical_alert``: another critical runaway warning names this session;
- ``scripted_session_limit``: this session is scripted (``CLAUDE_CODE_ENTRYPOINT``
  ``sdk-cli`` for ``claude -p``, ``sdk-ts``, ``sdk-py``) and has spent
  ``scripted_session_limit_usd``.

The two rules that act on warnings need ``block_on_critical``. Spend figures only grow
within a cycle and a day, so a cap stays reached however old the figures are, until
the cycle or day they belong to ends; warnings older than :data:`ALERT_FRESH_MS` are
not acted on. An active allow (``tokenbuddy guard allow``) lifts every rule for the
sessions it covers. With ``mode = "warn"`` the same rules give warnings instead.
"""

from __future__ import annotations

from tokenbuddy.core.money import dollars
from tokenbuddy.core.units import MINUTE_MS

TYPE_CHECKING = False  # not typing's: importing typing costs the fast path 2-5 ms
if TYPE_CHECKING:
    from typing import Any

PRE_TOOL_USE = "PreToolUse"
USER_PROMPT_SUBMIT = "UserPromptSubmit"
EVENTS = (PRE_TOOL_USE, USER_PROMPT_SUBMIT)
RULES = ("hard_cap", "daily_cap", "unattended_spend", "critical_alert", "scripted_session_limit")
"""Every rule, in the order a message lists them."""
ALERT_FRESH_MS = 15 * MINUTE_MS
"""Warnings in figures older than this are not acted on (the hook refreshes them)."""
STOPPED_LOOP_MS = 24 * 60 * MINUTE_MS
"""How long a stop of unattended spend outlives its warning, at most, with nobody typing."""
WARN_EVERY_MS = 10 * MINUTE_MS
"""In warn mode, one session is told of one rule at most this often."""
SCRIPTED_PREFIX = "sdk-"
"""``CLAUDE_CODE_ENTRYPOINT`` of a scripted session: ``sdk-cli`` (``claude -p``),
``sdk-ts`` and ``sdk-py`` (the Agent SDK). ``cli`` and the IDE and desktop apps are
interactive. The same rule as :func:`tokenbuddy.core.entrypoints.is_scripted` for
Claude Code, which the fast path cannot import (a test keeps the two in step)."""


class Trip:
    """One rule that tripped, with the numbers that tripped it."""

    __slots__ = ("message", "rule")

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        self.message = message

    def __repr__(self) -> str:
        return f"Trip({self.rule!r}, {self.message!r})"


class Verdict:
    """What the guard does about one call: ``block`` or ``warn``, the rules and why."""

    __slots__ = ("action", "trips")

    def __init__(self, action: str, trips: list[Trip]) -> None:
        self.action = action
        self.trips = trips

    @property
    def rule(self) -> str:
        """The first rule that tripped (the one recorded)."""
        return self.trips[0].rule

    @property
    def message(self) -> str:
        """Every tripped rule's numbers, in one sentence."""
        return "; ".join(trip.message for trip in self.trips)


def is_scripted(entrypoint: str) -> bool:
    """Whether Claude Code's ``CLAUDE_CODE_ENTRYPOINT`` says nobody is at the keys."""
    return entrypoint.startswith(SCRIPTED_PREFIX)


def guard_part(status: dict[str, Any]) -> dict[str, Any]:
    """The status file's ``guard`` object ({} when it has none)."""
    return _dict(status.get("guard"))


def guard_settings(status: dict[str, Any]) -> dict[str, Any]:
    """The ``[guard]`` settings the status file carries ({} when it carries none)."""
    return _dict(guard_part(status).get("settings"))


def evaluate(
    status: dict[str, Any], *, session_id: str, entrypoint: str, event: str, now_ms: int
) -> list[Trip]:
    """Every rule that trips for this call, in :data:`RULES` order (mode aside)."""
    settings = guard_settings(status)
    guard = guard_part(status)
    trips = _cap_trips(status, settings, guard, now_ms)
    if settings.get("block_on_critical", True) is not False:
        trips += _alert_trips(status, session_id, entrypoint, event, now_ms)
        stopped_ms = stopped_loop_ms(status, now_ms)
        live = any(trip.rule == "unattended_spend" for trip in trips)
        if stopped_ms is not None and is_scripted(entrypoint) and not live:
            trips.append(Trip("unattended_spend", _still_stopped(stopped_ms, now_ms)))
    limit = _number(settings.get("scripted_session_limit_usd"))
    spent = _number(_dict(status.get("sessions")).get(session_id))
    if limit and spent is not None and spent >= limit and is_scripted(entrypoint):
        trips.append(
            Trip(
                "scripted_session_limit",
                f"this scripted session ({entrypoint}) has spent {dollars(spent)}, "
                f"reaching scripted_session_limit_usd {dollars(limit)}",
            )
        )
    return trips


def _cap_trips(
    status: dict[str, Any], settings: dict[str, Any], guard: dict[str, Any], now_ms: int
) -> list[Trip]:
    trips = []
    caps = (
        ("hard_cap", "cycle_usd", "cycle_ends_ms", "hard_cap_usd", "cycle spend"),
        ("daily_cap", "today_usd", "day_ends_ms", "daily_cap_usd", "today's spend"),
    )
    for rule, figure, ends, setting, label in caps:
        cap, spent, until = (
            _number(settings.get(setting)),
            _number(status.get(figure)),
            _number(guard.get(ends)),
        )
        if cap and spent is not None and until is not None and now_ms < until and spent >= cap:
            trips.append(Trip(rule, f"{label} {dollars(spent)} reached {setting} {dollars(cap)}"))
    return trips


def _alert_trips(
    status: dict[str, Any], session_id: str, entrypoint: str, event: str, now_ms: int
) -> list[Trip]:
    updated = _number(status.get("updated_ms"))
    if updated is None or now_ms - updated > ALERT_FRESH_MS:
        return []
    scripted = is_scripted(entrypoint)
    trips = []
    for alert in status.get("alerts") or []:
        if not isinstance(alert, dict) or alert.get("severity") != "critical":
            continue
        named = bool(session_id) and (
            alert.get("session_id") == session_id or session_id in (alert.get("sessions") or [])
        )
        message = str(alert.get("message") or alert.get("kind"))
        if alert.get("kind") == "unattended_spend":
            person_typing = event == USER_PROMPT_SUBMIT and not scripted
            if (scripted or named) and not person_typing:  # its message names itself
                trips.append(Trip("unattended_spend", message))
        elif named:
            trips.append(Trip("critical_alert", f"critical warning on this session: {message}"))
    return trips


def stopped_loop_ms(status: dict[str, Any], now_ms: int) -> int | None:
    """When the guard last stopped unattended spend, if nobody has typed a prompt and no
    allow was given since (and it was less than :data:`STOPPED_LOOP_MS` ago).

    A stop within :data:`ALERT_FRESH_MS` after a person typed does not count: it was
    judged on figures from before the prompt (the warning itself needs half an hour of
    nobody typing before it can hold again).
    """
    typed = _number(status.get("person_typed_ms"))
    resumed, stopped = (0.0 if typed is None else typed + ALERT_FRESH_MS), None
    for decision in guard_part(status).get("decisions") or []:
        if not isinstance(decision, dict):
            continue
        ts_ms = _number(decision.get("ts_ms"))
        if ts_ms is None:
            continue
        if decision.get("decision") == "allow":
            resumed = max(resumed, ts_ms)
        elif decision.get("decision") == "block" and decision.get("rule") == "unattended_spend":
            stopped = ts_ms if stopped is None else max(stopped, ts_ms)
    if stopped is None or stopped <= resumed or now_ms - stopped >= STOPPED_LOOP_MS:
        return None
    return int(stopped)


def _still_stopped(stopped_ms: int, now_ms: int) -> str:
    minutes = max(0, (now_ms - stopped_ms) // MINUTE_MS)
    return (
        f"unattended spend was stopped {minutes} min ago and nobody has typed a prompt "
        "since; scripted runs stay stopped until a person types or allows them"
    )


def standing(status: dict[str, Any], now_ms: int) -> list[tuple[str, Trip]]:
    """Each rule tripped now, with whom it stops (for ``tokenbuddy guard`` and the dashboard).

    Mode aside: in warn mode these are what would be stopped in block mode.
    """
    settings = guard_settings(status)
    guard = guard_part(status)
    found = [("every session", trip) for trip in _cap_trips(status, settings, guard, now_ms)]
    if settings.get("block_on_critical", True) is not False:
        found += _standing_alerts(status, now_ms)
        stopped_ms = stopped_loop_ms(status, now_ms)
        if stopped_ms is not None and not any(t.rule == "unattended_spend" for _, t in found):
            trip = Trip("unattended_spend", _still_stopped(stopped_ms, now_ms))
            found.append(("every scripted session", trip))
    limit = _number(settings.get("scripted_session_limit_usd"))
    for session_id, spent in _dict(status.get("sessions")).items():
        cost = _number(spent)
        if limit and cost is not None and cost >= limit:
            message = (
                f"session {session_id} has spent {dollars(cost)}, "
                f"reaching scripted_session_limit_usd {dollars(limit)}"
            )
            found.append(
                (f"session {session_id}, if scripted", Trip("scripted_session_limit", message))
            )
    return found


def _standing_alerts(status: dict[str, Any], now_ms: int) -> list[tuple[str, Trip]]:
    updated = _number(status.get("updated_ms"))
    if updated is None or now_ms - updated > ALERT_FRESH_MS:
        return []
    found = []
    for alert in status.get("alerts") or []:
        if not isinstance(alert, dict) or alert.get("severity") != "critical":
            continue
        names = [s for s in (alert.get("session_id"), *(alert.get("sessions") or [])) if s]
        message = str(alert.get("message") or alert.get("kind"))
        if alert.get("kind") == "unattended_spend":
            found.append((_unattended_scope(names), Trip("unattended_spend", message)))
        elif names:
            scope = f"session {', '.join(names)}"
            found.append((scope, Trip("critical_alert", f"critical warning: {message}")))
    return found


def _unattended_scope(names: list[Any]) -> str:
    """Whom the unattended-spend rule stops, its sessions named while there are few."""
    if not names:
        return "scripted sessions"
    if len(names) > 3:
        return f"scripted sessions and the {len(names)} sessions of the warning"
    return f"scripted sessions and {', '.join(str(n) for n in names)}"


def decide(
    status: dict[str, Any],
    allows: list[dict[str, Any]],
    *,
    session_id: str,
    entrypoint: str,
    event: str,
    now_ms: int,
) -> Verdict | None:
    """``block``, ``warn`` or None (go ahead) for one call, by ``[guard]``'s mode."""
    mode = guard_settings(status).get("mode")
    if mode not in ("warn", "block"):
        return None
    trips = evaluate(
        status, session_id=session_id, entrypoint=entrypoint, event=event, now_ms=now_ms
    )
    if not trips or allowed(allows, session_id, now_ms):
        return None
    return Verdict("block" if mode == "block" else "warn", trips)


def allowed(allows: list[dict[str, Any]], session_id: str, now_ms: int) -> bool:
    """Whether an allow that has not expired covers ``session_id`` (or every session)."""
    for allow in allows:
        until = _number(allow.get("until_ms"))
        covers = allow.get("session_id") in (None, "", session_id)
        if until is not None and until > now_ms and covers:
            return True
    return False


def warned_lately(decisions: list[Any], session_id: str, rule: str, now_ms: int) -> bool:
    """Whether ``session_id`` was warned of ``rule`` within :data:`WARN_EVERY_MS`."""
    for decision in decisions:
        if (
            isinstance(decision, dict)
            and decision.get("decision") == "warn"
            and decision.get("session_id") == session_id
            and decision.get("rule") == rule
            and now_ms - (_number(decision.get("ts_ms")) or 0) < WARN_EVERY_MS
        ):
            return True
    return False


def block_reason(verdict: Verdict, session_id: str, event: str) -> str:
    """What the agent (and the person) is told: what tripped, the numbers, how to resume."""
    resume = "tokenbuddy guard allow --for 30m"
    if session_id:
        resume += f" (or --session {session_id} for this session only)"
    if event == PRE_TOOL_USE:  # shown to the model
        return (
            f"tokenbuddy guard stopped this tool call: {verdict.message}. "
            "Do not retry or work around this; stop and tell the user. "
            f"A person can resume with: {resume}."
        )
    return f"tokenbuddy guard stopped this prompt: {verdict.message}. To resume: {resume}."


def warning_text(verdict: Verdict) -> str:
    """What the person is told in warn mode."""
    return f"tokenbuddy guard (warn mode, nothing stopped): {verdict.message}"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
