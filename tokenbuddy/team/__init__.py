"""Optional team sync: the PostgreSQL side of pushing daily aggregates to the team's own
server, and reading the team view back.

Nothing here runs unless the user joins a team; psycopg (the ``team`` extra) is
imported only when a connection is needed. This package knows nothing of the local
ledger or the keyring: :mod:`tokenbuddy.services.team_sync` reads the aggregates and the
DSN and hands them over. Every call that connects blocks, so the dashboard makes it
from a thread worker; :func:`load_team_overview` reads the team view as plain dataclasses.
"""

from tokenbuddy.team.overview import (
    MemberSpend,
    ModelSpend,
    TeamOverview,
    load_team_overview,
    team_overview,
)

__all__ = [
    "MemberSpend",
    "ModelSpend",
    "TeamOverview",
    "load_team_overview",
    "team_overview",
]
