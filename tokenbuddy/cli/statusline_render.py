"""The status line's text: its segments, colours and the line itself.

Pure string work over Claude Code's JSON and the status file's figures, shared by
the status line (:mod:`tokenbuddy.cli.statusline`) and ``tokenbuddy status --format``.
Imports nothing heavy: the status line runs after every assistant message.
"""

from __future__ import annotations

from tokenbuddy.core.money import brief_dollars

TYPE_CHECKING = False  # not typing's: importing typing costs the status line 2-5 ms
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

DEFAULT_SEGMENTS = ("session", "today", "burn", "cap", "cache", "five_hour", "warning", "guard")
KIND_LABEL = {
    "cache_collapse": "cache collapse",
    "spend_spike": "spend spike",
    "unattended_loop": "unattended loop",
    "unattended_spend": "unattended spend",
    "cap_trajectory": "cap",
    "subscription_window": "limit",
}
RULE_LABEL = {
    "hard_cap": "hard cap",
    "daily_cap": "daily cap",
    "unattended_spend": "unattended",
    "critical_alert": "critical",
    "scripted_session_limit": "session limit",
}
GUARD_SHOWN_MS = 10 * 60_000
"""A block or warning of the guard shows in its session's line this long."""
RED, YELLOW, GREEN, DIM, RESET = "\x1b[31m", "\x1b[33m", "\x1b[32m", "\x1b[2m", "\x1b[0m"


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


def _guard_segment(inputs: Inputs) -> str | None:
    """The guard's latest block or warning of this session (``⛔ guard: hard cap``), until
    an allow covers it or :data:`GUARD_SHOWN_MS` has passed."""
    for entry in _dict(inputs.status.get("guard")).get("decisions") or ():  # newest first
        decision = _dict(entry)
        kind, session = decision.get("decision"), decision.get("session_id")
        if kind == "allow" and session in ("", inputs.session_id):
            return None
        if kind in ("block", "warn") and session == inputs.session_id:
            if inputs.now_ms - (_number(decision.get("ts_ms")) or 0) > GUARD_SHOWN_MS:
                return None
            label = RULE_LABEL.get(str(decision.get("rule")), "guard")
            if kind == "block":
                return inputs.paint(f"⛔ guard: {label}", RED)
            return inputs.paint(f"guard: {label}", YELLOW)
    return None


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


def _model_segment(inputs: Inputs) -> str | None:
    """Claude Code's name for the model (``Sonnet 4``)."""
    model = _dict(inputs.stdin.get("model"))
    name = model.get("display_name") or model.get("id")
    return clean(name) if isinstance(name, str) and name else None


def _context_segment(inputs: Inputs) -> str | None:
    """How full the context window is: Claude Code's percentage, else its current
    usage (or, from older versions, the input tokens) over the window's size."""
    window = _dict(inputs.stdin.get("context_window"))
    used = _number(window.get("used_percentage"))
    if used is None:
        size = _number(window.get("context_window_size"))
        current = _dict(window.get("current_usage"))
        if current:
            keys = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
            tokens: float | None = sum(_number(current.get(key)) or 0.0 for key in keys)
        else:
            tokens = _number(window.get("total_input_tokens"))
        if not size or tokens is None:
            return None
        used = 100 * tokens / size
    colour = RED if used >= 90 else YELLOW if used >= 70 else ""
    return inputs.paint(f"ctx {used:.0f}%", colour)


def _duration_segment(inputs: Inputs) -> str | None:
    """How long the session has run, by Claude Code's count (``1h05m``, ``12m``)."""
    elapsed = _number(_dict(inputs.stdin.get("cost")).get("total_duration_ms"))
    if elapsed is None:
        return None
    minutes = int(elapsed // 60_000)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def _lines_segment(inputs: Inputs) -> str | None:
    """Lines added and removed in the session, where Claude Code reports them."""
    cost = _dict(inputs.stdin.get("cost"))
    added = _number(cost.get("total_lines_added"))
    removed = _number(cost.get("total_lines_removed"))
    if added is None and removed is None:
        return None
    return (
        f"{inputs.paint(f'+{added or 0:.0f}', GREEN)} {inputs.paint(f'-{removed or 0:.0f}', RED)}"
    )


def _git_segment(inputs: Inputs) -> str | None:
    """The git branch of Claude Code's working directory, read from ``.git/HEAD``
    (never by running git: this runs after every message)."""
    workspace = _dict(inputs.stdin.get("workspace"))
    directory = workspace.get("current_dir") or inputs.stdin.get("cwd")
    if not isinstance(directory, str) or not directory:
        return None
    branch = git_branch(directory)
    return None if branch is None else f"⎇ {clean(branch)}"


def git_branch(directory: str) -> str | None:
    """The branch checked out in the repository holding ``directory`` (a short commit
    id when detached); None outside a repository or when HEAD cannot be read."""
    import os

    path = os.path.abspath(directory)
    for _ in range(64):
        dot_git = os.path.join(path, ".git")
        if os.path.isdir(dot_git):
            return _head_branch(os.path.join(dot_git, "HEAD"))
        if os.path.isfile(dot_git):  # a worktree or submodule: "gitdir: <path>"
            try:
                with open(dot_git, encoding="utf-8") as handle:
                    pointer = handle.read(4096).strip()
            except OSError:
                return None
            if not pointer.startswith("gitdir:"):
                return None
            git_dir = os.path.join(path, pointer[len("gitdir:") :].strip())
            return _head_branch(os.path.join(git_dir, "HEAD"))
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent
    return None


def _head_branch(head: str) -> str | None:
    try:
        with open(head, encoding="utf-8") as handle:
            text = handle.read(4096).strip()
    except OSError:
        return None
    if text.startswith("ref:"):
        return text[len("ref:") :].strip().removeprefix("refs/heads/")
    return text[:7] or None


SEGMENTS: dict[str, Callable[[Inputs], str | None]] = {
    "session": _session_segment,
    "today": _today_segment,
    "burn": _burn_segment,
    "cap": _cap_segment,
    "cache": _cache_segment,
    "five_hour": lambda inputs: _window_segment(inputs, "five_hour", "5h"),
    "seven_day": lambda inputs: _window_segment(inputs, "seven_day", "7d"),
    "warning": _warning_segment,
    "guard": _guard_segment,
    "model": _model_segment,
    "context": _context_segment,
    "duration": _duration_segment,
    "git": _git_segment,
    "lines": _lines_segment,
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
