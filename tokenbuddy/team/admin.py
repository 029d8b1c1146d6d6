"""What the team's admin runs: ``team init`` (migrations, budget), ``team add-member``,
``team remove-member`` and ``team reset-password``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tokenbuddy.errors import TeamError, TeamSchemaError
from tokenbuddy.team import _driver
from tokenbuddy.team.schema import (
    BOOTSTRAP,
    LATEST,
    MIGRATIONS,
    NewMember,
    add_member_script,
    generate_password,
    remove_member_script,
    reset_password_script,
    scram_verifier,
)

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True, slots=True)
class InitResult:
    """What ``team init`` did."""

    before: int
    """Schema version found (0: none)."""
    after: int


def schema_version(connection: psycopg.Connection[Any]) -> int:
    """The team schema version in this database (0 when ``team init`` never ran)."""
    row = connection.execute(
        "SELECT to_regclass('tokenbuddy.schema_migrations') IS NOT NULL"
    ).fetchone()
    if not row or not row[0]:
        return 0
    version = connection.execute(
        "SELECT COALESCE(max(version), 0) FROM tokenbuddy.schema_migrations"
    ).fetchone()
    return int(version[0]) if version else 0


def migrate(connection: psycopg.Connection[Any], target: int = LATEST) -> InitResult:
    """Apply every pending migration up to ``target``, all in one transaction."""
    psycopg = _driver.require_psycopg()
    try:
        with connection.transaction():
            connection.execute(BOOTSTRAP)
            before = schema_version(connection)
            if before > LATEST:
                raise TeamSchemaError(
                    f"the team schema is version {before}, newer than this tokenbuddy"
                    f" understands ({LATEST}); upgrade tokenbuddy"
                )
            for version in range(before + 1, target + 1):
                connection.execute(MIGRATIONS[version])
                connection.execute(
                    "INSERT INTO tokenbuddy.schema_migrations (version) VALUES (%s)", (version,)
                )
    except psycopg.Error as error:
        raise _driver.translate(error, "create the team schema") from None
    return InitResult(before, max(before, target))


def init_team(
    admin_dsn: str, pooled_budget_usd: float | None, *, allow_insecure: bool
) -> InitResult:
    """``team init``: migrate the schema to the latest version, then set the pooled monthly
    budget when one is given."""
    with _driver.connect(admin_dsn, allow_insecure=allow_insecure) as connection:
        result = migrate(connection)
        if pooled_budget_usd is not None:
            set_pooled_budget(connection, pooled_budget_usd)
    return result


def set_pooled_budget(connection: psycopg.Connection[Any], monthly_usd: float | None) -> None:
    """Set (or clear, with None) the team's pooled monthly budget."""
    psycopg = _driver.require_psycopg()
    try:
        with connection.transaction():
            connection.execute(
                "UPDATE tokenbuddy.team_budget SET pooled_monthly_usd = %s", (monthly_usd,)
            )
    except psycopg.Error as error:
        raise _driver.translate(error, "set the pooled budget") from None


def add_member(admin_dsn: str, member: NewMember, *, allow_insecure: bool) -> str:
    """Create the member's role and row; returns the member's DSN (with its password)."""
    psycopg = _driver.require_psycopg()
    password = generate_password()
    with _driver.connect(admin_dsn, allow_insecure=allow_insecure) as connection:
        database = str(connection.info.dbname)
        if schema_version(connection) < LATEST:
            raise TeamSchemaError("run `tokenbuddy team init` on this database first")
        if connection.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (member.name,)
        ).fetchone():
            raise TeamError(f"a role named {member.name!r} already exists; choose another name")
        try:
            with connection.transaction():
                verifier = scram_verifier(connection, member.name, password)
                script = add_member_script(member, verifier, database, connection)
                connection.execute(script.encode())
        except psycopg.Error as error:
            raise _driver.translate(error, f"create the member {member.name}") from None
    params = _driver.parse_dsn(admin_dsn)
    params.update(user=member.name, password=password, dbname=database)
    return _driver.to_uri(params)


def member_script(member: NewMember, database: str) -> str:
    """The SQL ``add-member`` would run, with a placeholder verifier (for ``--print-sql``)."""
    return add_member_script(member, "<SCRAM-SHA-256 verifier of a generated password>", database)


def remove_member(
    admin_dsn: str, name: str, *, keep_usage: bool, allow_insecure: bool
) -> tuple[int, int]:
    """Remove a member (see :func:`remove_member_script`); returns (machines, days) it had."""
    psycopg = _driver.require_psycopg()
    with _driver.connect(admin_dsn, allow_insecure=allow_insecure) as connection:
        database = str(connection.info.dbname)
        _require_member(connection, name)
        counts = connection.execute(
            "SELECT (SELECT count(*) FROM tokenbuddy.machines WHERE member = %s),"
            " (SELECT count(*) FROM tokenbuddy.daily_usage WHERE member = %s)",
            (name, name),
        ).fetchone()
        try:
            with connection.transaction():
                script = remove_member_script(
                    name, database, keep_usage=keep_usage, context=connection
                )
                connection.execute(script.encode())
        except psycopg.Error as error:
            raise _driver.translate(error, f"remove the member {name}") from None
    return (int(counts[0]), int(counts[1])) if counts else (0, 0)


def reset_password(admin_dsn: str, name: str, *, allow_insecure: bool) -> str:
    """Give a member a new generated password; returns the member's new DSN."""
    psycopg = _driver.require_psycopg()
    password = generate_password()
    with _driver.connect(admin_dsn, allow_insecure=allow_insecure) as connection:
        database = str(connection.info.dbname)
        _require_member(connection, name)
        try:
            with connection.transaction():
                verifier = scram_verifier(connection, name, password)
                script = reset_password_script(name, verifier, database, connection)
                connection.execute(script.encode())
        except psycopg.Error as error:
            raise _driver.translate(error, f"reset the password of {name}") from None
    params = _driver.parse_dsn(admin_dsn)
    params.update(user=name, password=password, dbname=database)
    return _driver.to_uri(params)


def _require_member(connection: psycopg.Connection[Any], name: str) -> None:
    if schema_version(connection) < LATEST:
        raise TeamSchemaError("run `tokenbuddy team init` on this database first")
    if not connection.execute(
        "SELECT 1 FROM tokenbuddy.members WHERE role_name = %s", (name,)
    ).fetchone():
        raise TeamError(f"{name!r} is not a member of this team")
