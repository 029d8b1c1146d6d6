"""``tokenbuddy statusline``: one line for Claude Code's status line, in a few milliseconds.

Claude Code runs this after every assistant message and pipes it a JSON object
(session id, transcript path, its own cost estimate, subscription windows). It
must be fast and must never break the prompt, so:

* it imports nothing heavy: no Textual, Rich, SQLite, TOML, pydantic or
  platformdirs. It reads the compact snapshot in ``status.json`` (written by
  every process that updates the ledger, see :mod:`tokenbuddy.services.status_file`)
  and parses JSON with the C scanner behind :mod:`json` (see :mod:`tokenbuddy.fast_json`);
* when the ledger is behind (the transcript grew, the snapshot is old, or the
  windows changed) it starts ``tokenbuddy statusline --refresh`` detached, which
  ingests only that session's new bytes, stores the windows and rewrites the
  snapshot for the next run; it never waits for it;
* any problem prints a short neutral line, exits 0 and is logged to
  ``statusline.log`` in the state dir.

The segments are drawn by :mod:`tokenbuddy.cli.statusline_render`; ``--install``,
``--uninstall`` and ``--refresh`` go through :mod:`tokenbuddy.cli.statusline_command`
(install in :mod:`tokenbuddy.cli.statusline_install`, the refresh in
:mod:`tokenbuddy.services.statusline_refresh`).
"""

from __future__ import annotations

import os
import sys

from tokenbuddy import clock
from tokenbuddy.cli.statusline_render import _dict, _number, render, window_percent
from tokenbuddy.core.units import MINUTE_MS
from tokenbuddy.fast_json import parse_json

TYPE_CHECKING = False  # not typing's: importing typing costs the status line 2-5 ms
if TYPE_CHECKING:
    from typing import Any

NEUTRAL = "⚡ tokenbuddy"
"""What is printed when something went wrong: short, and never an error message.

Nothing from the logs is ever printed: every segment is a number or a fixed label,
and the configured prefix and separator go through :func:`clean`."""
MAX_STDIN = 4 << 20
STALE_MS = MINUTE_MS
"""A snapshot older than this is refreshed in the background."""


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
    """Claude Code's JSON and its text; {} when stdin is a terminal or empty. Input that
    is not a JSON object raises ValueError saying what is wrong and how it began."""
    if sys.stdin is None or sys.stdin.isatty():
        return {}, ""
    text = sys.stdin.buffer.read(MAX_STDIN).decode("utf-8", errors="replace")
    if not text.strip():
        return {}, ""
    try:
        value = parse_json(text)
    except ValueError as error:
        raise ValueError(f"the input on stdin is {error}; it began {text[:60]!r}") from None
    if not isinstance(value, dict):
        raise ValueError(
            f"the input on stdin is a JSON {type(value).__name__}, not the object "
            "Claude Code sends (session_id, transcript_path, model...)"
        )
    return value, text


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


def current_cap(status: dict[str, Any], environ: Any) -> tuple[dict[str, Any], bool]:
    """The snapshot with the cap in force now, and whether it changed since the snapshot:
    ``TOKENBUDDY_MONTHLY_CAP_USD`` replaces the snapshot's cap (its days left wait for
    the refresh), and after a ``config.toml`` change the cap is left out until then,
    rather than shown stale (reading TOML here would cost every run)."""
    if not status:
        return status, False
    cap = _number(status.get("cap_usd"))
    named = environ.get("TOKENBUDDY_MONTHLY_CAP_USD", "").strip()
    if named:
        try:
            wanted: float | None = float(named)
        except ValueError:
            wanted = cap
        if wanted is not None and wanted > 0 and wanted != cap:
            cycle = _number(status.get("cycle_usd")) or 0.0
            return {**status, "cap_usd": wanted, "used_ratio": cycle / wanted,
                    "days_to_cap": None}, True  # fmt: skip
        return status, False
    if config_changed(_dict(status.get("guard"))):
        return {**status, "cap_usd": None}, True
    return status, False


def config_changed(guard: dict[str, Any]) -> bool:
    """Whether ``config.toml`` changed since the snapshot was written."""
    path = guard.get("config_file")
    if not isinstance(path, str):
        return False
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        mtime = 0
    return bool(mtime != guard.get("config_mtime_ns", 0))


def start_refresh(stdin_text: str, state_dir: str, *, every_root: bool = False) -> None:
    """Start ``tokenbuddy statusline --refresh`` detached, handing it Claude Code's JSON
    (``every_root``: with ``--all``, which brings every log root up to date too)."""
    os.makedirs(state_dir, exist_ok=True)
    pending = os.path.join(state_dir, f"statusline-{os.getpid()}.json")
    with open(pending, "w", encoding="utf-8") as handle:
        handle.write(stdin_text)
    argv = [sys.executable, "-m", "tokenbuddy", "statusline", "--refresh", pending]
    if every_root:
        argv.append("--all")
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
        status, cap_changed = current_cap(status, os.environ)
        line = render(stdin, status, color=color, now_ms=now_ms)
        if cap_changed or needs_refresh(stdin, status, now_ms):
            start_refresh(stdin_text, state_dir)
    except Exception as error:  # noqa: BLE001 - the prompt must never break
        from tokenbuddy.store.problem_log import log_problem

        log_problem(state_dir, error)
        line = NEUTRAL
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return 0
