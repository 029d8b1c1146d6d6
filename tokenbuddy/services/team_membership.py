"""This machine's membership of a team: joining, leaving, and the team view as a member
sees it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenbuddy import clock
from tokenbuddy.errors import TeamError
from tokenbuddy.services.team_sync import (
    NOT_JOINED,
    delete_dsn,
    dsn_if_joined,
    state_path,
    store_dsn,
)
from tokenbuddy.store.paths import app_paths
from tokenbuddy.team.state import SyncState

if TYPE_CHECKING:
    from datetime import date
    from pathlib import Path

    from tokenbuddy.store.settings import Settings
    from tokenbuddy.team.overview import TeamOverview


def _state_file() -> Path:
    """This machine's team sync state file, its directory created."""
    paths = app_paths()
    paths.ensure()
    return state_path(paths)


def join_team(dsn: str, alias: str | None, *, allow_insecure: bool) -> tuple[str, str]:
    """``team join``: check the membership on the server and claim the alias (None keeps
    it), then keep the DSN and turn sync on; returns the database and the alias shown."""
    from tokenbuddy.team.member import join_as

    database, shown = join_as(dsn, alias, allow_insecure=allow_insecure)
    store_dsn(dsn)
    with SyncState(_state_file()) as state:
        state.put(joined="1")
    return database, shown


def leave_team() -> bool:
    """``team leave``: forget the DSN and what was pushed, and stop syncing; returns whether
    a DSN was stored."""
    forgot = delete_dsn()
    with SyncState(_state_file()) as state:
        state.put(joined=None)
        state.forget_pushed()
    return forgot


def team_view(
    settings: Settings,
    *,
    dsn: str | None = None,
    since: date | None = None,
    until: date | None = None,
    allow_insecure: bool = False,
) -> TeamOverview:
    """``team show``: the team's spend as this member (or the given DSN's role) sees it;
    raises a ``TeamError`` when this machine has not joined a team and no DSN is given."""
    from tokenbuddy.store.timezone import resolve_zone
    from tokenbuddy.team.overview import load_team_overview

    zone = resolve_zone(settings.timezone)
    dsn = dsn or dsn_if_joined(state_path(app_paths()))
    if dsn is None:
        raise TeamError(NOT_JOINED)
    return load_team_overview(
        dsn,
        now_ms=clock.now_ms(),
        zone=zone,
        allow_insecure=allow_insecure or settings.team.allow_insecure,
        since=since,
        until=until,
    )
