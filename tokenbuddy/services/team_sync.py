"""Team sync on this machine: what changed since the last push, when to try again, and the
member DSN in the keyring.

:func:`sync_once` is what both ``tokenbuddy team sync`` and the dashboard's background
worker call (from a thread: it blocks on the network). It reads the days whose
aggregates changed since the last push from the ledger and hands them to
:func:`tokenbuddy.team.push.push_days`. Failures back off exponentially with jitter;
offline is never an error the user has to act on, and never blocks anything else.

The member DSN carries the member's password, so it lives in the OS keyring only, never
in a file: under the same service as the vendor secrets (``tokenbuddy``, user
``team-dsn``) through the same helpers (:mod:`tokenbuddy.store.secrets`), so a missing
keyring backend gives the same explanation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

from tokenbuddy import clock
from tokenbuddy.errors import CredentialError, TeamConnectionError, TeamError
from tokenbuddy.store.queries import model_buckets
from tokenbuddy.store.secrets import delete_entry, load_entry, store_entry
from tokenbuddy.team.aggregates import by_day, fingerprint, fold_days
from tokenbuddy.team.push import PushOptions, push_days, server_key
from tokenbuddy.team.state import SyncState

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from tokenbuddy.store.ledger import Ledger
    from tokenbuddy.store.paths import AppPaths
    from tokenbuddy.store.settings import Settings
    from tokenbuddy.team.aggregates import DailyRow

BACKOFF_BASE_S = 30.0
BACKOFF_CAP_S = 3600.0
"""Automatic retries wait 30 s, 60 s, 120 s ... at most an hour (times a jitter of 0.5-1)."""
SyncStatus = Literal["synced", "up_to_date", "waiting", "off", "failed"]


DSN_KEY = "team-dsn"
LABEL = "team DSN"


def store_dsn(dsn: str) -> None:
    """Save the member DSN, replacing any previous one."""
    store_entry(DSN_KEY, dsn.strip(), LABEL)


def load_dsn() -> str | None:
    """The stored member DSN, or None before ``team join``."""
    return load_entry(DSN_KEY, LABEL)


def delete_dsn() -> bool:
    """Forget the member DSN; False when none was stored."""
    return delete_entry(DSN_KEY, LABEL)


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

    def push_options(self) -> PushOptions:
        """How :func:`~tokenbuddy.team.push.push_days` reaches the server."""
        return PushOptions(
            allow_insecure=self.allow_insecure,
            timeout_s=self.timeout_s,
            batch_days=self.batch_days,
            soft_limit_usd=self.soft_limit_usd,
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
            pending = _changed_days(options, state, now_ms, server_key(dsn))
            days, rows = push_days(dsn, state, pending, options.push_options())
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
    return load_dsn()


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
            daily_rows(ledger, options.zone, since, share_projects=options.share_projects)
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


def daily_rows(
    ledger: Ledger, zone: ZoneInfo, since: date, *, share_projects: bool
) -> list[DailyRow]:
    """The ledger's sums per local day from ``since`` on (see
    :func:`~tokenbuddy.team.aggregates.fold_days`)."""
    since_ms = int(datetime.combine(since, time(0), zone).timestamp() * 1000)
    rollup = model_buckets(ledger, since_ms, with_projects=share_projects)
    return fold_days(rollup, zone, since, share_projects=share_projects)


NOT_JOINED = "not joined to a team: run `tokenbuddy team join <dsn>` first"


def push_now(
    *,
    full: bool = False,
    allow_insecure: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SyncReport:
    """``team sync``: bring the ledger up to date, then push what changed (everything in the
    window with ``full``) whatever the backoff says; raises a ``TeamError`` when this machine
    has not joined a team."""
    from tokenbuddy.services.session import open_session
    from tokenbuddy.store.timezone import resolve_zone

    session = open_session(settings=True, progress=progress)
    session.ledger.close()
    settings = session.settings
    assert settings is not None
    dsn = dsn_if_joined(state_path(session.paths))
    if dsn is None:
        raise TeamError(NOT_JOINED)
    options = SyncOptions.from_settings(
        session.paths, settings, resolve_zone(settings.timezone), dsn=dsn
    )
    if allow_insecure:
        options = replace(options, allow_insecure=True)
    if full:
        with SyncState(options.state_path) as state:
            state.forget_pushed()
    return sync_once(options, now_ms=clock.now_ms(), force=True)
