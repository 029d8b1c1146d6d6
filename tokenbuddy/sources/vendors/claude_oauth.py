"""Claude subscription utilisation from the (unofficial) OAuth usage endpoint.

The access token is Claude Code's own, read-only: ``CLAUDE_CODE_OAUTH_TOKEN``,
else ``.credentials.json`` in ``$CLAUDE_CONFIG_DIR`` (or ``~/.claude``), else the
macOS keychain item ``Claude Code-credentials``. tokenbuddy never refreshes or
writes it: refresh tokens rotate, and refreshing from here can log Claude Code out.

The answer is parsed defensively: the flat ``five_hour``/``seven_day`` keys and the
newer ``limits[]`` list are both read, and any window that does not parse is skipped.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from tokenbuddy.core.records import CLAUDE_CODE, RateLimitSnapshot
from tokenbuddy.core.vendor_usage import PullResult
from tokenbuddy.errors import CredentialError, VendorAuthError, VendorResponseError
from tokenbuddy.sources.vendors.http import ClientOptions, VendorClient

if TYPE_CHECKING:
    from collections.abc import Mapping

PROVIDER = "claude"
DEFAULT_URL = "https://api.anthropic.com"
USAGE_PATH = "/api/oauth/usage"
FIVE_HOURS, ONE_WEEK = 300, 10080
_REQUIRED_SCOPE = "user:profile"
_KEYCHAIN_SERVICE = "Claude Code-credentials"


@dataclass(frozen=True, slots=True)
class ClaudeToken:
    """Claude Code's OAuth access token and what came with it."""

    access_token: str
    origin: str
    """Where it was found (an env var name, a file path or the keychain), for messages."""
    expires_at_ms: int | None = None
    scopes: tuple[str, ...] | None = None
    plan: str = ""


