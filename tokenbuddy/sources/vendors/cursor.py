"""Cursor: usage events and the current period from the dashboard, or the Teams Admin API.

Cursor keeps no token logs on disk; its usage exists only behind its API. Events
become ``requests`` rows of source ``cursor``, priced by what Cursor charged:
``chargedCents``, else ``tokenUsage.totalCents + cursorTokenFee``; errored and
aborted events cost nothing. Each event's dedup key (user, timestamp, model)
is stable across polls, so re-polling never duplicates a row.

Individual accounts authenticate with the dashboard session cookie, built from the
access token in Cursor's ``state.vscdb`` (opened read-only) or a pasted token;
teams use the Admin API with HTTP basic auth (the key as user name).
"""

from __future__ import annotations

import base64
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tokenbuddy.core.records import CURSOR, UsageRecord
from tokenbuddy.core.units import DAY_MS
from tokenbuddy.core.vendor_usage import PullResult
from tokenbuddy.errors import CredentialError, VendorResponseError
from tokenbuddy.sources.vendors.http import ClientOptions, VendorClient, numbered_pages

if TYPE_CHECKING:
    from collections.abc import Mapping

PROVIDER = "cursor"
TEAM_PROVIDER = "cursor-team"
SOURCE = CURSOR
DASHBOARD_URL = "https://cursor.com"
ADMIN_URL = "https://api.cursor.com"
_PAGE_SIZE = 100
_TEAM_MAX_DAYS = 30
_NOT_CHARGED = ("ERRORED", "ABORTED", "NOT_CHARGED")


class _Vendor(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _TokenUsage(_Vendor):
    inputTokens: int = Field(default=0, ge=0, lt=2**53)
    outputTokens: int = Field(default=0, ge=0, lt=2**53)
    cacheWriteTokens: int = Field(default=0, ge=0, lt=2**53)
    cacheReadTokens: int = Field(default=0, ge=0, lt=2**53)
    totalCents: float = 0.0


class _Event(_Vendor):
    timestamp: int = Field(gt=0, lt=2**53)
    """Epoch milliseconds (sent as a string)."""
    model: str = "unknown"
    kind: str = ""
    tokenUsage: _TokenUsage | None = None
    chargedCents: float | None = None
    cursorTokenFee: float | None = None
    conversationId: str | None = None
    owningUser: str | None = None
    userEmail: str | None = None


def event_cost_usd(event: _Event) -> float:
    """What Cursor charged for one event, in US dollars."""
    if any(marker in event.kind.upper() for marker in _NOT_CHARGED):
        return 0.0
    if event.chargedCents is not None:
        return event.chargedCents / 100
    usage_cents = event.tokenUsage.totalCents if event.tokenUsage else 0.0
    return (usage_cents + (event.cursorTokenFee or 0.0)) / 100


def event_record(event: _Event) -> UsageRecord:
    """One event as a ``requests`` row of source ``cursor``; what Cursor charged is its
    ``reported_cost_usd`` (a billed figure, not an estimate)."""
    tokens = event.tokenUsage or _TokenUsage()
    user = event.owningUser or event.userEmail or ""
    return UsageRecord(
        dedup_key=f"cursor:{user}:{event.timestamp}:{event.model}",
        source=SOURCE,
        ts_ms=event.timestamp,
        session_id=event.conversationId or "",
        project="",
        model=event.model,
        input_tokens=tokens.inputTokens,
        output_tokens=tokens.outputTokens,
        cache_write_5m_tokens=tokens.cacheWriteTokens,
        cache_write_1h_tokens=0,
        cache_read_tokens=tokens.cacheReadTokens,
        reasoning_tokens=0,
        web_search_requests=0,
        speed="",
        inference_geo="",
        is_sidechain=False,
        agent_id="",
        agent_type="",
        reported_cost_usd=event_cost_usd(event),
    )


def parse_events(items: list[Any]) -> tuple[list[tuple[UsageRecord, float]], int]:
    """Priced records for the events that parse, and how many did not."""
    priced, skipped = [], 0
    for item in items:
        try:
            event = _Event.model_validate(item)
        except ValidationError:
            skipped += 1
            continue
        priced.append((event_record(event), event_cost_usd(event)))
    return priced, skipped


# -- credentials ---------------------------------------------------------------------------


def state_db_path(environ: Mapping[str, str], home: Path) -> Path:
    """Where Cursor keeps ``state.vscdb`` on this platform."""
    tail = Path("Cursor", "User", "globalStorage", "state.vscdb")
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / tail
    if sys.platform == "win32":
        return Path(environ.get("APPDATA", home / "AppData" / "Roaming")) / tail
    return Path(environ.get("XDG_CONFIG_HOME") or home / ".config") / tail


def local_session_token(path: Path) -> str | None:
    """Cursor's access token from ``state.vscdb``, opened read-only; None when absent."""
    if not path.is_file():
        return None
    try:
        with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=2) as db:
            row = db.execute(
                "SELECT value FROM ItemTable WHERE key = 'cursorAuth/accessToken'"
            ).fetchone()
    except sqlite3.Error as error:
        raise CredentialError(f"cannot read Cursor's {path}: {error}") from None
    value = row[0] if row else None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.strip() if isinstance(value, str) and value.strip() else None


def session_cookie(token: str) -> str:
    """The ``WorkosCursorSessionToken`` cookie value for an access token or a pasted cookie."""
    token = token.strip().removeprefix("WorkosCursorSessionToken=")
    if "%3A%3A" in token or "::" in token:
        return token.replace("::", "%3A%3A")
    try:
        payload = token.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        user_id = str(claims["sub"]).split("|")[-1]
    except (IndexError, KeyError, ValueError, TypeError):
        raise CredentialError(
            "the Cursor token is neither an access token (JWT) nor a"
            " WorkosCursorSessionToken cookie value"
        ) from None
    return f"{user_id}%3A%3A{token}"


