"""``tokenbuddy statusline``: one line for Claude Code's status line, in a few milliseconds.

Claude Code runs this after every assistant message and pipes it a JSON object
(session id, transcript path, its own cost estimate, subscription windows). It
must be fast and must never break the prompt, so:

* it imports nothing heavy: no Textual, Rich, SQLite, TOML, pydantic or
  platformdirs. It reads the compact snapshot in ``status.json`` (written by
  every process that updates the ledger, see :mod:`tokenbuddy.services.status_file`)
  and parses JSON with the C scanner behind :mod:`json` (importing :mod:`json`
  itself would compile regular expressions, a third of the time budget);
* when the ledger is behind (the transcript grew, the snapshot is old, or the
  windows changed) it starts ``tokenbuddy statusline --refresh`` detached, which
  ingests only that session's new bytes, stores the windows and rewrites the
  snapshot for the next run; it never waits for it;
* any problem prints a short neutral line, exits 0 and is logged to
  ``statusline.log`` in the state dir.

Install and uninstall (``--install``/``--uninstall``) live in
:mod:`tokenbuddy.cli.statusline_install`; the refresh in
:mod:`tokenbuddy.services.statusline_refresh`.
"""

from __future__ import annotations

import os
import sys

from tokenbuddy import clock
from tokenbuddy.core.money import brief_dollars
from tokenbuddy.core.units import MINUTE_MS

TYPE_CHECKING = False  # not typing's: importing typing costs the status line 2-5 ms
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

NEUTRAL = "⚡ tokenbuddy"
"""What is printed when something went wrong: short, and never an error message.

Nothing from the logs is ever printed: every segment is a number or a fixed label,
and the configured prefix and separator go through :func:`clean`."""
MAX_STDIN = 4 << 20
STALE_MS = MINUTE_MS
"""A snapshot older than this is refreshed in the background."""
DEFAULT_SEGMENTS = ("session", "today", "burn", "cap", "cache", "five_hour", "warning")
KIND_LABEL = {
    "cache_collapse": "cache collapse",
    "spend_spike": "spend spike",
    "unattended_loop": "unattended loop",
    "cap_trajectory": "cap",
    "subscription_window": "limit",
}
RED, YELLOW, GREEN, DIM, RESET = "\x1b[31m", "\x1b[33m", "\x1b[32m", "\x1b[2m", "\x1b[0m"


class _ScannerContext:
    """The settings the C scanner reads from a decoder (the standard ones)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float
    memo: dict[str, str] = {}  # noqa: RUF012 - the scanner's shared string cache


def parse_json(text: str) -> Any:
    """Parse one JSON document with the C scanner (no regular-expression compile)."""
    try:
        from _json import make_scanner
    except ImportError:  # an interpreter without CPython's accelerator
        import json

        return json.loads(text)

    start = len(text) - len(text.lstrip())
    try:
        value, end = make_scanner(_ScannerContext())(text, start)  # type: ignore[arg-type]
    except StopIteration as stop:  # how the C scanner says "no JSON value here"
        raise ValueError(f"not JSON (at character {stop.value})") from None
    if text[end:].strip():
        raise ValueError("extra data after the JSON value")
    return value


def clean(text: str) -> str:
    """Log text made safe for a terminal: escape sequences dropped, other controls removed."""
    out: list[str] = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char == "\x1b":
            index = _skip_escape(text, index + 1)
            continue
        if char.isprintable():
            out.append(char)
        index += 1
    return "".join(out)


def _skip_escape(text: str, index: int) -> int:
    """The index after an escape sequence whose ESC was just before ``index``."""
    if index < len(text) and text[index] in "[]":
        closing = text[index]
        index += 1
        while index < len(text):
            char = text[index]
            index += 1
            if closing == "[" and "@" <= char <= "~":
                break
            if closing == "]" and char in "\x07\x9c":
                break
        return index
    return index + 1


TMUX = {RED: "#[fg=red]", YELLOW: "#[fg=yellow]", GREEN: "#[fg=green]", DIM: "#[dim]"}
"""The same colours in tmux's ``status-right`` syntax."""


class Painter:
    """Applies colours as ANSI escapes, as tmux style tags, or not at all
    (``--no-color``, ``NO_COLOR``, ``color = false``)."""

    def __init__(self, enabled: bool, dialect: str = "ansi") -> None:
        self.enabled = enabled
        self.dialect = dialect

    def __call__(self, text: str, colour: str) -> str:
        if not (self.enabled and colour):
            return text
        if self.dialect == "tmux":
            return f"{TMUX[colour]}{text}#[default]"
        return f"{colour}{text}{RESET}"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def window_percent(
    stdin: dict[str, Any], status: dict[str, Any], key: str, now_ms: int
) -> float | None:
    """A subscription window's use: Claude Code's own reading first, else the snapshot's."""
    reading = _dict(_dict(stdin.get("rate_limits")).get(key))
    used = _number(reading.get("used_percentage"))
    if used is not None:
        return used
    minutes = 300 if key == "five_hour" else 10080
    for entry in status.get("windows") or ():
        window = _dict(entry)
        if window.get("source") == "claude-code" and window.get("window_minutes") == minutes:
            resets = _number(window.get("resets_at_ms"))
            if resets is None or resets > now_ms:
                return _number(window.get("used_percent"))
    return None


