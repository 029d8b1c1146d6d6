"""Finding each vendor source's credential and polling it into the ledger.

Three steps, so callers can put each where it belongs (the dashboard runs the
first in a thread worker and the second in an async worker):

1. :func:`find_credential` reads the keyring or local files (blocking);
2. :func:`fetch` / :func:`probe` talk to the vendor (async, no disk);
3. :func:`poll_provider` wraps both around the ledger: it takes the provider's poll
   lease (one poll per provider at a time, across processes), stores the result or
   the failure, and schedules the next poll only once this one has finished.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tokenbuddy.core.units import DAY_MS, HOUR_MS, MINUTE_MS
from tokenbuddy.errors import CredentialError, KeyringUnavailableError, VendorError
from tokenbuddy.sources.vendors import (
    admin_reports,
    anthropic_admin,
    claude_oauth,
    cursor,
    openai_admin,
)
from tokenbuddy.sources.vendors.http import ClientOptions
from tokenbuddy.store import vendors as store
from tokenbuddy.store.secrets import load_secret

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from tokenbuddy.core.vendor_usage import PullResult
    from tokenbuddy.store.ledger import Ledger
    from tokenbuddy.store.settings import VendorSettings

PROVIDERS = store.VENDOR_SOURCES
LEASE_MS = 5 * MINUTE_MS
"""How long a poll may hold its provider's lease before another process may take over."""
REPOLL_OVERLAP_MS = 3 * DAY_MS
"""Recent days are pulled again: vendors finalise their figures late."""
MAX_BACKOFF_MS = 6 * HOUR_MS


@dataclass(frozen=True, slots=True)
class Credential:
    """A source's secret and where it came from; ``repr`` never shows the secret."""

    provider: str
    secret: str = field(repr=False)
    origin: str
    """``keyring``, an env var name, or a file path."""
    claude: claude_oauth.ClaudeToken | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Poll intervals and the period pulled (the ``[vendors]`` settings)."""

    interval_ms: int = 300_000
    subscription_interval_ms: int = MINUTE_MS
    """Claude utilisation while an agent is active."""
    history_days: int = 30
    cursor_team_id: int = 0


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """How one provider's poll went, for the CLI and the dashboard."""

    provider: str
    status: str
    """``ok``, ``error``, ``not configured`` or ``busy`` (another poll holds the lease)."""
    message: str
    error_kind: str = ""


def find_credential(provider: str, environ: Mapping[str, str], home: Path) -> Credential | None:
    """The provider's credential, or None when none is configured (blocking: keyring, files)."""
    if provider == "claude":
        token = claude_oauth.find_token(environ, home)
        return Credential(provider, token.access_token, token.origin, token) if token else None
    if provider == "cursor":
        return _cursor_credential(environ, home)
    secret = load_secret(provider)
    return Credential(provider, secret, "keyring") if secret else None


def _cursor_credential(environ: Mapping[str, str], home: Path) -> Credential | None:
    """A pasted token in the keyring wins over the one in Cursor's ``state.vscdb``."""
    unavailable: KeyringUnavailableError | None = None
    try:
        pasted = load_secret("cursor")
    except KeyringUnavailableError as error:
        pasted, unavailable = None, error
    if pasted:
        return Credential("cursor", pasted, "keyring")
    path = cursor.state_db_path(environ, home)
    local = cursor.local_session_token(path)
    if local:
        return Credential("cursor", local, str(path))
    if unavailable is not None:
        raise unavailable
    return None


def pull_window(state: store.SourceState, now_ms: int, schedule: Schedule) -> tuple[int, int]:
    """The period to pull: the history on a first pull, else the last few days again."""
    earliest = now_ms - schedule.history_days * DAY_MS
    if state.last_success_ms is None:
        return earliest, now_ms
    return max(earliest, state.last_success_ms - REPOLL_OVERLAP_MS), now_ms


async def fetch(
    credential: Credential, since_ms: int, until_ms: int, options: ClientOptions, schedule: Schedule
) -> PullResult:
    """Pull one provider (network only; the caller stores the result)."""
    secret = credential.secret
    if credential.provider == "claude":
        assert credential.claude is not None
        return await claude_oauth.pull(credential.claude, until_ms, options)
    if credential.provider == "anthropic":
        return await admin_reports.pull(
            anthropic_admin.REPORTS, secret, since_ms, until_ms, options
        )
    if credential.provider == "openai":
        return await admin_reports.pull(openai_admin.REPORTS, secret, since_ms, until_ms, options)
    if credential.provider == "cursor":
        return await cursor.pull(secret, since_ms, until_ms, options, schedule.cursor_team_id)
    return await cursor.pull_team(secret, since_ms, until_ms, options)


