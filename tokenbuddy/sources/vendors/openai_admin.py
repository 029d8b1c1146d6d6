"""OpenAI organisation Usage and Costs API (an Admin key, ``sk-admin-...``).

Times are Unix seconds; ``input_tokens`` includes the cached tokens (converted
here to tokenbuddy's uncached meaning); ``amount.value`` is US dollars, sometimes
serialised as a string.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from tokenbuddy.core.vendor_usage import CostRow, UsageRow
from tokenbuddy.sources.vendors.admin_reports import AdminReports
from tokenbuddy.sources.vendors.http import ClientOptions, VendorClient, parse, token_pages

PROVIDER = "openai"
DEFAULT_URL = "https://api.openai.com"
USAGE_PATH = "/v1/organization/usage/completions"
COST_PATH = "/v1/organization/costs"
_PAGE_DAYS = 31


class _Vendor(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _UsageResult(_Vendor):
    input_tokens: int
    output_tokens: int
    input_cached_tokens: int = 0
    num_model_requests: int = 0
    model: str | None = None


class _UsageBucket(_Vendor):
    start_time: int
    end_time: int
    results: list[_UsageResult]


class _UsagePage(_Vendor):
    data: list[_UsageBucket]
    has_more: bool = False
    next_page: str | None = None


class _Amount(_Vendor):
    value: Decimal
    """US dollars; pydantic accepts the number or the string form."""
    currency: str = "usd"


class _CostResult(_Vendor):
    amount: _Amount
    line_item: str | None = None


class _CostBucket(_Vendor):
    start_time: int
    results: list[_CostResult]


class _CostPage(_Vendor):
    data: list[_CostBucket]
    has_more: bool = False
    next_page: str | None = None


def admin_client(secret: str, options: ClientOptions) -> VendorClient:
    """A client sending the Admin key as a bearer token."""
    headers = {"Authorization": f"Bearer {secret}"}
    return options.client(PROVIDER, "OPENAI", DEFAULT_URL, headers=headers, secrets=[secret])


def _params(since_ms: int, until_ms: int, page: str | None) -> list[tuple[str, Any]]:
    params: list[tuple[str, Any]] = [
        ("start_time", since_ms // 1000),
        ("end_time", until_ms // 1000),
        ("bucket_width", "1d"),
        ("limit", _PAGE_DAYS),
    ]
    return [*params, ("page", page)] if page else params


def line_item_model(line_item: str | None) -> str:
    """The model a cost line item names (``gpt-4o-2024-08-06, input``), else empty."""
    if not line_item or "," not in line_item:
        return ""
    return line_item.split(",", 1)[0].strip()


async def fetch_usage(client: VendorClient, since_ms: int, until_ms: int) -> list[UsageRow]:
    """Daily completions usage per model (every page)."""

    async def page(token: str | None) -> tuple[list[_UsageBucket], str | None]:
        params = [*_params(since_ms, until_ms, token), ("group_by", "model")]
        body = parse(_UsagePage, await client.get_json(USAGE_PATH, params), PROVIDER, "usage")
        return body.data, body.next_page if body.has_more else None

    rows = []
    for bucket in await token_pages(page, PROVIDER):
        minutes = (bucket.end_time - bucket.start_time) // 60
        for result in bucket.results:
            cached = min(result.input_cached_tokens, result.input_tokens)
            rows.append(
                UsageRow(
                    bucket.start_time * 1000,
                    minutes,
                    result.model or "",
                    result.input_tokens - cached,
                    result.output_tokens,
                    cached,
                    0,
                    result.num_model_requests,
                )
            )
    return rows


async def fetch_costs(client: VendorClient, since_ms: int, until_ms: int) -> list[CostRow]:
    """Billed dollars per UTC day and line item (every page)."""

    async def page(token: str | None) -> tuple[list[_CostBucket], str | None]:
        params = [*_params(since_ms, until_ms, token), ("group_by", "line_item")]
        body = parse(_CostPage, await client.get_json(COST_PATH, params), PROVIDER, "costs")
        return body.data, body.next_page if body.has_more else None

    sums: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    for bucket in await token_pages(page, PROVIDER):
        day = datetime.fromtimestamp(bucket.start_time, UTC).date().isoformat()
        for item in bucket.results:
            line = item.line_item or ""
            sums[(day, line_item_model(line), line, item.amount.currency.upper())] += (
                item.amount.value
            )
    return [CostRow(*key[:3], float(value), key[3]) for key, value in sums.items()]


REPORTS = AdminReports(
    PROVIDER,
    admin_client,
    USAGE_PATH,
    _UsagePage,
    _params,
    fetch_usage,
    fetch_costs,
    "usage/completions",
)
"""This API for :func:`~tokenbuddy.sources.vendors.admin_reports.pull` and ``probe``."""
