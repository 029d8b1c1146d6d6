"""Optional team sync: daily aggregates pushed to the team's own PostgreSQL server.

Nothing here runs unless the user joins a team; psycopg (the ``team`` extra) is
imported only when a connection is needed. The dashboard uses three calls, each
blocking, so each belongs in a thread worker:

- :func:`sync_once` pushes this machine's changed days (respecting backoff);
- :func:`load_team_overview` reads the team view as plain dataclasses;
- :func:`load_dsn` says whether this machine joined (``None`` when not).
"""

from tokenbuddy.team.credentials import load_dsn
from tokenbuddy.team.overview import (
    MemberSpend,
    ModelSpend,
    TeamOverview,
    load_team_overview,
    team_overview,
)
from tokenbuddy.team.sync import SyncOptions, SyncReport, state_path, sync_once

__all__ = [
    "MemberSpend",
    "ModelSpend",
    "SyncOptions",
    "SyncReport",
    "TeamOverview",
    "load_dsn",
    "load_team_overview",
    "state_path",
    "sync_once",
    "team_overview",
]
