"""Anthropic Admin API: daily token usage by model and the billed cost report.

Needs an Admin API key (``sk-ant-admin01-...``, organisation admins only). The cost
report's ``amount`` is a decimal string in **cents**. Both reports are paginated by
``next_page`` while ``has_more``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from tokenbuddy.core.vendor_usage import CostRow, UsageRow
from tokenbuddy.sources.vendors.admin_reports import AdminReports
from tokenbuddy.sources.vendors.http import ClientOptions, VendorClient, parse, token_pages

if TYPE_CHECKING:
    from typing import Any

PROVIDER = "anthropic"
DEFAULT_URL = "https://api.anthropic.com"
USAGE_PATH = "/v1/organizations/usage_report/messages"
COST_PATH = "/v1/organizations/cost_report"
_PAGE_DAYS = 31
"""Most 1-day buckets one page may hold."""


class _Vendor(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _CacheCreation(_Vendor):
    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0


class _UsageResult(_Vendor):
    uncached_input_tokens: int
    cache_creation: _CacheCreation | None = None
    cache_read_input_tokens: int
    output_tokens: int
    model: str | None = None


class _UsageBucket(_Vendor):
    starting_at: datetime
    ending_at: datetime
    results: list[_UsageResult]


class _UsagePage(_Vendor):
    data: list[_UsageBucket]
    has_more: bool = False
    next_page: str | None = None


class _CostResult(_Vendor):
    amount: Decimal
    currency: str = "USD"
    cost_type: str | None = None
    model: str | None = None


class _CostBucket(_Vendor):
    starting_at: datetime
    results: list[_CostResult]


class _CostPage(_Vendor):
    data: list[_CostBucket]
    has_more: bool = False
    next_page: str | None = None


def admin_client(secret: str, options: ClientOptions) -> VendorClient:
    """A client sending the Admin key the way the Admin API wants it."""
    headers = {"x-api-key": secret, "anthropic-version": "2023-06-01"}
    return options.client(PROVIDER, "ANTHROPIC", DEFAULT_URL, headers=headers, secrets=[secret])


def _rfc3339(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _window_params(since_ms: int, until_ms: int, page: str | None) -> list[tuple[str, Any]]:
    params: list[tuple[str, Any]] = [
        ("starting_at", _rfc3339(since_ms)),
        ("ending_at", _rfc3339(until_ms)),
        ("bucket_width", "1d"),
        ("limit", _PAGE_DAYS),
    ]
    return [*params, ("page", page)] if page else params


async def fetch_usage(client: VendorClient, since_ms: int, until_ms: int) -> list[UsageRow]:
    """Daily token sums per model between the two instants (every page)."""

    async def page(token: str | None) -> tuple[list[_UsageBucket], str | None]:
        params = [*_window_params(since_ms, until_ms, token), ("group_by[]", "model")]
        body = parse(_UsagePage, await client.get_json(USAGE_PATH, params), PROVIDER, "usage")
        return body.data, body.next_page if body.has_more else None

    buckets = await token_pages(page, PROVIDER)
    return [row for bucket in buckets for row in _usage_rows(bucket)]


def _usage_rows(bucket: _UsageBucket) -> list[UsageRow]:
    """One row per model of a bucket (results of one model are summed)."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for result in bucket.results:
        writes = result.cache_creation or _CacheCreation()
        total = sums[result.model or ""]
        total[0] += result.uncached_input_tokens
        total[1] += result.output_tokens
        total[2] += result.cache_read_input_tokens
        total[3] += writes.ephemeral_5m_input_tokens + writes.ephemeral_1h_input_tokens
    start = int(bucket.starting_at.timestamp() * 1000)
    minutes = int((bucket.ending_at - bucket.starting_at).total_seconds() // 60)
    return [
        UsageRow(start, minutes, model, inputs, outputs, reads, writes, 0)
        for model, (inputs, outputs, reads, writes, _) in sums.items()
    ]


async def fetch_costs(client: VendorClient, since_ms: int, until_ms: int) -> list[CostRow]:
    """Billed dollars per UTC day, model and cost type (every page; cents converted)."""

    async def page(token: str | None) -> tuple[list[_CostBucket], str | None]:
        params = [*_window_params(since_ms, until_ms, token), ("group_by[]", "description")]
        body = parse(_CostPage, await client.get_json(COST_PATH, params), PROVIDER, "cost_report")
        return body.data, body.next_page if body.has_more else None

    sums: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    for bucket in await token_pages(page, PROVIDER):
        day = bucket.starting_at.astimezone(UTC).date().isoformat()
        for item in bucket.results:
            key = (day, item.model or "", item.cost_type or "", item.currency.upper())
            sums[key] += item.amount
    return [
        CostRow(day, model, line, float(cents / 100), currency)
        for (day, model, line, currency), cents in sums.items()
    ]


REPORTS = AdminReports(
    PROVIDER,
    admin_client,
    USAGE_PATH,
    _UsagePage,
    _window_params,
    fetch_usage,
    fetch_costs,
    "usage_report",
)
"""This API for :func:`~tokenbuddy.sources.vendors.admin_reports.pull` and ``probe``."""
