"""The PostgreSQL boundary: importing psycopg, the TLS rule, connecting, translating errors.

psycopg is an optional extra; nothing imports it until a team command or a sync
needs a connection, and then a missing driver is a :class:`TeamDriverMissingError`
saying how to install it. Every psycopg exception leaves this package as a
:class:`~tokenbuddy.errors.TeamError` whose message never contains a password.
"""

from __future__ import annotations

import ipaddress
import os
from typing import TYPE_CHECKING, Any

from tokenbuddy.errors import (
    TeamConnectionError,
    TeamDriverMissingError,
    TeamError,
    TeamInsecureError,
    TeamPermissionError,
    TeamSchemaError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    import psycopg

INSTALL_HINT = (
    "team sync needs the PostgreSQL driver psycopg 3: install the extra with"
    " `pip install 'tokenbuddy[team]'` (or `pipx inject tokenbuddy 'psycopg[binary]'`)"
)
SECURE_SSLMODES = frozenset({"require", "verify-ca", "verify-full"})
"""libpq ``sslmode`` values that refuse to talk without TLS."""
CONNECT_TIMEOUT_S = 10
_AUTH_HINTS = (
    "password authentication failed",
    "does not exist",
    "no pg_hba.conf entry",
    "is not permitted to log in",  # a member the admin removed with --keep-usage
    "permission denied for database",  # CONNECT revoked
)


def require_psycopg() -> Any:
    """The psycopg module, or a one-line error explaining how to install the extra."""
    try:
        import psycopg
    except ImportError:
        raise TeamDriverMissingError(INSTALL_HINT) from None
    return psycopg


def parse_dsn(dsn: str) -> dict[str, str]:
    """The DSN's parameters (a ``postgresql://`` URI or ``key=value`` pairs)."""
    psycopg = require_psycopg()
    try:
        return dict(psycopg.conninfo.conninfo_to_dict(dsn))
    except psycopg.ProgrammingError:
        raise TeamError("the team DSN cannot be parsed (expected postgresql://...)") from None


def to_uri(params: Mapping[str, str]) -> str:
    """Connection parameters as one ``postgresql://`` URI, easy to paste in a shell."""
    from urllib.parse import quote, urlencode

    rest = dict(params)
    user, password = rest.pop("user", ""), rest.pop("password", "")
    dbname = rest.pop("dbname", "")
    host = rest.get("host", "")
    authority = ""
    if host and not any(mark in host for mark in ",/@"):
        port = rest.pop("port", "")
        rest.pop("host")
        authority = f"[{host}]" if ":" in host else host
        authority += f":{port}" if port else ""
    credentials = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    credentials += "@" if credentials else ""
    query = f"?{urlencode(rest)}" if rest else ""
    return f"postgresql://{credentials}{authority}/{quote(dbname, safe='')}{query}"


def is_loopback(host: str) -> bool:
    """True for a unix socket directory, ``localhost`` or a loopback address."""
    host = host.strip()
    if not host or host.startswith(("/", "@")) or host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_transport(
    params: Mapping[str, str], *, allow_insecure: bool, environ: Mapping[str, str] | None = None
) -> None:
    """Refuse a non-loopback server without ``sslmode=require`` or stronger.

    libpq falls back on ``PGHOST``/``PGHOSTADDR``/``PGSSLMODE`` for what the DSN
    leaves out, so those are read too.
    """
    env = os.environ if environ is None else environ
    targets = params.get("hostaddr") or params.get("host") or env.get("PGHOSTADDR") or ""
    targets = targets or env.get("PGHOST", "")
    remote = [host for host in targets.split(",") if not is_loopback(host)]
    sslmode = params.get("sslmode") or env.get("PGSSLMODE") or "prefer"
    if remote and sslmode not in SECURE_SSLMODES and not allow_insecure:
        raise TeamInsecureError(
            f"refusing to send team data to {remote[0]} without TLS (sslmode={sslmode});"
            " add sslmode=require (or verify-full) to the DSN, or pass --allow-insecure"
            " (setting team.allow_insecure) if the network is trusted"
        )


def connect(
    dsn: str, *, allow_insecure: bool, timeout_s: float = CONNECT_TIMEOUT_S
) -> psycopg.Connection[tuple[Any, ...]]:
    """An open autocommit connection, after the TLS rule has been checked.

    Autocommit makes every ``connection.transaction()`` block a real transaction
    (BEGIN ... COMMIT) rather than a savepoint inside an implicit one.
    """
    driver = require_psycopg()
    check_transport(parse_dsn(dsn), allow_insecure=allow_insecure)
    try:
        connection: psycopg.Connection[tuple[Any, ...]] = driver.connect(
            dsn,
            connect_timeout=max(1, round(timeout_s)),
            autocommit=True,
            application_name="tokenbuddy",
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=10,
            keepalives_count=3,
        )
    except driver.Error as error:
        raise translate(error, "connect to the team server") from None
    return connection


def translate(error: Exception, doing: str) -> TeamError:
    """A psycopg error as a one-line :class:`TeamError` (never with the password)."""
    psycopg = require_psycopg()
    detail = _first_line(error)
    if isinstance(error, psycopg.errors.InsufficientPrivilege):
        return TeamPermissionError(f"the team server refused to {doing}: {detail}")
    if isinstance(error, psycopg.errors.UndefinedTable | psycopg.errors.InvalidSchemaName):
        return TeamSchemaError(
            f"cannot {doing}: the team schema is missing ({detail});"
            " the admin runs `tokenbuddy team init`"
        )
    if isinstance(error, psycopg.errors.ForeignKeyViolation):
        return TeamPermissionError(
            f"cannot {doing}: this role is not a member of the team (ask the admin to run"
            f" `tokenbuddy team add-member`): {detail}"
        )
    refused = any(hint in detail for hint in _AUTH_HINTS)
    if isinstance(error, psycopg.OperationalError) and refused and not _is_connection_loss(error):
        return TeamPermissionError(f"the team server refused to {doing}: {detail}")
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        return TeamConnectionError(f"cannot {doing}: {detail}")
    return TeamError(f"cannot {doing}: {detail}")


def _is_connection_loss(error: Exception) -> bool:
    sqlstate = getattr(error, "sqlstate", None)
    return bool(sqlstate and sqlstate.startswith("08"))


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
