"""The guard's Claude Code hook: let a tool call or prompt through, warn, or stop it.

``tokenbuddy guard --install`` registers this for two events of Claude Code's hooks
(the hooks reference, code.claude.com/docs/en/hooks):

* input, JSON on stdin: the common fields ``session_id``, ``transcript_path``,
  ``cwd`` and ``hook_event_name``; ``PreToolUse`` adds ``tool_name`` and
  ``tool_input``, ``UserPromptSubmit`` adds ``prompt`` (never read here);
* output: exit code 0 with JSON on stdout ("JSON output"). To stop a tool call,
  ``{"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision":
  "deny", "permissionDecisionReason": ...}}``: the reason is shown to Claude. To
  stop a prompt, ``{"decision": "block", "reason": ...}``: the prompt is not
  processed and is erased from context, and the reason is shown to the person. A
  warning is the common field ``systemMessage``, shown to the person. Empty
  stdout with exit 0 lets the call go ahead; the guard never uses exit code 2
  (which also blocks) and never exits with anything but 0;
* the environment: Claude Code sets ``CLAUDE_CODE_ENTRYPOINT`` for its children:
  ``cli`` interactively, ``sdk-cli`` under ``claude -p``, ``sdk-ts`` and
  ``sdk-py`` under the Agent SDK. That is how a scripted session is told apart.

It runs before every tool call, so, like the status line, it imports nothing heavy
and never opens the ledger: it reads ``status.json`` (the figures, the warnings and
the validated ``[guard]`` settings, written by every ledger writer), the allow file
and, in warn mode, the tail of its journal. When the figures are old it starts the
status line's background refresh with ``--all`` (every log root) and decides on
what it has. The policy itself is :mod:`tokenbuddy.core.guard`; what it decides is
appended to the journal (:mod:`tokenbuddy.store.guard_files`).

It fails open: any error, an input that is not one of the two events, a missing or
unreadable status file, or a run past :data:`DEADLINE_S` lets the call through
(exit 0, nothing on stdout) and is logged to ``guard.log`` in the state dir. A
budget tool must never break someone's agent by accident.
"""

from __future__ import annotations

import os
import sys

from tokenbuddy import clock
from tokenbuddy.cli.statusline import config_changed, fast_dirs, read_status, start_refresh
from tokenbuddy.core import guard as policy
from tokenbuddy.core.units import MINUTE_MS
from tokenbuddy.fast_json import dump_json, parse_json
from tokenbuddy.store import guard_files

TYPE_CHECKING = False  # not typing's: importing typing costs the hook 2-5 ms
if TYPE_CHECKING:
    from typing import Any

DEADLINE_S = 2.0
"""A run that takes longer than this lets the call through (and says so in the log)."""
MAX_INPUT = 8 << 20
"""Bytes of hook input read at most (a ``Write`` carries the whole file)."""
STALE_MS = 2 * MINUTE_MS
"""Figures older than this are refreshed in the background (every root)."""
JOURNAL_TAIL = 16 << 10
REFRESH_LOCK = "statusline.lock"
EVERY_ROOT_LOCK = "statusline-all.lock"


class FailOpen(Exception):
    """Why the guard let a call through without judging it (written to the log)."""


class OutOfTime(Exception):
    """The hook ran past :data:`DEADLINE_S` (not an OSError: nothing may catch it on the way)."""


def run_hook() -> int:
    """The hook itself: print the decision (or nothing) and return 0, whatever happens."""
    cache_dir, state_dir = fast_dirs()
    output = ""
    try:
        _set_deadline(DEADLINE_S)
        hook_input = read_input()
        entrypoint = os.environ.get("CLAUDE_CODE_ENTRYPOINT", "")
        output = respond(hook_input, entrypoint, cache_dir, state_dir, clock.now_ms())
        _set_deadline(0)
    except BaseException as problem:  # noqa: BLE001 - the agent must never break
        _set_deadline(0)
        from tokenbuddy.store.problem_log import log_problem

        log_problem(state_dir, problem, guard_files.LOG)
        output = ""
    if output:
        sys.stdout.write(output + "\n")
        sys.stdout.flush()
    return 0


def _set_deadline(seconds: float) -> None:
    """Raise :class:`OutOfTime` in this process after ``seconds`` (0 cancels)."""
    try:
        import _signal  # type: ignore[import-not-found]  # signal's enums cost 8 ms
    except ImportError:
        return
    if not hasattr(_signal, "setitimer"):  # Windows: Claude Code's own timeout applies
        return
    if seconds:
        _signal.signal(_signal.SIGALRM, _out_of_time)
    _signal.setitimer(_signal.ITIMER_REAL, seconds)


def _out_of_time(signum: int, frame: object) -> None:
    raise OutOfTime(f"the guard hook took over {DEADLINE_S:g} s; the call went ahead")


def read_input() -> dict[str, Any]:
    """Claude Code's hook input; :class:`FailOpen` when it is not a JSON object."""
    if sys.stdin is None or sys.stdin.isatty():
        raise FailOpen("no hook input on stdin")
    data = sys.stdin.buffer.read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT:
        raise FailOpen(f"hook input over {MAX_INPUT >> 20} MB")
    value = parse_json(data.decode("utf-8", errors="replace"))
    if not isinstance(value, dict):
        raise FailOpen("hook input is not a JSON object")
    return value