# -- individual (dashboard) ----------------------------------------------------------------


def dashboard_client(token: str, options: ClientOptions) -> VendorClient:
    """A client carrying the session cookie and the headers the dashboard checks."""
    cookie = session_cookie(token)
    headers = {
        "Cookie": f"WorkosCursorSessionToken={cookie}",
        "Origin": "https://cursor.com",
        "Referer": "https://cursor.com/dashboard",
    }
    return options.client(
        PROVIDER, "CURSOR", DASHBOARD_URL, headers=headers, secrets=[token, cookie]
    )


async def pull(
    token: str, since_ms: int, until_ms: int, options: ClientOptions, team_id: int = 0
) -> PullResult:
    """The period's plan usage and every usage event between the two instants."""
    async with dashboard_client(token, options) as client:
        period = await client.post_json("/api/dashboard/get-current-period-usage", {})
        events = await _dashboard_events(client, since_ms, until_ms, team_id)
    priced, skipped = parse_events(events)
    detail = {**_period_detail(period), "events": len(priced), "skipped_events": skipped}
    return PullResult(PROVIDER, since_ms, until_ms, requests=priced, detail=detail)


async def _dashboard_events(
    client: VendorClient, since_ms: int, until_ms: int, team_id: int
) -> list[Any]:
    """Every event, page by page, until the announced total is reached."""
    seen = 0

    async def page(number: int) -> tuple[list[Any], bool]:
        nonlocal seen
        body = {
            "teamId": team_id,
            "startDate": str(since_ms),
            "endDate": str(until_ms),
            "page": number,
            "pageSize": _PAGE_SIZE,
        }
        answer = _object(await client.post_json("/api/dashboard/get-filtered-usage-events", body))
        items = _list(answer.get("usageEventsDisplay"))
        seen += len(items)
        total = answer.get("totalUsageEventsCount")
        return items, isinstance(total, int) and seen < total

    return await numbered_pages(page, PROVIDER)


def _period_detail(period: Any) -> dict[str, Any]:
    """The current period's plan usage (cents), whatever of it is present."""
    plan = _object(period).get("planUsage")
    plan = plan if isinstance(plan, dict) else {}
    keys = {
        "totalPercentUsed": "plan_percent_used",
        "totalSpend": "spend_cents",
        "limit": "limit_cents",
    }
    detail = {
        name: plan[key] for key, name in keys.items() if isinstance(plan.get(key), int | float)
    }
    for key, name in (("billingCycleStart", "cycle_start_ms"), ("billingCycleEnd", "cycle_end_ms")):
        value = _object(period).get(key)
        if isinstance(value, str) and value.isdigit():
            detail[name] = int(value)
    return detail


async def probe(token: str, now_ms: int, options: ClientOptions) -> str:
    """One call to the current-period endpoint."""
    del now_ms
    async with dashboard_client(token, options) as client:
        period = await client.post_json("/api/dashboard/get-current-period-usage", {})
    used = _period_detail(period).get("plan_percent_used")
    return "dashboard answered" + (f" ({used}% of the plan used)" if used is not None else "")


# -- teams (Admin API) ---------------------------------------------------------------------


def admin_client(key: str, options: ClientOptions) -> VendorClient:
    """A client authenticating with the Admin key as the basic-auth user name."""
    return options.client(TEAM_PROVIDER, "CURSOR", ADMIN_URL, auth=(key, ""), secrets=[key])


async def pull_team(key: str, since_ms: int, until_ms: int, options: ClientOptions) -> PullResult:
    """The team's usage events (at most the last 30 days) and its members' spend."""
    since_ms = max(since_ms, until_ms - _TEAM_MAX_DAYS * DAY_MS)
    async with admin_client(key, options) as client:
        events = await _team_events(client, since_ms, until_ms)
        spend = _object(await client.post_json("/teams/spend", {"page": 1, "pageSize": 100}))
    priced, skipped = parse_events(events)
    members = _list(spend.get("teamMemberSpend"))
    cents = sum(m.get("spendCents") or 0 for m in members if isinstance(m, dict))
    detail = {"events": len(priced), "skipped_events": skipped, "team_spend_cents": cents}
    return PullResult(TEAM_PROVIDER, since_ms, until_ms, requests=priced, detail=detail)


async def _team_events(client: VendorClient, since_ms: int, until_ms: int) -> list[Any]:
    async def page(number: int) -> tuple[list[Any], bool]:
        body = {"startDate": since_ms, "endDate": until_ms, "page": number, "pageSize": _PAGE_SIZE}
        answer = _object(await client.post_json("/teams/filtered-usage-events", body))
        pagination = answer.get("pagination")
        more = isinstance(pagination, dict) and pagination.get("hasNextPage") is True
        return _list(answer.get("usageEvents")), more

    return await numbered_pages(page, TEAM_PROVIDER)


async def probe_team(key: str, now_ms: int, options: ClientOptions) -> str:
    """One call to the spend endpoint."""
    del now_ms
    async with admin_client(key, options) as client:
        spend = _object(await client.post_json("/teams/spend", {"page": 1, "pageSize": 1}))
    return f"Admin API answered ({spend.get('totalMembers', '?')} member(s))"


def _object(value: Any) -> dict[str, Any]:
    """A JSON object, or a schema error (an empty account answers ``{}``, which is fine)."""
    if not isinstance(value, dict):
        raise VendorResponseError("cursor: the answer is not a JSON object", kind="schema")
    return value


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
