"""Pushing a member machine's daily aggregates to the team server.

:func:`push_days` sends the days it is handed in batches, one transaction per batch:

1. take a transaction-scoped advisory lock for this member's machine, so two
   pushes from one machine serialise;
2. delete this machine's rows for the batch's days, then insert the fresh rows
   with ``ON CONFLICT DO UPDATE``: the local ledger is the truth for its
   member, machine and day, so a re-sync replaces rather than adds;
3. commit, and only then remember the days as pushed in the state file.

A connection lost mid-batch rolls the batch back on the server; the days stay
unpushed locally and go again next time, so nothing is half-written or counted
twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tokenbuddy.errors import TeamSchemaError
from tokenbuddy.team import _driver
from tokenbuddy.team.aggregates import DailyRow, fingerprint
from tokenbuddy.team.schema import LATEST

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import date

    import psycopg

    from tokenbuddy.team.state import SyncState

_INSERT = """
INSERT INTO tokenbuddy.daily_usage (member, machine_id, day, source, model, project,
    input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd, requests)
VALUES (current_user, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (member, machine_id, day, source, model, project) DO UPDATE SET
    input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
    cache_write_tokens = excluded.cache_write_tokens,
    cache_read_tokens = excluded.cache_read_tokens,
    cost_usd = excluded.cost_usd, requests = excluded.requests, synced_at = now()
"""
_TOUCH_MACHINE = """
INSERT INTO tokenbuddy.machines (member, machine_id) VALUES (current_user, %s)
ON CONFLICT (member, machine_id) DO UPDATE SET last_sync_at = now()
"""


@dataclass(frozen=True, slots=True)
class PushOptions:
    """How to reach the team server and what to publish besides the days."""

    allow_insecure: bool = False
    timeout_s: float = 10.0
    batch_days: int = 14
    soft_limit_usd: float | None = None
    """Published as this member's soft limit when set."""


def server_key(dsn: str) -> str:
    """Identifies the team server, database and member role a push went to."""
    params = _driver.parse_dsn(dsn)
    parts = [params.get(name, "") for name in ("host", "hostaddr", "port", "dbname", "user")]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def push_days(
    dsn: str, state: SyncState, pending: Mapping[date, Sequence[DailyRow]], options: PushOptions
) -> tuple[int, int]:
    """Send each day's rows (an empty list clears a day), remembering every committed batch
    in ``state``; returns (days, rows) sent."""
    psycopg = _driver.require_psycopg()
    with _driver.connect(
        dsn, allow_insecure=options.allow_insecure, timeout_s=options.timeout_s
    ) as connection:
        try:
            check_server_version(connection)
            machine_id = state.machine_id()
            _publish_profile(connection, options)
            days = sorted(pending)
            if not days:
                with connection.transaction():
                    connection.execute(_TOUCH_MACHINE, (machine_id,))
            rows = 0
            for start in range(0, len(days), max(1, options.batch_days)):
                batch = {day: pending[day] for day in days[start : start + options.batch_days]}
                rows += _push_batch(connection, machine_id, batch)
                state.mark_pushed({day: fingerprint(batch[day]) for day in batch})
        except psycopg.Error as error:
            raise _driver.translate(error, "sync with the team server") from None
    return len(days), rows


def check_server_version(connection: psycopg.Connection[Any]) -> int:
    """The server's schema version, or a :class:`TeamSchemaError` when it does not match."""
    from tokenbuddy.team.admin import schema_version

    version = schema_version(connection)
    if version < LATEST:
        raise TeamSchemaError(
            f"the team schema is version {version} and this tokenbuddy needs {LATEST}:"
            " the admin runs `tokenbuddy team init <admin-dsn>` to migrate it"
        )
    if version > LATEST:
        raise TeamSchemaError(
            f"the team schema is version {version}, newer than this tokenbuddy ({LATEST}):"
            " upgrade tokenbuddy"
        )
    return version


def _publish_profile(connection: psycopg.Connection[Any], options: PushOptions) -> None:
    if options.soft_limit_usd is None:
        return
    with connection.transaction():
        connection.execute(
            "UPDATE tokenbuddy.members SET soft_limit_usd = %s"
            " WHERE role_name = current_user AND soft_limit_usd IS DISTINCT FROM %s::numeric",
            (options.soft_limit_usd, options.soft_limit_usd),
        )


def _push_batch(
    connection: psycopg.Connection[Any], machine_id: str, batch: Mapping[date, Sequence[DailyRow]]
) -> int:
    """Replace this machine's rows for the batch's days, atomically; returns rows written."""
    rows = [row for day in sorted(batch) for row in batch[day]]
    with connection.transaction(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(current_user || '/' || %s))", (machine_id,)
        )
        cursor.execute(_TOUCH_MACHINE, (machine_id,))
        cursor.execute(
            "DELETE FROM tokenbuddy.daily_usage WHERE member = current_user"
            " AND machine_id = %s AND day = ANY(%s)",
            (machine_id, sorted(batch)),
        )
        if rows:
            cursor.executemany(_INSERT, [_values(machine_id, row) for row in rows])
    return len(rows)


def _values(machine_id: str, row: DailyRow) -> tuple[Any, ...]:
    return (
        machine_id,
        row.day,
        row.source,
        row.model,
        row.project,
        row.input_tokens,
        row.output_tokens,
        row.cache_write_tokens,
        row.cache_read_tokens,
        round(row.cost_usd, 6),
        row.requests,
    )