class _Vendor(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Window(_Vendor):
    utilization: float
    resets_at: datetime | None = None


class _Limit(_Vendor):
    kind: str
    percent: float
    resets_at: datetime | None = None
    scope: dict[str, Any] | None = None


def find_token(environ: Mapping[str, str], home: Path) -> ClaudeToken | None:
    """Claude Code's access token, looked up the way Claude Code stores it; None if absent."""
    env_token = environ.get("CLAUDE_CODE_OAUTH_TOKEN", "").strip()
    if env_token:
        return ClaudeToken(env_token, "CLAUDE_CODE_OAUTH_TOKEN")
    for config_dir in _config_dirs(environ, home):
        path = config_dir / ".credentials.json"
        if path.is_file():
            return _token_from_json(_read_credentials(path), str(path))
    if sys.platform == "darwin":
        return _keychain_token(environ)
    return None


def _config_dirs(environ: Mapping[str, str], home: Path) -> list[Path]:
    configured = [p.strip() for p in environ.get("CLAUDE_CONFIG_DIR", "").split(",") if p.strip()]
    return [Path(p).expanduser() for p in configured] or [home / ".claude"]


def _read_credentials(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CredentialError(f"cannot read {path}: {error.strerror}") from None


def _token_from_json(raw: bytes | str, origin: str) -> ClaudeToken | None:
    """The ``claudeAiOauth`` entry of Claude Code's credentials JSON."""
    try:
        entry = orjson.loads(raw).get("claudeAiOauth")
    except (orjson.JSONDecodeError, AttributeError):
        raise CredentialError(f"{origin} is not Claude Code's credentials JSON") from None
    if not isinstance(entry, dict) or not isinstance(entry.get("accessToken"), str):
        return None
    expires = entry.get("expiresAt")
    scopes = entry.get("scopes")
    return ClaudeToken(
        entry["accessToken"],
        origin,
        int(expires) if isinstance(expires, int | float) else None,
        tuple(str(s) for s in scopes) if isinstance(scopes, list) else None,
        str(entry.get("subscriptionType") or ""),
    )


def keychain_service(environ: Mapping[str, str]) -> str:
    """Claude Code's keychain service name (suffixed per ``CLAUDE_CONFIG_DIR``)."""
    config_dir = environ.get("CLAUDE_CONFIG_DIR")
    if not config_dir or environ.get("CLAUDE_SECURESTORAGE_CONFIG_DIR") == "":
        return _KEYCHAIN_SERVICE
    suffix = hashlib.sha256(config_dir.encode()).hexdigest()[:8]
    return f"{_KEYCHAIN_SERVICE}-{suffix}"


def _keychain_token(environ: Mapping[str, str]) -> ClaudeToken | None:
    """The macOS keychain copy, read through keyring (never written)."""
    import getpass

    import keyring
    from keyring.errors import KeyringError

    service = keychain_service(environ)
    try:
        raw = keyring.get_password(service, getpass.getuser())
    except KeyringError:
        raise CredentialError(f"cannot read the {service!r} keychain item") from None
    return _token_from_json(raw, f"keychain item {service!r}") if raw else None


def check_token(token: ClaudeToken, now_ms: int) -> None:
    """Refuse, without a call, a token known to be expired or to lack the profile scope."""
    if token.expires_at_ms is not None and token.expires_at_ms <= now_ms:
        raise VendorAuthError(
            f"claude: the token in {token.origin} has expired; open Claude Code to refresh it"
            " (tokenbuddy never refreshes it)",
            kind="expired",
        )
    if token.scopes is not None and _REQUIRED_SCOPE not in token.scopes:
        raise VendorAuthError(
            f"claude: the token in {token.origin} lacks the {_REQUIRED_SCOPE} scope"
            " (setup-token tokens are inference-only); log in with `claude` instead",
            kind="missing_scope",
        )


def usage_client(token: ClaudeToken, options: ClientOptions) -> VendorClient:
    """A client sending the OAuth headers the usage endpoint expects."""
    headers = {
        "Authorization": f"Bearer {token.access_token}",
        "anthropic-beta": "oauth-2025-04-20",
        "Accept": "application/json",
        "User-Agent": "tokenbuddy",
    }
    secrets = [token.access_token]
    return options.client(PROVIDER, "CLAUDE_OAUTH", DEFAULT_URL, headers=headers, secrets=secrets)


async def pull(token: ClaudeToken, now_ms: int, options: ClientOptions) -> PullResult:
    """The current utilisation windows, as ``rate_limits`` readings taken at ``now_ms``."""
    check_token(token, now_ms)
    async with usage_client(token, options) as client:
        body = await client.get_json(USAGE_PATH)
    readings, skipped = usage_readings(body, now_ms, token.plan)
    detail = {"plan": _plan(body, token.plan), "windows": len(readings), "skipped": skipped}
    return PullResult(PROVIDER, now_ms, now_ms, rate_limits=readings, detail=detail)


async def probe(token: ClaudeToken, now_ms: int, options: ClientOptions) -> str:
    """One call to the usage endpoint; returns what it saw."""
    result = await pull(token, now_ms, options)
    return f"usage endpoint answered ({len(result.rate_limits)} window(s))"


def _plan(body: Any, fallback: str) -> str:
    plan = body.get("plan") if isinstance(body, dict) else None
    return plan if isinstance(plan, str) and plan else fallback


def usage_readings(body: Any, now_ms: int, plan: str) -> tuple[list[RateLimitSnapshot], int]:
    """Every window the answer reports, and how many entries could not be read.

    Flat keys win over ``limits[]`` for the same window; per-model weekly caps are
    stored under the source ``claude-code/<model>`` (the shared windows keep
    ``claude-code``) so they never overwrite the all-models week.
    """
    if not isinstance(body, dict):
        raise VendorResponseError("claude: the usage answer is not a JSON object", kind="schema")
    plan = _plan(body, plan)
    windows: dict[tuple[str, int], RateLimitSnapshot] = {}
    skipped = 0
    for source, minutes, window in _flat_windows(body):
        try:
            parsed = _Window.model_validate(window)
        except ValidationError:
            skipped += 1
            continue
        windows[(source, minutes)] = _reading(
            source, minutes, parsed.utilization, parsed.resets_at, now_ms=now_ms, plan=plan
        )
    limits = body.get("limits")
    for entry in limits if isinstance(limits, list) else []:
        reading = _limit_reading(entry, now_ms, plan)
        if reading is None:
            skipped += 1
        elif (reading.source, reading.window_minutes) not in windows:
            windows[(reading.source, reading.window_minutes)] = reading
    if not windows:
        raise VendorResponseError(
            "claude: the usage answer holds no utilisation window", kind="schema"
        )
    return list(windows.values()), skipped


def _flat_windows(body: dict[str, Any]) -> list[tuple[str, int, Any]]:
    """The legacy flat keys that are present (null ones are skipped silently)."""
    keys = (
        ("five_hour", CLAUDE_CODE, FIVE_HOURS),
        ("seven_day", CLAUDE_CODE, ONE_WEEK),
        ("seven_day_opus", f"{CLAUDE_CODE}/Opus", ONE_WEEK),
        ("seven_day_sonnet", f"{CLAUDE_CODE}/Sonnet", ONE_WEEK),
    )
    return [
        (source, minutes, body[key]) for key, source, minutes in keys if body.get(key) is not None
    ]


def _limit_reading(entry: Any, now_ms: int, plan: str) -> RateLimitSnapshot | None:
    """A ``limits[]`` entry as a reading; None when it cannot be read or is unknown."""
    try:
        limit = _Limit.model_validate(entry)
    except ValidationError:
        return None
    if limit.kind == "session":
        source, minutes = CLAUDE_CODE, FIVE_HOURS
    elif limit.kind == "weekly_all":
        source, minutes = CLAUDE_CODE, ONE_WEEK
    elif limit.kind == "weekly_scoped" and _scope_model(limit.scope):
        source, minutes = f"{CLAUDE_CODE}/{_scope_model(limit.scope)}", ONE_WEEK
    else:
        return None
    return _reading(source, minutes, limit.percent, limit.resets_at, now_ms=now_ms, plan=plan)


def _scope_model(scope: dict[str, Any] | None) -> str:
    model = (scope or {}).get("model")
    name = model.get("display_name") if isinstance(model, dict) else None
    return name.strip() if isinstance(name, str) else ""


def _reading(
    source: str, minutes: int, percent: float, resets_at: datetime | None, *, now_ms: int, plan: str
) -> RateLimitSnapshot:
    resets_ms = int(resets_at.timestamp() * 1000) if resets_at else None
    return RateLimitSnapshot(source, now_ms, minutes, float(percent), resets_ms, plan)
