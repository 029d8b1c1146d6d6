"""Which recent sessions are runs of one script, shown as one row (a loop).

A script started by cron, CI or a shell loop (``claude -p``, an Agent SDK program,
``codex exec``) opens a fresh short session each time. Listed one by one, a night of
it is hundreds of rows that push a person's own sessions out of sight. Here they
become one :class:`~tokenbuddy.core.dashboard.ScriptLoop`:

- only scripted sessions (:func:`~tokenbuddy.core.entrypoints.is_scripted`) are
  grouped; a person's sessions, however short and many, never are;
- a run is short when its first and last request are under :data:`SHORT_RUN_MS` apart;
  a longer scripted session stays on its own row;
- the short runs of one agent, project and entrypoint form a loop once there are
  :data:`MIN_RUNS` of them; fewer stay on their own rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenbuddy.core.dashboard import ScriptLoop
from tokenbuddy.core.units import MINUTE_MS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tokenbuddy.core.dashboard import SessionSummary

SHORT_RUN_MS = 10 * MINUTE_MS
"""A scripted session whose requests span less than this is one run of a loop."""
MIN_RUNS = 3
"""Fewest short runs of one script that make a loop."""


def group_script_loops(
    sessions: Sequence[SessionSummary],
) -> tuple[list[SessionSummary], list[ScriptLoop]]:
    """Split ``sessions`` (latest first) into those listed on their own and the loops
    (latest first) the others form; each keeps its order."""
    candidates: dict[tuple[str, str, str], list[SessionSummary]] = {}
    for session in sessions:
        if session.scripted and session.last_ms - session.first_ms < SHORT_RUN_MS:
            key = (session.source, session.project_path, session.entrypoint)
            candidates.setdefault(key, []).append(session)
    loops = [
        ScriptLoop(source, entrypoint, runs[0].project, path, tuple(runs))
        for (source, path, entrypoint), runs in candidates.items()
        if len(runs) >= MIN_RUNS
    ]
    grouped = {(run.session_id, run.source) for loop in loops for run in loop.runs}
    alone = [s for s in sessions if (s.session_id, s.source) not in grouped]
    loops.sort(key=lambda loop: -loop.last_ms)
    return alone, loops