async def probe(credential: Credential, now_ms: int, options: ClientOptions) -> str:
    """One call proving the credential works; raises a VendorError saying what is wrong."""
    secret = credential.secret
    if credential.provider == "claude":
        assert credential.claude is not None
        return await claude_oauth.probe(credential.claude, now_ms, options)
    if credential.provider == "anthropic":
        return await admin_reports.probe(anthropic_admin.REPORTS, secret, now_ms, options)
    if credential.provider == "openai":
        return await admin_reports.probe(openai_admin.REPORTS, secret, now_ms, options)
    if credential.provider == "cursor":
        return await cursor.probe(secret, now_ms, options)
    return await cursor.probe_team(secret, now_ms, options)


def next_poll_ms(
    provider: str, now_ms: int, schedule: Schedule, *, agent_active: bool = False
) -> int:
    """When a source that just succeeded is due again."""
    if provider == "claude" and agent_active:
        return now_ms + schedule.subscription_interval_ms
    return now_ms + schedule.interval_ms


def retry_poll_ms(now_ms: int, failures: int, schedule: Schedule, error: VendorError | None) -> int:
    """When a failing source is tried again: doubling per failure, at least ``Retry-After``."""
    wait = min(MAX_BACKOFF_MS, schedule.interval_ms * int(2 ** min(failures, 10)))
    if error is not None and error.retry_after_s is not None:
        wait = max(wait, int(error.retry_after_s * 1000))
    return now_ms + wait


async def poll_provider(
    ledger: Ledger,
    credential: Credential,
    now_ms: int,
    options: ClientOptions,
    schedule: Schedule,
    *,
    agent_active: bool = False,
) -> PollOutcome:
    """Poll one provider and record the result or the failure; never raises a VendorError."""
    provider = credential.provider
    if not store.claim_poll(ledger, provider, now_ms, LEASE_MS):
        return PollOutcome(provider, "busy", "another poll of this source is running")
    state = store.source_state(ledger, provider)
    since_ms, until_ms = pull_window(state, now_ms, schedule)
    try:
        result = await fetch(credential, since_ms, until_ms, options, schedule)
    except (VendorError, CredentialError) as error:
        vendor = error if isinstance(error, VendorError) else None
        kind = vendor.kind if vendor else "credential"
        retry = retry_poll_ms(now_ms, state.failures, schedule, vendor)
        store.record_failure(ledger, provider, str(error), kind, retry)
        return PollOutcome(provider, "error", str(error), kind)
    next_ms = next_poll_ms(provider, now_ms, schedule, agent_active=agent_active)
    store.store_pull(ledger, result, now_ms, next_ms)
    return PollOutcome(provider, "ok", result.summary())


async def poll_all(
    ledger: Ledger,
    credentials: Mapping[str, Credential | None],
    now_ms: int,
    options: ClientOptions,
    schedule: Schedule,
    *,
    providers: Sequence[str] = PROVIDERS,
) -> list[PollOutcome]:
    """Poll every configured provider concurrently; one outcome per provider, in order."""

    async def one(provider: str) -> PollOutcome:
        credential = credentials.get(provider)
        if credential is None:
            return PollOutcome(provider, "not configured", "no credential")
        return await poll_provider(ledger, credential, now_ms, options, schedule)

    return list(await asyncio.gather(*(one(provider) for provider in providers)))


def schedule_for(vendors: VendorSettings) -> Schedule:
    """The ``[vendors]`` settings as the poller takes them."""
    return Schedule(
        interval_ms=int(vendors.poll_seconds * 1000),
        subscription_interval_ms=int(vendors.subscription_poll_seconds * 1000),
        history_days=vendors.history_days,
        cursor_team_id=vendors.cursor_team_id,
    )


def credentials(
    providers: list[str],
) -> tuple[dict[str, Credential | None], dict[str, str], set[str]]:
    """Each provider's credential (None when not set), the ones that cannot be read, and
    of those, the ones that cannot be read only because there is no keyring backend."""
    found: dict[str, Credential | None] = {}
    problems: dict[str, str] = {}
    no_keyring: set[str] = set()
    for provider in providers:
        try:
            found[provider] = find_credential(provider, os.environ, Path.home())
        except CredentialError as error:
            found[provider], problems[provider] = None, str(error)
            if isinstance(error, KeyringUnavailableError):
                no_keyring.add(provider)
    return found, problems, no_keyring


def pull_enabled(settings: VendorSettings, now_ms: int) -> tuple[list[PollOutcome], dict[str, str]]:
    """``vendors pull``: poll every enabled source now and store the results in the user's
    ledger; returns one outcome per source and the credentials that could not be read."""
    from tokenbuddy.store.ledger import Ledger
    from tokenbuddy.store.paths import app_paths

    enabled = [p for p in PROVIDERS if p not in settings.disabled]
    found, problems, _ = credentials(enabled)
    paths = app_paths()
    paths.ensure()
    with Ledger(paths.ledger) as ledger:
        outcomes = asyncio.run(
            poll_all(
                ledger, found, now_ms, ClientOptions(), schedule_for(settings), providers=enabled
            )
        )
    return outcomes, problems
