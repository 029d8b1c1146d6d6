"""What the Anthropic and OpenAI Admin usage APIs share: a day-snapped pull of the usage
and cost reports, and a one-bucket probe of the usage report.

Each API's module describes itself in an :class:`AdminReports` (its client, the usage
page's shape and parameters, its two report readers); the pull and the probe are
written once here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from pydantic import BaseModel

from tokenbuddy.core.units import DAY_MS
from tokenbuddy.core.vendor_usage import CostRow, PullResult, UsageRow
from tokenbuddy.sources.vendors.http import ClientOptions, VendorClient, parse


class AdminReports(NamedTuple):
    """One Admin API: how to reach it and read its usage and cost reports."""

    provider: str
    client: Callable[[str, ClientOptions], VendorClient]
    """A client holding the Admin key the way this API wants it."""
    usage_path: str
    usage_page: type[BaseModel]
    """The usage report page's model (its ``data`` holds the buckets)."""
    window_params: Callable[[int, int, str | None], list[tuple[str, Any]]]
    """Query parameters for a window (the first three: start, end, bucket width)."""
    fetch_usage: Callable[[VendorClient, int, int], Awaitable[list[UsageRow]]]
    fetch_costs: Callable[[VendorClient, int, int], Awaitable[list[CostRow]]]
    usage_report: str
    """How the probe names the usage report in what it says."""


async def pull(
    api: AdminReports, secret: str, since_ms: int, until_ms: int, options: ClientOptions
) -> PullResult:
    """Usage and costs from ``since_ms`` (snapped to its UTC day) to ``until_ms``."""
    since_ms -= since_ms % DAY_MS
    async with api.client(secret, options) as client:
        usage = await api.fetch_usage(client, since_ms, until_ms)
        costs = await api.fetch_costs(client, since_ms, until_ms)
    return PullResult(api.provider, since_ms, until_ms, usage=usage, costs=costs)


async def probe(api: AdminReports, secret: str, now_ms: int, options: ClientOptions) -> str:
    """One small call proving the key works (and, for OpenAI, has the usage scope)."""
    since_ms = now_ms - now_ms % DAY_MS - DAY_MS
    async with api.client(secret, options) as client:
        params = [*api.window_params(since_ms, now_ms, None)[:3], ("limit", 1)]
        payload = await client.get_json(api.usage_path, params)
        page = parse(api.usage_page, payload, api.provider, "usage")
    return f"{api.usage_report} answered ({len(getattr(page, 'data', ()))} bucket(s))"