def respond(
    hook_input: dict[str, Any], entrypoint: str, cache_dir: str, state_dir: str, now_ms: int
) -> str:
    """What to print for this call: a block, a warning, or "" to let it through."""
    event, session_id = hook_input.get("hook_event_name"), hook_input.get("session_id")
    if event not in policy.EVENTS or not isinstance(session_id, str):
        raise FailOpen(f"not a PreToolUse or UserPromptSubmit input (event {event!r})")
    status = _read_status(os.path.join(cache_dir, "status.json"), hook_input, state_dir)
    keep_fresh(status, hook_input, entrypoint, state_dir, now_ms)
    if policy.guard_settings(status).get("mode") not in ("warn", "block"):
        return ""
    try:
        allows = guard_files.read_allows(state_dir)
    except (OSError, ValueError) as error:
        raise FailOpen(f"the allow file is unreadable ({error})") from None
    verdict = policy.decide(
        status, allows, session_id=session_id, entrypoint=entrypoint, event=event, now_ms=now_ms
    )
    if verdict is None:
        return ""
    if verdict.action == "warn":
        earlier = [*_published_decisions(status), *journal_tail(state_dir, session_id)]
        if policy.warned_lately(earlier, session_id, verdict.rule, now_ms):
            return ""
        record(state_dir, verdict, hook_input, entrypoint, now_ms)
        return dump_json({"systemMessage": policy.warning_text(verdict)})
    record(state_dir, verdict, hook_input, entrypoint, now_ms)
    return block_output(event, policy.block_reason(verdict, session_id, event), verdict)


def _read_status(path: str, hook_input: dict[str, Any], state_dir: str) -> dict[str, Any]:
    """The status file, or :class:`FailOpen` (after starting a refresh) without one."""
    try:
        status = read_status(path)
    except (OSError, ValueError) as error:
        _start_refresh(hook_input, state_dir, every_root=True)
        raise FailOpen(f"{path} is unreadable ({error})") from None
    if not status:
        _start_refresh(hook_input, state_dir, every_root=True)
        raise FailOpen(f"no figures yet in {path}; a refresh was started")
    return status


def block_output(event: str, reason: str, verdict: policy.Verdict) -> str:
    """The documented JSON that stops this event, with ``reason``."""
    if event == policy.PRE_TOOL_USE:
        return dump_json(
            {
                "hookSpecificOutput": {
                    "hookEventName": policy.PRE_TOOL_USE,
                    "permissionDecision": "deny",
                    "permissionDecisionReason": reason,
                },
                "systemMessage": f"tokenbuddy guard stopped a tool call: {verdict.message}",
            }
        )
    return dump_json({"decision": "block", "reason": reason})


def record(
    state_dir: str,
    verdict: policy.Verdict,
    hook_input: dict[str, Any],
    entrypoint: str,
    now_ms: int,
) -> None:
    """Append the decision to the journal (the ledger writers import it)."""
    tool = hook_input.get("tool_name")
    guard_files.append_decision(
        state_dir,
        {
            "id": guard_files.decision_id(now_ms),
            "ts_ms": now_ms,
            "decision": verdict.action,
            "event": hook_input["hook_event_name"],
            "rule": verdict.rule,
            "session_id": hook_input["session_id"],
            "entrypoint": entrypoint,
            "tool": tool if isinstance(tool, str) else "",
            "message": verdict.message,
            "until_ms": None,
        },
    )


def _published_decisions(status: dict[str, Any]) -> list[Any]:
    decisions = policy.guard_part(status).get("decisions")
    return decisions if isinstance(decisions, list) else []


def journal_tail(state_dir: str, session_id: str) -> list[dict[str, Any]]:
    """This session's decisions among the journal's last lines (not yet imported)."""
    try:
        descriptor = os.open(guard_files.journal_path(state_dir), os.O_RDONLY)
    except FileNotFoundError:
        return []
    try:
        size = os.fstat(descriptor).st_size
        os.lseek(descriptor, max(0, size - JOURNAL_TAIL), os.SEEK_SET)
        data = os.read(descriptor, JOURNAL_TAIL)
    finally:
        os.close(descriptor)
    needle = dump_json(session_id).encode()
    found = []
    for line in data.split(b"\n"):
        if needle in line:
            try:
                value = parse_json(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                continue
            if isinstance(value, dict):
                found.append(value)
    return found


def keep_fresh(
    status: dict[str, Any], hook_input: dict[str, Any], entrypoint: str, state_dir: str, now_ms: int
) -> None:
    """Start a background refresh when the figures are behind (never waits for it).

    Every root is brought up to date when the figures are older than
    :data:`STALE_MS` (or ``config.toml`` changed since they were written); a scripted
    session under a per-session limit has its own transcript read as it grows.
    """
    guard = policy.guard_part(status)
    settings = policy.guard_settings(status)
    active = settings.get("mode") in ("warn", "block")
    oldest = min(_ms(status.get("updated_ms")), _ms(status.get("synced_ms")))
    if config_changed(guard) or (active and now_ms - oldest > STALE_MS):
        _start_refresh(hook_input, state_dir, every_root=True)
    elif active and settings.get("scripted_session_limit_usd") and policy.is_scripted(entrypoint):
        transcript = hook_input.get("transcript_path")
        known = status.get("transcripts")
        if isinstance(transcript, str) and isinstance(known, dict):
            try:
                size = os.stat(transcript).st_size
            except OSError:
                return
            if known.get(transcript) != size:
                _start_refresh(hook_input, state_dir, every_root=False)


def _ms(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _start_refresh(hook_input: dict[str, Any], state_dir: str, *, every_root: bool) -> None:
    """Start the status line's refresh for this session unless one is already running."""
    if _busy(os.path.join(state_dir, EVERY_ROOT_LOCK if every_root else REFRESH_LOCK)):
        return
    session = {
        key: hook_input[key]
        for key in ("session_id", "transcript_path")
        if isinstance(hook_input.get(key), str)
    }
    start_refresh(dump_json(session), state_dir, every_root=every_root)


def _busy(lock_path: str) -> bool:
    """Whether a refresh holds ``lock_path`` now (then another one need not start)."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False
