"""``tokenbuddy guard``: the guard's state, ``--install`` / ``--uninstall``, and ``allow``.

The hook itself never comes through here (it runs :mod:`tokenbuddy.cli.guard_hook`
straight from ``python -c``); this is the person's side of the guard.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy import clock
from tokenbuddy.cli.table import clean
from tokenbuddy.core.money import dollars
from tokenbuddy.errors import ConfigError

if TYPE_CHECKING:
    import argparse
    from zoneinfo import ZoneInfo

    from tokenbuddy.services.guard import GuardState

DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?")


def parse_duration(text: str) -> int:
    """``30m``, ``2h`` or ``1h30m`` as minutes; ConfigError otherwise."""
    match = DURATION.fullmatch(text.strip().lower())
    if not text.strip() or match is None or not any(match.groups()):
        raise ConfigError(f"--for {text!r}: use minutes or hours, like 30m, 2h or 1h30m")
    hours, minutes = (int(part or 0) for part in match.groups())
    return hours * 60 + minutes


def run_guard(args: argparse.Namespace) -> int:
    """The argparse route: ``allow``, ``--install``, ``--uninstall``, or the state."""
    if args.guard_action == "allow":
        return run_allow(args)
    if args.install or args.uninstall:
        return run_install(uninstall=args.uninstall)
    return run_state(as_json=args.json)


def run_install(*, uninstall: bool) -> int:
    """Add or remove the hooks in Claude Code's ``settings.json``."""
    from tokenbuddy.cli import guard_install
    from tokenbuddy.cli.statusline_install import other_dirs_note, settings_file
    from tokenbuddy.store.paths import app_paths
    from tokenbuddy.store.settings import load_settings

    paths = app_paths()
    paths.ensure()
    target = settings_file(os.environ, Path.home())
    if uninstall:
        print(guard_install.uninstall(target, paths))
    else:
        print(guard_install.install(target, paths))
    note = other_dirs_note(os.environ)
    if note:
        print(note)
    if not uninstall and load_settings(paths.config_file)[0].guard.mode == "off":
        print(
            f'the guard is off: set mode = "block" (or "warn") under [guard] in '
            f"{paths.config_file}, with the limits you want; `tokenbuddy guard` shows its state"
        )
    return 0


def run_allow(args: argparse.Namespace) -> int:
    """Lift the guard's blocks for a while, for one session or every one."""
    from tokenbuddy.services.guard import allow
    from tokenbuddy.store.paths import app_paths
    from tokenbuddy.store.settings import load_settings
    from tokenbuddy.store.timezone import configured_zone

    minutes = parse_duration(args.duration)
    paths = app_paths()
    paths.ensure()
    try:
        lifted = allow(
            paths.state_dir, minutes=minutes, session_id=args.session, now_ms=clock.now_ms()
        )
    except ValueError as error:
        raise ConfigError(f"--for {args.duration}: {error}") from None
    zone, _ = configured_zone(load_settings(paths.config_file)[0].timezone)
    scope = f"session {clean(args.session)}" if args.session else "every session"
    print(f"guard: blocks lifted for {scope} until {_clock_time(lifted.until_ms, zone)}")
    return 0


def run_state(*, as_json: bool) -> int:
    """Bring the figures up to date, then print what the guard stops now and why."""
    from tokenbuddy.cli.progress import terminal_progress
    from tokenbuddy.services.current_status import current_status
    from tokenbuddy.services.guard import guard_state
    from tokenbuddy.store.paths import app_paths

    with terminal_progress() as progress:
        status = current_status(progress=progress)
    for problem in status.problems:
        print(f"tokenbuddy: {problem}", file=sys.stderr)
    state = guard_state(status.payload, app_paths().state_dir, status.snapshot.now_ms)
    if as_json:
        sys.stdout.write(orjson.dumps(guard_json(state, status.zone)).decode() + "\n")
    else:
        print(format_guard(state, status.zone, _installed_in()))
    return 0


