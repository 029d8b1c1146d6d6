"""Desktop notifications for critical warnings: notify-send on Linux, osascript on macOS.

Best effort by design: with no notifier installed, no display, or a notifier that
fails, nothing happens and nothing is raised. The message is passed as an
argument (never through a shell), so text from logs cannot run anything.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

NOTIFY_TIMEOUT_S = 5.0


def notifier_command(title: str, body: str) -> list[str] | None:
    """The command that shows a notification on this platform, or None if there is none."""
    if sys.platform == "darwin":
        osascript = shutil.which("osascript")
        if osascript is None:
            return None
        script = (
            "on run argv\n"
            "display notification (item 2 of argv) with title (item 1 of argv)\n"
            "end run"
        )
        return [osascript, "-e", script, title, body]
    notify_send = shutil.which("notify-send")
    if notify_send is None:
        return None
    return [notify_send, "--app-name=tokenbuddy", "--urgency=critical", title, body]


def desktop_notification(title: str, body: str) -> bool:
    """Show a notification if possible; True if a notifier ran and succeeded."""
    command = notifier_command(_plain(title), _plain(body))
    if command is None:
        return False
    try:
        result = subprocess.run(command, capture_output=True, timeout=NOTIFY_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0


def _plain(text: str) -> str:
    """Control characters (terminal escapes) replaced; notifiers get printable text only."""
    return "".join(ch if ch.isprintable() else " " for ch in text)[:400]