def worst_alert(status: dict[str, Any], session_id: str) -> dict[str, Any] | None:
    """The most severe alert about this session or about spend as a whole."""
    mine = [
        _dict(a)
        for a in status.get("alerts") or ()
        if _dict(a).get("session_id") in (None, session_id)
    ]
    return max(mine, key=lambda a: _number(a.get("rank")) or 0.0, default=None)


class Inputs:
    """What every segment reads: Claude Code's JSON, the snapshot, colours and the time."""

    def __init__(
        self, stdin: dict[str, Any], status: dict[str, Any], paint: Painter, now_ms: int
    ) -> None:
        self.stdin = stdin
        self.status = status
        self.paint = paint
        self.now_ms = now_ms
        session_id = stdin.get("session_id")
        self.session_id = session_id if isinstance(session_id, str) else ""


def _session_segment(inputs: Inputs) -> str | None:
    cost = _number(_dict(inputs.status.get("sessions")).get(inputs.session_id))
    if cost is None:
        cost = _number(_dict(inputs.stdin.get("cost")).get("total_cost_usd"))
    return None if cost is None else f"{brief_dollars(cost)} sess"


def _today_segment(inputs: Inputs) -> str | None:
    today = _number(inputs.status.get("today_usd"))
    return None if today is None else f"{brief_dollars(today)} today"


def _burn_segment(inputs: Inputs) -> str | None:
    burn = _number(inputs.status.get("burn_usd_per_hour"))
    return None if burn is None else f"{brief_dollars(burn)}/h"


def _cache_segment(inputs: Inputs) -> str | None:
    ratio = _number(inputs.status.get("cache_hit_ratio_today"))
    return None if ratio is None else f"cache {ratio:.0%}"


def _window_segment(inputs: Inputs, key: str, label: str) -> str | None:
    used = window_percent(inputs.stdin, inputs.status, key, inputs.now_ms)
    if used is None:
        return None
    colour = RED if used >= 90 else YELLOW if used >= 70 else ""
    return inputs.paint(f"{label} {used:.0f}%", colour)


def _warning_segment(inputs: Inputs) -> str | None:
    alert = worst_alert(inputs.status, inputs.session_id)
    if alert is None:
        return None
    label = KIND_LABEL.get(str(alert.get("kind")), "warning")
    return inputs.paint(f"⚠ {label}", RED if alert.get("severity") == "critical" else YELLOW)


def _cap_segment(inputs: Inputs) -> str | None:
    status, paint = inputs.status, inputs.paint
    used = _number(status.get("used_ratio"))
    if _number(status.get("cap_usd")) is None or used is None:
        return None
    days = _number(status.get("days_to_cap"))
    if used >= 1:
        return paint(f"cap {used:.0%} reached", RED)
    text = f"cap {used:.0%}"
    if days is not None:
        text += f" ({days:.0f}d left)"
    colour = RED if days is not None and days < 3 else YELLOW if used >= 0.8 else ""
    return paint(text, colour)


SEGMENTS: dict[str, Callable[[Inputs], str | None]] = {
    "session": _session_segment,
    "today": _today_segment,
    "burn": _burn_segment,
    "cap": _cap_segment,
    "cache": _cache_segment,
    "five_hour": lambda inputs: _window_segment(inputs, "five_hour", "5h"),
    "seven_day": lambda inputs: _window_segment(inputs, "seven_day", "7d"),
    "warning": _warning_segment,
}


def render(
    stdin: dict[str, Any],
    status: dict[str, Any],
    *,
    color: bool,
    now_ms: int,
    dialect: str = "ansi",
) -> str:
    """The whole line, from Claude Code's JSON and the snapshot."""
    settings = _dict(status.get("statusline"))
    names = settings.get("segments") or DEFAULT_SEGMENTS
    enabled = color and settings.get("color", True) is not False
    inputs = Inputs(stdin, status, Painter(enabled, dialect), now_ms)
    parts = [
        text
        for name in names
        if (build := SEGMENTS.get(name)) is not None and (text := build(inputs))
    ]
    separator = clean(str(settings.get("separator", " · ")))
    prefix = clean(str(settings.get("prefix", "⚡ ")))
    if dialect == "tmux":  # a literal # starts a tmux style tag
        separator, prefix = separator.replace("#", "##"), prefix.replace("#", "##")
    if not status:
        parts.append(inputs.paint("reading logs…", DIM))
    return prefix + separator.join(parts)


def fast_dirs() -> tuple[str, str]:
    """(cache dir, state dir) as :func:`tokenbuddy.store.paths.app_paths` gives them,
    computed without importing platformdirs (a test keeps the two in step)."""
    home = os.environ.get("TOKENBUDDY_HOME", "").strip()
    if home:
        root = os.path.expanduser(home)
        return os.path.join(root, "cache"), os.path.join(root, "state")
    if sys.platform == "darwin":
        library = os.path.expanduser("~/Library")
        return (
            os.path.join(library, "Caches", "tokenbuddy"),
            os.path.join(library, "Application Support", "tokenbuddy"),
        )
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
        return os.path.join(local, "tokenbuddy", "Cache"), os.path.join(local, "tokenbuddy")
    cache = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.expanduser("~/.cache")
    state = os.environ.get("XDG_STATE_HOME", "").strip() or os.path.expanduser("~/.local/state")
    return os.path.join(cache, "tokenbuddy"), os.path.join(state, "tokenbuddy")


