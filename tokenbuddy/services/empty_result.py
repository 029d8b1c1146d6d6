"""Why a query found nothing: what was looked at, and what the ledger does hold.

Reports, ``status``, ``tips`` and the dashboard's empty states all call
:func:`explain_empty` when their query matched no request. It answers in the order a
newcomer needs: no logs were found where the agents were looked for (with a guess when
a named directory is one level too high or too low), else the source or project asked
for has no requests, else the period asked for misses the requests there are.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tokenbuddy.core.agents import agent_name
from tokenbuddy.sources.registry import LOG_SOURCES
from tokenbuddy.store import queries

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import tzinfo

    from tokenbuddy.sources.discovery import LogRoot
    from tokenbuddy.store.ledger import Ledger

_HOME_DIRS = {entry.name: entry.home_dirs for entry in LOG_SOURCES}
"""Each source's directories inside an agent's home (``projects`` for Claude Code)."""

_LISTED_CHILDREN = 500
"""How many entries of a directory are looked through for a misplaced agent home."""


def explain_empty(
    ledger: Ledger,
    roots: Sequence[LogRoot],
    *,
    zone: tzinfo,
    since_ms: int | None = None,
    until_ms: int | None = None,
    source: str | None = None,
    project: str | None = None,
    missing_said: bool = False,
) -> list[str]:
    """One line per reason the query (``since_ms`` inclusive, ``until_ms`` exclusive,
    ``source`` and ``project`` as in a report) matched no request; empty when it matches
    some. Call it when a result came out empty, to say so instead of a bare ``$0.00``:
    it counts the requests of the period to be sure, which costs a scan of that period.
    With ``missing_said``, named directories that are not there at all are left out: the
    caller already printed :func:`tokenbuddy.services.session.missing_roots`."""
    held = queries.filtered_span(ledger, queries.RequestFilter(source=source))
    if not held.requests:
        return _nothing_read(ledger, roots, source, missing_said=missing_said)
    chosen = queries.RequestFilter(source=source, project=project)
    if project:
        held = queries.filtered_span(ledger, chosen)
        if not held.requests:
            return [f"no project path contains {project!r}{_of_source(source)}"]
    if queries.requests_between(ledger, since_ms, until_ms, chosen):
        return []
    return _outside_period(held, since_ms, until_ms, zone)


def _of_source(source: str | None) -> str:
    return f" among the {agent_name(source)} requests" if source else ""


def _nothing_read(
    ledger: Ledger, roots: Sequence[LogRoot], source: str | None, *, missing_said: bool
) -> list[str]:
    """What was looked at, when the ledger holds nothing of ``source`` (or at all)."""
    looked_at = [root for root in roots if source is None or root.source == source]
    if not looked_at:
        return [f"no {agent_name(source or '')} logs are looked for on this machine"]
    lines: list[str] = []
    absent_defaults: list[str] = []
    for root in looked_at:
        if root.origin == "default" and not root.path.exists():
            absent_defaults.append(_shown(root.path))
        elif not (missing_said and _warned_missing(root)):
            lines.append(_root_line(ledger, root))
    if len(absent_defaults) > LISTED_DEFAULTS:
        lines.append(
            f"no agent logs in any of the {len(absent_defaults)} places the agents keep them"
            " by default (`tokenbuddy doctor` lists them)"
        )
    elif absent_defaults:
        lines.append("no agent logs where the agents keep them: " + ", ".join(absent_defaults))
    what = agent_name(source) + " " if source else ""
    return list(dict.fromkeys([f"no {what}requests in the ledger", *lines]))


LISTED_DEFAULTS = 3
"""Absent default directories named one by one; more are counted (nine agents have ~20)."""


def _warned_missing(root: LogRoot) -> bool:
    """A directory the user named that is not there at all: opening the ledger already
    warned about it (:func:`tokenbuddy.services.session.missing_roots`)."""
    return root.origin != "default" and not root.path.is_dir() and not root.path.parent.is_dir()


def _root_line(ledger: Ledger, root: LogRoot) -> str:
    """What one root held: not there, no logs, or logs without a single request."""
    name = agent_name(root.source)
    where = f"{_shown(root.path)} (from {root.origin})"
    if not root.path.exists():
        found = f"{where} does not exist"
    elif queries.files_under(ledger, root.source, str(root.path)):
        return f"the {name} logs under {where} hold no requests"
    else:
        found = f"no {name} logs under {where}"
    guess = did_you_mean(root)
    return f"{found} (did you mean {_shown(guess)}?)" if guess else found


def did_you_mean(root: LogRoot) -> Path | None:
    """The agent home a named directory probably meant: one of its children (the home
    directory named instead of ``~/.claude``) or an ancestor (a project dir inside
    ``projects/`` named instead of the config dir). None when nothing fits."""
    inner = _HOME_DIRS.get(root.source, ())
    if root.path.name not in inner:
        return None
    named = root.path.parent
    for ancestor in named.parents:
        if ancestor.name == root.path.name:
            return ancestor.parent
    return _child_home(named, root.path.name)


def _child_home(named: Path, inner: str) -> Path | None:
    """A directory inside ``named`` that holds ``inner`` (``~/.claude`` for ``~``)."""
    try:
        with os.scandir(named) as entries:
            for index, entry in enumerate(entries):
                if index >= _LISTED_CHILDREN:
                    break
                if entry.is_dir() and os.path.isdir(os.path.join(entry.path, inner)):
                    return Path(entry.path)
    except OSError:
        return None
    return None


def _outside_period(
    held: queries.RequestSpan, since_ms: int | None, until_ms: int | None, zone: tzinfo
) -> list[str]:
    """Where the period asked for falls beside the requests there are."""
    first, last = held.first_ms, held.last_ms
    if first is None or last is None:
        return []
    if since_ms is not None and since_ms > last:
        return [
            f"nothing since {_moment(since_ms, zone)}; the newest request is from "
            f"{_moment(last, zone, day=True)}"
        ]
    if until_ms is not None and until_ms <= first:
        return [
            f"nothing until {_until(until_ms, zone)}; the oldest request is from "
            f"{_moment(first, zone, day=True)}"
        ]
    if since_ms is None and until_ms is None:
        return []
    start = _moment(since_ms, zone) if since_ms is not None else "the start"
    end = _until(until_ms, zone) if until_ms is not None else "now"
    return [
        f"nothing from {start} to {end}; the requests run from "
        f"{_moment(first, zone, day=True)} to {_moment(last, zone, day=True)}"
    ]


def _moment(ms: int, zone: tzinfo, *, day: bool = False) -> str:
    """A date, with the time of day when it is not midnight and ``day`` is not asked."""
    moment = datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone)
    if day or (moment.hour, moment.minute) == (0, 0):
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M")


def _until(until_ms: int, zone: tzinfo) -> str:
    """An exclusive end as said: the last day it covers when it falls on a midnight."""
    end = datetime.fromtimestamp(until_ms / 1000, UTC).astimezone(zone)
    if (end.hour, end.minute) == (0, 0):
        return _moment(until_ms - 1, zone, day=True)
    return end.strftime("%Y-%m-%d %H:%M")


def _shown(path: Path) -> str:
    """A path with the home directory as ``~``."""
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home) :] if text == home or text.startswith(home + "/") else text