def _installed_in() -> Path | None:
    """Claude Code's settings file when the guard's hooks are in it."""
    from tokenbuddy.cli.guard_install import installed_events
    from tokenbuddy.cli.statusline_install import load_settings_json, settings_file

    target = settings_file(os.environ, Path.home())
    try:
        return target if installed_events(load_settings_json(target)) else None
    except ConfigError:
        return None


def _clock_time(ts_ms: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _iso(ts_ms: int | None, zone: ZoneInfo) -> str | None:
    if ts_ms is None:
        return None
    return datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(zone).isoformat()


def guard_json(state: GuardState, zone: ZoneInfo) -> dict[str, Any]:
    """The guard's state as ``tokenbuddy guard --json`` and ``status --json`` give it."""
    return {
        "mode": state.mode,
        "blocking": state.blocking,
        "settings": state.settings,
        "standing": [
            {"rule": s.rule, "scope": s.scope, "message": s.message} for s in state.standing
        ],
        "allows": [
            {
                "session_id": a.session_id,
                "from": _iso(a.from_ms, zone),
                "until": _iso(a.until_ms, zone),
            }
            for a in state.allows
        ],
        "decisions": [
            {
                "at": _iso(int(d.get("ts_ms") or 0), zone),
                **{k: d.get(k) or None for k in ("decision", "event", "rule", "session_id")},
                "message": d.get("message"),
                "entrypoint": d.get("entrypoint") or None,
                "tool": d.get("tool") or None,
                "until": _iso(d.get("until_ms"), zone),
            }
            for d in state.decisions
        ],
        "journal_lines_skipped": state.journal_skipped,
        "problems": state.problems,
    }


def _limits(settings: dict[str, Any]) -> str:
    def limit(key: str) -> str:
        value = settings.get(key)
        return dollars(value) if isinstance(value, int | float) else "none"

    critical = "stop" if settings.get("block_on_critical", True) else "do not stop"
    return (
        f"hard cap {limit('hard_cap_usd')} a cycle · daily cap {limit('daily_cap_usd')} · "
        f"scripted session {limit('scripted_session_limit_usd')} · "
        f"critical warnings {critical}"
    )


def format_guard(state: GuardState, zone: ZoneInfo, installed: Path | None) -> str:
    """A few plain lines: mode, limits, what is stopped now, allows, recent decisions."""
    where = (
        f"hooks in {installed}" if installed else "hooks not installed: tokenbuddy guard --install"
    )
    lines = [f"Guard     {state.mode} ({where})", f"Limits    {_limits(state.settings)}"]
    verb = {"block": "stops", "warn": "would stop (warn mode)"}.get(state.mode, "would stop (off)")
    if state.mode == "block" and not state.blocking:
        verb = "would stop (allowed for now)"
    if not state.standing:
        lines.append("Now       nothing tripped")
    for index, standing in enumerate(state.standing):
        label = "Now" if index == 0 else ""
        lines.append(f"{label:<9} {verb} {clean(standing.scope)}: {clean(standing.message)}")
    for index, allowed in enumerate(state.allows):
        scope = f"session {clean(allowed.session_id)}" if allowed.session_id else "every session"
        label = "Allowed" if index == 0 else ""
        lines.append(f"{label:<9} {scope} until {_clock_time(allowed.until_ms, zone)}")
    for index, decision in enumerate(state.decisions[:5]):
        label = "Recent" if index == 0 else ""
        lines.append(f"{label:<9} {_decision_line(decision, zone)}")
    if state.journal_skipped:
        lines.append(f"Skipped   {state.journal_skipped} journal line(s) that were not decisions")
    lines.extend(f"Problem   {problem}" for problem in state.problems)
    return "\n".join(lines)


def _decision_line(decision: dict[str, Any], zone: ZoneInfo) -> str:
    when = _clock_time(int(decision.get("ts_ms") or 0), zone)
    what = str(decision.get("decision", ""))
    session = str(decision.get("session_id") or "every session")
    detail = str(decision.get("message") or "")
    return clean(f"{when} {what:<5} {session}: {detail}")[:160]