def read_stdin() -> tuple[dict[str, Any], str]:
    """Claude Code's JSON and its text; {} when stdin is a terminal, empty or not an object."""
    if sys.stdin is None or sys.stdin.isatty():
        return {}, ""
    text = sys.stdin.buffer.read(MAX_STDIN).decode("utf-8", errors="replace")
    if not text.strip():
        return {}, ""
    value = parse_json(text)
    return (value, text) if isinstance(value, dict) else ({}, "")


def read_status(path: str) -> dict[str, Any]:
    """The snapshot, or {} when there is none yet (or it is from another version)."""
    try:
        with open(path, encoding="utf-8") as handle:
            value = parse_json(handle.read())
    except FileNotFoundError:
        return {}
    if not isinstance(value, dict) or value.get("version") != 1:
        return {}
    return value


def needs_refresh(stdin: dict[str, Any], status: dict[str, Any], now_ms: int) -> bool:
    """Whether the ledger is behind this session or the snapshot is old."""
    if not status:
        return True
    updated = _number(status.get("updated_ms")) or 0.0
    if now_ms - updated > STALE_MS:
        return True
    transcript = stdin.get("transcript_path")
    if isinstance(transcript, str) and transcript:
        try:
            size = os.stat(transcript).st_size
        except OSError:
            return False
        if _dict(status.get("transcripts")).get(transcript) != size:
            return True
    return bool(stdin.get("rate_limits")) and _windows_changed(stdin, status, now_ms)


def _windows_changed(stdin: dict[str, Any], status: dict[str, Any], now_ms: int) -> bool:
    snapshot_only = {**status, "windows": status.get("windows") or []}
    for key in ("five_hour", "seven_day"):
        mine = _number(_dict(_dict(stdin.get("rate_limits")).get(key)).get("used_percentage"))
        if mine is not None and window_percent({}, snapshot_only, key, now_ms) != mine:
            return True
    return False


def start_refresh(stdin_text: str, state_dir: str) -> None:
    """Start ``tokenbuddy statusline --refresh`` detached, handing it Claude Code's JSON."""
    os.makedirs(state_dir, exist_ok=True)
    pending = os.path.join(state_dir, f"statusline-{os.getpid()}.json")
    with open(pending, "w", encoding="utf-8") as handle:
        handle.write(stdin_text)
    argv = [sys.executable, "-m", "tokenbuddy", "statusline", "--refresh", pending]
    devnull = os.open(os.devnull, os.O_RDWR)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, fd) for fd in (0, 1, 2)]
    try:
        os.posix_spawn(sys.executable, argv, os.environ, file_actions=actions, setsid=True)
    except (AttributeError, NotImplementedError, TypeError):
        os.posix_spawn(sys.executable, argv, os.environ, file_actions=actions)
    finally:
        os.close(devnull)


def run_fast(argv: list[str]) -> int:
    """The status line itself: print one line and return 0, whatever happens."""
    cache_dir, state_dir = fast_dirs()
    color = "--no-color" not in argv and not os.environ.get("NO_COLOR")
    now_ms = clock.now_ms()
    try:
        stdin, stdin_text = read_stdin()
        status = read_status(os.path.join(cache_dir, "status.json"))
        line = render(stdin, status, color=color, now_ms=now_ms)
        if needs_refresh(stdin, status, now_ms):
            start_refresh(stdin_text, state_dir)
    except Exception as error:  # noqa: BLE001 - the prompt must never break
        from tokenbuddy.store.problem_log import log_problem

        log_problem(state_dir, error)
        line = NEUTRAL
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return 0


def run_statusline(args: Any) -> int:
    """The argparse route: ``--install``, ``--uninstall``, ``--refresh``, or the line itself."""
    if args.refresh:
        from tokenbuddy.services.statusline_refresh import run_refresh

        return run_refresh(args.refresh)
    if args.install or args.uninstall:
        from pathlib import Path

        from tokenbuddy.cli.statusline_install import install, settings_file, uninstall
        from tokenbuddy.store.paths import app_paths

        paths = app_paths()
        paths.ensure()
        target = settings_file(os.environ, Path.home())
        done = (
            uninstall(target, paths) if args.uninstall else install(target, paths, force=args.force)
        )
        print(done)
        others = [p for p in os.environ.get("CLAUDE_CONFIG_DIR", "").split(",")[1:] if p.strip()]
        if others:
            print(
                f"note: CLAUDE_CONFIG_DIR names {len(others)} more dir(s); only the first was "
                "changed (run again with each as CLAUDE_CONFIG_DIR to change the others)"
            )
        return 0
    return run_fast(["--no-color"] if args.no_color else [])
