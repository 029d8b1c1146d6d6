"""Pushing this machine's daily aggregates to the team server.

:func:`sync_once` is what both ``tokenbuddy team sync`` and the dashboard's
background worker call (from a thread: it blocks on the network). It sends only
the days whose aggregates changed since the last push, in batches of days, one
transaction per batch:

1. take a transaction-scoped advisory lock for this member's machine, so two
   syncs of one machine serialise;
2. delete this machine's rows for the batch's days, then insert the fresh rows
   with ``ON CONFLICT DO UPDATE``: the local ledger is the truth for its
   member, machine and day, so a re-sync replaces rather than adds;
3. commit, and only then remember the days as pushed.

A connection lost mid-batch rolls the batch back on the server; the days stay
unpushed locally and go again next time, so nothing is half-written or counted
twice. Failures back off exponentially with jitter; offline is never an error
the user has to act on, and never blocks anything else.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from tokenbuddy.errors import CredentialError, TeamConnectionError, TeamError, TeamSchemaError
from tokenbuddy.team import _driver
from tokenbuddy.team.aggregates import DailyRow, by_day, daily_rows, fingerprint
from tokenbuddy.team.schema import LATEST
from tokenbuddy.team.state import SyncState

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path
    from zoneinfo import ZoneInfo

    import psycopg

    from tokenbuddy.store.paths import AppPaths
    from tokenbuddy.store.settings import Settings

BACKOFF_BASE_S = 30.0
BACKOFF_CAP_S = 3600.0
"""Automatic retries wait 30 s, 60 s, 120 s ... at most an hour (times a jitter of 0.5-1)."""
SyncStatus = Literal["synced", "up_to_date", "waiting", "off", "failed"]

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
class SyncOptions:
    """Everything one sync needs; build it with :meth:`from_settings`."""

    ledger_path: Path
    state_path: Path
    zone: ZoneInfo
    share_projects: bool = False
    history_days: int = 62
    """Only days this recent are compared and sent."""
    allow_insecure: bool = False
    timeout_s: float = 10.0
    batch_days: int = 14
    soft_limit_usd: float | None = None
    """Published as this member's soft limit when set."""
    dsn: str | None = field(default=None, repr=False)
    """The member DSN; None reads it from the keyring."""
    enabled: bool = True
    """False (setting ``team.sync = false``) pauses automatic syncs; forced ones still run."""

    @classmethod
    def from_settings(
        cls, paths: AppPaths, settings: Settings, zone: ZoneInfo, dsn: str | None = None
    ) -> SyncOptions:
        """Options from the ``[team]`` settings and the app paths."""
        team = settings.team
        return cls(
            ledger_path=paths.ledger,
            state_path=state_path(paths),
            zone=zone,
            share_projects=team.share_project_names,
            history_days=team.history_days,
            allow_insecure=team.allow_insecure,
            timeout_s=team.connect_timeout_seconds,
            soft_limit_usd=team.soft_limit_usd,
            dsn=dsn,
            enabled=team.sync,
        )


def state_path(paths: AppPaths) -> Path:
    """Where this machine's team sync state lives (beside the ledger)."""
    return paths.data_dir / "team.sqlite3"


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one sync attempt did, for the CLI line and the dashboard."""

    status: SyncStatus
    days_sent: int = 0
    rows_sent: int = 0
    error: str = ""
    next_attempt_ms: int | None = None
    """When an automatic retry is due (after a failure, or while waiting)."""

    @property
    def ok(self) -> bool:
        """False only when the attempt failed."""
        return self.status != "failed"


def backoff_delay_s(failures: int, jitter: float, *, permanent: bool = False) -> float:
    """Seconds before the next automatic attempt after ``failures`` in a row.

    ``jitter`` in [0, 1) spreads a team's machines apart; errors a retry cannot
    fix (a refused password, a missing schema) wait the longest.
    """
    ceiling = (
        BACKOFF_CAP_S if permanent else min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (failures - 1))
    )
    return ceiling * (0.5 + jitter / 2)


def sync_once(
    options: SyncOptions,
    *,
    now_ms: int,
    force: bool = False,
    jitter: Callable[[], float] = random.random,
) -> SyncReport:
    """Push the changed days once, unless sync is off or (without ``force``) backing off.

    Reads the ledger as it is (the caller's ingest keeps its rollup current); blocks
    on the network, so the dashboard calls it from a thread worker. Team and keyring
    failures come back as a ``failed`` report, never as an exception.
    """
    if not (options.enabled or force):
        return SyncReport("off")
    with SyncState(options.state_path) as state:
        retry = state.retry()
        if not force and now_ms < retry.next_attempt_ms:
            return SyncReport(
                "waiting", error=retry.last_error, next_attempt_ms=retry.next_attempt_ms
            )
        try:
            dsn = options.dsn or _joined_dsn(state)
            if dsn is None:
                return SyncReport("off")
            days, rows = _push(options, state, dsn, now_ms)
        except (TeamError, CredentialError) as error:
            permanent = not isinstance(error, TeamConnectionError)
            delay = backoff_delay_s(retry.failures + 1, jitter(), permanent=permanent)
            next_attempt = now_ms + int(delay * 1000)
            state.record_failure(str(error), next_attempt)
            return SyncReport("failed", error=str(error), next_attempt_ms=next_attempt)
        state.record_success(now_ms)
    return SyncReport("synced" if days else "up_to_date", days, rows)


def dsn_if_joined(path: Path) -> str | None:
    """The member DSN when this machine joined a team, else None without touching the
    keyring (so a machine that never joined never hears about keyring problems)."""
    with SyncState(path) as state:
        return _joined_dsn(state)


def _joined_dsn(state: SyncState) -> str | None:
    if not state.joined:
        return None
    from tokenbuddy.team.credentials import load_dsn

    return load_dsn()


def server_key(dsn: str) -> str:
    """Identifies the team server, database and member role a push went to."""
    params = _driver.parse_dsn(dsn)
    parts = [params.get(name, "") for name in ("host", "hostaddr", "port", "dbname", "user")]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _push(options: SyncOptions, state: SyncState, dsn: str, now_ms: int) -> tuple[int, int]:
    """Send the changed days; returns (days, rows) sent."""
    psycopg = _driver.require_psycopg()
    pending = _changed_days(options, state, now_ms, server_key(dsn))
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


def _changed_days(
    options: SyncOptions, state: SyncState, now_ms: int, server: str
) -> dict[date, list[DailyRow]]:
    """Days in the window whose rows differ from what was last pushed to ``server``."""
    from tokenbuddy.store.ledger import Ledger

    state.bind_server(server)
    today = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(options.zone).date()
    since = today - timedelta(days=options.history_days - 1)
    with Ledger(options.ledger_path) as ledger:
        local = by_day(
            daily_rows(ledger.db, options.zone, since, share_projects=options.share_projects)
        )
    pushed = state.pushed()
    changed = {
        day: rows for day, rows in local.items() if pushed.get(day.isoformat()) != fingerprint(rows)
    }
    for iso, value in pushed.items():
        day = date.fromisoformat(iso)
        if day >= since and day not in local and value != fingerprint([]):
            changed[day] = []
    return changed


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


def _publish_profile(connection: psycopg.Connection[Any], options: SyncOptions) -> None:
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
