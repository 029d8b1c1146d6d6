"""The fast paths' problem logs: what went wrong, for a person to read later.

The status line, the guard hook and the status line's background refresh never print
errors (Claude Code would show them in the prompt, or take them for a decision); they
append them to a log in the state dir instead. Imports only ``os`` and ``time``: the
fast paths use it.
"""

from __future__ import annotations

import os
import time


def log_problem(state_dir: str, error: BaseException, name: str = "statusline.log") -> None:
    """Append what went wrong to the log ``name`` (kept under 256 KB); never raise."""
    try:
        os.makedirs(state_dir, exist_ok=True)
        path = os.path.join(state_dir, name)
        if os.path.exists(path) and os.path.getsize(path) > 256 << 10:
            os.replace(path, path + ".1")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{stamp} {type(error).__name__}: {error}\n")
    except OSError:
        pass
