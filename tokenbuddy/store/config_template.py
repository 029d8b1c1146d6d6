"""The commented ``config.toml`` written on first use.

Every key is shown commented out with its default, so the file documents itself; the
``[alerts]`` thresholds and their descriptions are read from
:class:`~tokenbuddy.core.alerts.Thresholds`, so the file never drifts from the code.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import TYPE_CHECKING

from tokenbuddy.core.alerts import Thresholds

if TYPE_CHECKING:
    from pathlib import Path

CONFIG_TEMPLATE = """\
# tokenbuddy settings. Every key is optional; TOKENBUDDY_<KEY> environment
# variables override this file (for example TOKENBUDDY_MONTHLY_CAP_USD=300).

# Monthly budget in US dollars; leave out for no cap.
# monthly_cap_usd = 300

# Warn (softly) at this share of the cap.
# soft_limit_ratio = 0.8

# Day of the month the budget cycle starts on (1-28).
# cycle_start_day = 1

# IANA time zone for days, weeks and cycles; the machine's zone when left out.
# timezone = "Europe/Paris"

# Claude Code config dirs and Codex homes to read, replacing the defaults
# (CLAUDE_CONFIG_DIR and CODEX_HOME still win when set).
# claude_config_dirs = ["~/.claude", "~/.claude-work"]
# codex_homes = ["~/.codex"]

# How often the dashboard repaints after new lines, and re-scans every log
# for events the file watcher missed, in seconds.
# refresh_seconds = 0.25
# rescan_seconds = 30

# A critical warning rings the terminal bell and sends a desktop notification
# (notify-send on Linux, osascript on macOS) where one is available.
# bell = true
# desktop_notifications = true

# The Claude Code status line (tokenbuddy statusline --install).
[statusline]
# segments = ["session", "today", "burn", "cap", "cache", "five_hour", "warning", "guard"]
# (also available: "seven_day", and from Claude Code's own input "model", "context"
# for the context window used, "duration", "git" for the branch, "lines" added/removed)
# separator = " · "
# prefix = "⚡ "
# color = true

# Vendor usage endpoints (credentials: tokenbuddy auth add <provider>).
[vendors]
# poll_seconds = 300
# subscription_poll_seconds = 60
# history_days = 30
# disabled = []            # any of "claude", "anthropic", "openai", "cursor", "cursor-team"
# cursor_team_id = 0

# Team sync (tokenbuddy team join <dsn>): only daily aggregates ever leave.
[team]
# sync = true                   # push while joined (false pauses it)
# share_project_names = false   # also send project folder names (never paths)
# soft_limit_usd = 150          # your monthly soft limit, shown to the team
# sync_minutes = 15
# history_days = 62
# allow_insecure = false        # allow a non-loopback server without TLS

# The guard (tokenbuddy guard --install): Claude Code hooks that stop a runaway.
# Off until you set mode; "warn" tells you without stopping anything, "block"
# stops the tool call or prompt and says why (tokenbuddy guard allow resumes).
[guard]
# mode = "off"                       # "off", "warn" or "block"
# hard_cap_usd = 400                 # stop every session at this cycle spend
# daily_cap_usd = 60                 # stop every session at this spend in one local day
# scripted_session_limit_usd = 10    # stop a claude -p / Agent SDK session past this
# block_on_critical = true           # a critical runaway warning stops what it involves

# Runaway-spend detectors. Every threshold is optional; these are the defaults.
[alerts]
{alerts}
"""


def threshold_docs() -> dict[str, str]:
    """Each threshold's docstring, read from the source (for the template and the README)."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(Thresholds))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
        ):
            docs[node.target.id] = " ".join(str(following.value.value).split())
    return docs


def _alerts_template() -> str:
    docs = threshold_docs()
    lines = []
    for field in dataclasses.fields(Thresholds):
        if field.name in docs:
            lines.append(f"# {docs[field.name]}")
        lines.append(f"# {field.name} = {field.default!r}")
    return "\n".join(lines)


def config_template() -> str:
    """The commented config file written on first use."""
    return CONFIG_TEMPLATE.replace("{alerts}", _alerts_template())


def write_template(config_file: Path) -> bool:
    """Create a commented config file if there is none; True if one was written."""
    if config_file.exists():
        return False
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(config_template(), encoding="utf-8")
    return True
