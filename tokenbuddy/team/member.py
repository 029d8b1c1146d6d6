"""What a member's machine does on the team server when it joins: check the schema and
claim the member's display name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tokenbuddy.errors import TeamError
from tokenbuddy.team import _driver
from tokenbuddy.team.push import check_server_version

if TYPE_CHECKING:
    import psycopg


def join_as(dsn: str, alias: str | None, *, allow_insecure: bool) -> tuple[str, str]:
    """Check that the DSN's role is a member of an up-to-date team and set its alias (None
    keeps the current one); returns the database's name and the alias the team sees."""
    with _driver.connect(dsn, allow_insecure=allow_insecure) as connection:
        check_server_version(connection)
        shown = _claim_alias(connection, alias)
        database = str(connection.info.dbname)
    return database, shown


def _claim_alias(connection: psycopg.Connection[Any], alias: str | None) -> str:
    """Set this member's alias (None: keep it); returns what the team sees."""
    driver = _driver.require_psycopg()
    try:
        row = connection.execute(
            "SELECT role_name FROM tokenbuddy.members WHERE role_name = current_user"
        ).fetchone()
        if row is None:
            raise TeamError(
                "this role is not a member of the team; ask the admin for a DSN from"
                " `tokenbuddy team add-member`"
            )
        if alias is not None:
            connection.execute(
                "UPDATE tokenbuddy.members SET alias = %s WHERE role_name = current_user",
                (alias[:64],),
            )
        shown = connection.execute(
            "SELECT alias FROM tokenbuddy.team_members WHERE is_me"
        ).fetchone()
    except driver.Error as error:
        raise _driver.translate(error, "join the team") from None
    return str(shown[0]) if shown else "anonymous"
