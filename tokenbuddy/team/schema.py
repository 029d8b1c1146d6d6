"""The team schema in PostgreSQL: versioned migrations, row-level security, member roles.

Everything lives in the ``tokenbuddy`` schema of a database the team dedicates to it.

Who may do what
---------------
- The admin (the role that ran ``team init``; superuser or owner with CREATEROLE)
  owns every table and view and creates members with ``team add-member``.
- Every member is a LOGIN role in the group role ``tokenbuddy_member`` and has a
  row in ``members``. Row-level security lets a member insert, update and delete
  only rows whose ``member`` is its own role (``daily_usage``, ``machines``), and
  change only the ``alias`` and ``soft_limit_usd`` of its own ``members`` row.
- Members read the team through views, which show sums by alias (never role names,
  machines, prompts or paths) and return nothing to a role without a ``members``
  row in this database.

Each migration runs in the transaction that records it in ``schema_migrations``,
under an exclusive lock, so two admins running ``init`` at once cannot interleave.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from tokenbuddy.team._driver import require_psycopg

SCHEMA = "tokenbuddy"
MEMBER_GROUP = "tokenbuddy_member"
"""The NOLOGIN group role every member role belongs to (cluster-wide, shared by databases)."""

BOOTSTRAP = """\
CREATE SCHEMA IF NOT EXISTS tokenbuddy;
CREATE TABLE IF NOT EXISTS tokenbuddy.schema_migrations (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
LOCK TABLE tokenbuddy.schema_migrations IN EXCLUSIVE MODE;
"""

_READER = (
    "(EXISTS (SELECT 1 FROM tokenbuddy.members WHERE role_name = current_user)"
    " OR pg_has_role(current_user, (SELECT nspowner FROM pg_namespace"
    " WHERE nspname = 'tokenbuddy'), 'MEMBER'))"
)
"""True for a member of this team, or the schema's owner (the admin)."""

_MEMBER_ALIAS = (
    "COALESCE(NULLIF(m.alias, ''), 'member-' || left(md5(m.role_name), 6)) AS alias,"
    " left(md5(m.role_name), 12) AS member_ref, m.role_name = current_user AS is_me"
)

_MIGRATION_1 = f"""\
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tokenbuddy_member') THEN
        CREATE ROLE tokenbuddy_member NOLOGIN;
    END IF;
END $$;
REVOKE ALL ON SCHEMA tokenbuddy FROM PUBLIC;
GRANT USAGE ON SCHEMA tokenbuddy TO tokenbuddy_member;
GRANT SELECT ON tokenbuddy.schema_migrations TO tokenbuddy_member;

CREATE TABLE tokenbuddy.members (
    role_name text PRIMARY KEY,
    alias text NOT NULL DEFAULT '' CHECK (length(alias) <= 64),
    soft_limit_usd numeric(12, 2) CHECK (soft_limit_usd > 0),
    team_lead boolean NOT NULL DEFAULT false,
    joined_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE tokenbuddy.machines (
    member text NOT NULL DEFAULT current_user
        REFERENCES tokenbuddy.members ON DELETE CASCADE,
    machine_id uuid NOT NULL,
    last_sync_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member, machine_id)
);
CREATE TABLE tokenbuddy.daily_usage (
    member text NOT NULL DEFAULT current_user,
    machine_id uuid NOT NULL,
    day date NOT NULL,
    source text NOT NULL,
    model text NOT NULL,
    input_tokens bigint NOT NULL CHECK (input_tokens >= 0),
    output_tokens bigint NOT NULL CHECK (output_tokens >= 0),
    cache_write_tokens bigint NOT NULL CHECK (cache_write_tokens >= 0),
    cache_read_tokens bigint NOT NULL CHECK (cache_read_tokens >= 0),
    cost_usd numeric(14, 6) NOT NULL CHECK (cost_usd >= 0),
    requests integer NOT NULL CHECK (requests >= 0),
    synced_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member, machine_id, day, source, model),
    FOREIGN KEY (member, machine_id) REFERENCES tokenbuddy.machines ON DELETE CASCADE
);
CREATE INDEX daily_usage_day ON tokenbuddy.daily_usage (day);

ALTER TABLE tokenbuddy.members ENABLE ROW LEVEL SECURITY;
ALTER TABLE tokenbuddy.machines ENABLE ROW LEVEL SECURITY;
ALTER TABLE tokenbuddy.daily_usage ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_row ON tokenbuddy.members TO tokenbuddy_member
    USING (role_name = current_user) WITH CHECK (role_name = current_user);
CREATE POLICY own_machines ON tokenbuddy.machines TO tokenbuddy_member
    USING (member = current_user) WITH CHECK (member = current_user);
CREATE POLICY own_usage ON tokenbuddy.daily_usage TO tokenbuddy_member
    USING (member = current_user) WITH CHECK (member = current_user);
GRANT SELECT, UPDATE (alias, soft_limit_usd) ON tokenbuddy.members TO tokenbuddy_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON tokenbuddy.machines, tokenbuddy.daily_usage
    TO tokenbuddy_member;

CREATE VIEW tokenbuddy.team_members AS
    SELECT {_MEMBER_ALIAS}, m.team_lead, m.soft_limit_usd
    FROM tokenbuddy.members m WHERE {_READER};
CREATE VIEW tokenbuddy.team_member_days AS
    SELECT left(md5(u.member), 12) AS member_ref, u.day,
           sum(u.input_tokens)::bigint AS input_tokens,
           sum(u.output_tokens)::bigint AS output_tokens,
           sum(u.cache_write_tokens)::bigint AS cache_write_tokens,
           sum(u.cache_read_tokens)::bigint AS cache_read_tokens,
           sum(u.cost_usd) AS cost_usd, sum(u.requests)::bigint AS requests
    FROM tokenbuddy.daily_usage u WHERE {_READER}
    GROUP BY u.member, u.day;
CREATE VIEW tokenbuddy.team_model_days AS
    SELECT u.day, u.source, u.model,
           sum(u.input_tokens)::bigint AS input_tokens,
           sum(u.output_tokens)::bigint AS output_tokens,
           sum(u.cache_write_tokens)::bigint AS cache_write_tokens,
           sum(u.cache_read_tokens)::bigint AS cache_read_tokens,
           sum(u.cost_usd) AS cost_usd, sum(u.requests)::bigint AS requests
    FROM tokenbuddy.daily_usage u WHERE {_READER}
    GROUP BY u.day, u.source, u.model;
GRANT SELECT ON tokenbuddy.team_members, tokenbuddy.team_member_days,
    tokenbuddy.team_model_days TO tokenbuddy_member;
"""

_MIGRATION_2 = f"""\
ALTER TABLE tokenbuddy.daily_usage ADD COLUMN project text NOT NULL DEFAULT '';
ALTER TABLE tokenbuddy.daily_usage DROP CONSTRAINT daily_usage_pkey;
ALTER TABLE tokenbuddy.daily_usage
    ADD PRIMARY KEY (member, machine_id, day, source, model, project);
CREATE TABLE tokenbuddy.team_budget (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    pooled_monthly_usd numeric(12, 2) CHECK (pooled_monthly_usd > 0)
);
INSERT INTO tokenbuddy.team_budget DEFAULT VALUES;
CREATE VIEW tokenbuddy.team_budget_view AS
    SELECT pooled_monthly_usd FROM tokenbuddy.team_budget WHERE {_READER};
CREATE VIEW tokenbuddy.team_project_days AS
    SELECT u.day, u.project, sum(u.cost_usd) AS cost_usd, sum(u.requests)::bigint AS requests
    FROM tokenbuddy.daily_usage u WHERE u.project <> '' AND {_READER}
    GROUP BY u.day, u.project;
GRANT SELECT ON tokenbuddy.team_budget_view, tokenbuddy.team_project_days
    TO tokenbuddy_member;
"""

MIGRATIONS: dict[int, str] = {
    1: _MIGRATION_1,
    # 2: opt-in project names (part of the key) and the pooled monthly budget.
    2: _MIGRATION_2,
}
LATEST = max(MIGRATIONS)
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def migration_script(current: int = 0, target: int = LATEST) -> str:
    """The SQL that takes the schema from ``current`` to ``target``, for ``--print-sql``."""
    parts = ["BEGIN;", BOOTSTRAP]
    for version in range(current + 1, target + 1):
        parts.append(f"-- migration {version}")
        parts.append(MIGRATIONS[version])
        parts.append(f"INSERT INTO tokenbuddy.schema_migrations (version) VALUES ({version});")
    parts.append("COMMIT;")
    return "\n".join(parts) + "\n"


def check_role_name(name: str) -> str:
    """A member role name, or ValueError: lower-case letters, digits and ``_``."""
    if not _ROLE_NAME.match(name) or name.startswith("pg_") or name == MEMBER_GROUP:
        raise ValueError(
            f"member name {name!r}: use 1-63 lower-case letters, digits and _"
            " (not starting with a digit or pg_)"
        )
    return name


def generate_password() -> str:
    """A random password for a new member role (URL-safe, 192 bits)."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True, slots=True)
class NewMember:
    """What ``team add-member`` creates."""

    name: str
    alias: str = ""
    soft_limit_usd: float | None = None
    team_lead: bool = False


def add_member_script(member: NewMember, verifier: str, database: str, context: Any = None) -> str:
    """The SQL creating a member role and its ``members`` row.

    Identifiers and literals are quoted by psycopg (:mod:`psycopg.sql`): on ``context``'s
    connection, by libpq for that server's settings (``standard_conforming_strings`` on
    or off); without one (``--print-sql``), in a form both settings read alike.
    """
    sql = _sql()
    name = check_role_name(member.name)
    limit = "NULL" if member.soft_limit_usd is None else repr(float(member.soft_limit_usd))
    script = sql.SQL(
        "CREATE ROLE {role} LOGIN PASSWORD {verifier} IN ROLE {group};\n"
        "GRANT CONNECT ON DATABASE {database} TO {role};\n"
        "INSERT INTO tokenbuddy.members (role_name, alias, soft_limit_usd, team_lead)"
        " VALUES ({name}, {alias}, {limit}, {lead});\n"
    ).format(
        role=sql.Identifier(name),
        verifier=sql.Literal(verifier),
        group=sql.Identifier(MEMBER_GROUP),
        database=sql.Identifier(database),
        name=sql.Literal(name),
        alias=sql.Literal(member.alias),
        limit=sql.SQL(limit),
        lead=sql.SQL("true" if member.team_lead else "false"),
    )
    return str(script.as_string(context))


def remove_member_script(name: str, database: str, *, keep_usage: bool, context: Any = None) -> str:
    """The SQL removing a member: its role can no longer connect, and (unless its usage is
    kept in the team's totals) its role, ``members`` row, machines and days are gone."""
    sql = _sql()
    name = check_role_name(name)
    template = "REVOKE CONNECT ON DATABASE {database} FROM {role};\n"
    if keep_usage:
        template = "ALTER ROLE {role} NOLOGIN;\n" + template
    else:
        template = (
            "DELETE FROM tokenbuddy.members WHERE role_name = {name};\n"
            + template
            + "DROP ROLE IF EXISTS {role};\n"
        )
    script = sql.SQL(template).format(
        role=sql.Identifier(name), name=sql.Literal(name), database=sql.Identifier(database)
    )
    return str(script.as_string(context))


def reset_password_script(name: str, verifier: str, database: str, context: Any = None) -> str:
    """The SQL giving a member a new password and its access back (after ``remove-member
    --keep-usage`` too)."""
    sql = _sql()
    script = sql.SQL(
        "ALTER ROLE {role} LOGIN PASSWORD {verifier};\n"
        "GRANT CONNECT ON DATABASE {database} TO {role};\n"
    ).format(
        role=sql.Identifier(check_role_name(name)),
        verifier=sql.Literal(verifier),
        database=sql.Identifier(database),
    )
    return str(script.as_string(context))


def scram_verifier(connection: Any, role: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password``, computed by libpq.

    Sending the verifier instead of the password keeps the password out of the
    server's statement log and ``pg_stat_activity``.
    """
    verifier = connection.pgconn.encrypt_password(
        password.encode(), role.encode(), b"scram-sha-256"
    )
    return bytes(verifier).decode()


def _sql() -> Any:
    """:mod:`psycopg.sql`, or the error saying how to install the team extra."""
    require_psycopg()
    import psycopg.sql

    return psycopg.sql
