"""Pricing requests with the genai-prices database, fast enough for the hot path.

A general ``calc_price`` call costs tens of microseconds, which adds up to
seconds over a large history. Prices only change on dated boundaries, and
within one period a request's cost is linear in its token counts (once the
long-context tier it falls in is known). So each (model, price context) is
resolved once into a :class:`PriceSchedule`: for every period, the per-token
price of each token kind in each tier, found by probing ``calc_price`` with
unit usages. Pricing a request is then a bisect and five multiplications.

Schedules serialise to JSON so the ledger can cache them: a warm run never
imports genai-prices at all.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tokenbuddy.core.cursor_models import own_schedule, price_id
from tokenbuddy.core.records import (
    BILLED_BY_AGENT,
    CLAUDE_CODE,
    CODEX,
    CURSOR,
    CURSOR_LOCAL,
    UsageRecord,
)
from tokenbuddy.core.units import DAY_MS

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

_EPOCH = date(1970, 1, 1)
US_INFERENCE_MULTIPLIER = 1.1
"""Anthropic bills US-only inference (``inference_geo: us``) at 1.1x on Claude 4.6 and later."""

_PROVIDER_BY_SOURCE = {CLAUDE_CODE: "anthropic", CODEX: "openai"}
"""The vendor whose list prices a single-vendor agent's models take; agents that run any
vendor's models (Gemini CLI, Copilot, OpenCode...) name none, and the price database
finds the vendor from the model id."""
_SINGLE_VENDOR_DEFAULT = {CURSOR: "anthropic"}
BILLED_SQL = "({})".format(", ".join(f"'{name}'" for name in sorted(BILLED_BY_AGENT)))
_CLAUDE_VERSION = re.compile(r"claude-(?:opus|sonnet|haiku)-(\d+)(?:[-.](\d{1,2}))?(?![0-9])")


@dataclass(frozen=True, slots=True)
class UnitPrices:
    """USD per single token (or per web search) for one tier of one period."""

    input: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float
    output: float
    web_search: float

    def cost(self, record: UsageRecord) -> float:
        """The list-price cost of ``record`` at these unit prices."""
        return (
            record.input_tokens * self.input
            + record.cache_write_5m_tokens * self.cache_write_5m
            + record.cache_write_1h_tokens * self.cache_write_1h
            + record.cache_read_tokens * self.cache_read
            + record.output_tokens * self.output
            + record.web_search_requests * self.web_search
        )


@dataclass(frozen=True, slots=True)
class PricePeriod:
    """Prices in force from ``start_day`` (days since 1970-01-01, UTC) on."""

    start_day: int
    tiers: tuple[tuple[int, UnitPrices], ...]
    """(threshold, prices) pairs, ascending; a request whose total input exceeds a
    threshold pays that tier's price on every token (the "cliff" rule)."""

    def prices_for(self, total_input: int) -> UnitPrices:
        """The tier a request with ``total_input`` input tokens falls in."""
        chosen = self.tiers[0][1]
        for threshold, prices in self.tiers[1:]:
            if total_input > threshold:
                chosen = prices
        return chosen


class PriceSchedule:
    """Every price period of one model under one price context."""

    __slots__ = ("_starts", "model_id", "periods")

    def __init__(self, model_id: str, periods: tuple[PricePeriod, ...]) -> None:
        self.model_id = model_id
        """The price database's id for the model (``claude-sonnet-4-0``...)."""
        self.periods = periods
        self._starts = [period.start_day for period in periods]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PriceSchedule):
            return NotImplemented
        return (self.model_id, self.periods) == (other.model_id, other.periods)

    __hash__ = None  # type: ignore[assignment]

    def cost(self, record: UsageRecord) -> float:
        """The list-price cost of ``record`` at its own timestamp."""
        periods = self.periods
        if len(periods) == 1:
            period = periods[0]
        else:
            index = bisect.bisect_right(self._starts, record.ts_ms // DAY_MS) - 1
            period = periods[max(index, 0)]
        tiers = period.tiers
        if len(tiers) == 1:
            return tiers[0][1].cost(record)
        total_input = (
            record.input_tokens
            + record.cache_write_5m_tokens
            + record.cache_write_1h_tokens
            + record.cache_read_tokens
        )
        return period.prices_for(total_input).cost(record)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form, for the ledger's price cache."""
        return {
            "model_id": self.model_id,
            "periods": [
                [p.start_day, [[t, prices_list(u)] for t, u in p.tiers]] for p in self.periods
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PriceSchedule:
        """Rebuild a schedule written by :meth:`to_json`."""
        periods = tuple(
            PricePeriod(int(start), tuple((int(t), UnitPrices(*u)) for t, u in tiers))
            for start, tiers in data["periods"]
        )
        return cls(str(data["model_id"]), periods)


def prices_list(prices: UnitPrices) -> list[float]:
    return [
        prices.input,
        prices.cache_write_5m,
        prices.cache_write_1h,
        prices.cache_read,
        prices.output,
        prices.web_search,
    ]


def provider_for(source: str) -> str:
    """The price database provider for a source's requests."""
    return _PROVIDER_BY_SOURCE.get(source, _SINGLE_VENDOR_DEFAULT.get(source, ""))


def price_context_for(record: UsageRecord) -> str:
    """The price variant a request selects; ``""`` for standard pricing."""
    return "fast" if record.speed == "fast" else ""


def geo_multiplier(record: UsageRecord) -> float:
    """1.1 for US-only inference on Claude 4.6 and later models, else 1."""
    if record.inference_geo != "us":
        return 1.0
    return us_multiplier(record.model)


def us_multiplier(model: str) -> float:
    """What US-only inference multiplies a request of ``model`` by."""
    match = _CLAUDE_VERSION.search(model)
    if match is None:
        return 1.0
    version = (int(match.group(1)), int(match.group(2) or 0))
    return US_INFERENCE_MULTIPLIER if version >= (4, 6) else 1.0


def transcript_schedule_key(model: str, source: str, speed: str) -> tuple[str, str, str]:
    """The (model, provider, context) schedule a transcript's request is priced with."""
    if source == CURSOR_LOCAL:
        raise ValueError("Cursor estimates are priced with their own schedule")
    return model, provider_for(source), "fast" if speed == "fast" else ""


def build_schedule(model: str, provider: str, context: str) -> PriceSchedule | None:
    """Resolve ``model`` into a :class:`PriceSchedule`, or None when it has no known price.

    ``context`` is ``""`` or ``"fast"`` (fast mode). Imports genai-prices, which
    takes a quarter of a second: call it only for combinations not cached yet.
    """
    from genai_prices import Usage, types
    from genai_prices.data_snapshot import get_snapshot

    try:
        found_provider, info = get_snapshot().find_provider_model(
            model, None, provider or None, None
        )
    except LookupError:
        return None
    price_context = {"speed": "fast"} if context == "fast" else None
    periods = []
    for start in _period_starts(info, types):
        moment = datetime(start.year, start.month, start.day, 12, tzinfo=UTC)

        def total(usage: Usage, moment: datetime = moment) -> Decimal:
            calc = info.calc_price(
                usage, found_provider, genai_request_timestamp=moment, price_context=price_context
            )
            return Decimal(calc.total_price)

        thresholds = _tier_thresholds(info.get_prices(moment, price_context), types)
        tiers = tuple((t, _probe_unit_prices(total, Usage, t)) for t in [-1, *thresholds])
        periods.append(PricePeriod((start - _EPOCH).days, tiers))
    return PriceSchedule(info.id, tuple(periods))


def _period_starts(info: Any, types: Any) -> list[date]:
    """The first day of the database and every dated price change of one model."""
    starts = {_EPOCH}
    conditionals = info.prices if isinstance(info.prices, list) else []
    constraints = [c.constraint for c in conditionals]
    constraints += [v.constraint for v in info.price_variants or ()]
    for constraint in constraints:
        if isinstance(constraint, types.StartDateConstraint):
            starts.add(constraint.start_date)
    return sorted(starts)


def _tier_thresholds(model_price: Any, types: Any) -> list[int]:
    """Every long-context tier threshold any of the model's prices uses."""
    thresholds: set[int] = set()
    for value in vars(model_price).values():
        if isinstance(value, types.TieredPrices):
            thresholds.update(tier.start for tier in value.tiers)
    return sorted(thresholds)


def _probe_unit_prices(total: Any, usage_type: Any, threshold: int) -> UnitPrices:
    """Per-token prices in the tier above ``threshold``, by differencing two calc_price calls."""
    base_input = threshold + 1 if threshold >= 0 else 0
    probes = {
        "input": {},
        "cache_write_5m": {"cache_write_tokens": 1, "cache_write_5m_tokens": 1},
        "cache_write_1h": {"cache_write_tokens": 1, "cache_write_1h_tokens": 1},
        "cache_read": {"cache_read_tokens": 1},
    }
    base = total(usage_type(input_tokens=base_input))
    found = {
        name: float(total(usage_type(input_tokens=base_input + 1, **extra)) - base)
        for name, extra in probes.items()
    }
    found["output"] = float(total(usage_type(input_tokens=base_input, output_tokens=1)) - base)
    found["web_search"] = float(total(usage_type(input_tokens=base_input, web_searches=1)) - base)
    return UnitPrices(**found)


class PriceBook:
    """Prices records, resolving each (model, provider, context) schedule once.

    ``cached`` holds schedules already known (from the ledger's cache); new ones
    are built on demand and listed in :attr:`new_schedules` so the caller can
    store them. ``None`` marks a model with no known price.
    """

    def __init__(
        self,
        cached: Mapping[tuple[str, str, str], PriceSchedule | None] | None = None,
        build: Callable[[str, str, str], PriceSchedule | None] | None = None,
    ):
        self._build = build or build_schedule
        """Builds a missing schedule: :func:`build_schedule`, or a helper process's copy."""
        self._schedules: dict[tuple[str, str, str], PriceSchedule | None] = dict(cached or {})
        self.new_schedules: dict[tuple[str, str, str], PriceSchedule | None] = {}
        self._by_record: dict[tuple[str, str, str], PriceSchedule | None] = {}
        """(model, source, speed) -> schedule: the per-request lookup, one dict probe."""

    def has_schedule(self, model: str, provider: str, context: str) -> bool:
        """Whether the schedule is known already (cached or built)."""
        return (model, provider, context) in self._schedules

    def schedule(self, model: str, provider: str, context: str) -> PriceSchedule | None:
        """The schedule for one combination, building it on first use."""
        key = (model, provider, context)
        try:
            return self._schedules[key]
        except KeyError:
            built = self._build(model, provider, context)
            self._schedules[key] = self.new_schedules[key] = built
            return built

    def cost(self, record: UsageRecord) -> float | None:
        """The cost of one request in USD: what the agent says was billed for the sources
        that bill by their own units (:data:`BILLED_BY_AGENT`), else the list price; None
        when neither is known (an unpriced model)."""
        if record.reported_cost_usd is not None and record.source in BILLED_BY_AGENT:
            return record.reported_cost_usd
        return self.list_cost(record)

    def list_cost(self, record: UsageRecord) -> float | None:
        """The list-price cost of one request in USD, or None when its model is unpriced."""
        key = (record.model, record.source, record.speed)
        try:
            schedule = self._by_record[key]
        except KeyError:
            schedule = self._resolve(record)
            self._by_record[key] = schedule
        if schedule is None:
            return None
        cost = schedule.cost(record)
        return cost * geo_multiplier(record) if record.inference_geo else cost

    def transcript_schedule(self, model: str, source: str, speed: str) -> PriceSchedule | None:
        """The schedule a transcript's request with this (model, source, speed) is priced with."""
        return self.schedule(*transcript_schedule_key(model, source, speed))

    def _resolve(self, record: UsageRecord) -> PriceSchedule | None:
        """The schedule a request's (model, source, speed) is priced with."""
        if record.source in (CURSOR, CURSOR_LOCAL):
            schedule = self._cursor_schedule(record.model)
            return _KnownTokensOnly(schedule) if record.source == CURSOR_LOCAL else schedule
        return self.schedule(record.model, provider_for(record.source), price_context_for(record))

    def _cursor_schedule(self, model: str) -> PriceSchedule | None:
        """A Cursor model name's schedule: Cursor's own price, else its alias's list price."""
        own = own_schedule(model)
        mapped = price_id(model)
        if own is not None or mapped is None:
            return None if own is None else PriceSchedule.from_json(own)
        return self.schedule(mapped[1], mapped[0], "")


class _KnownTokensOnly(PriceSchedule):
    """A Cursor estimate's schedule: a request whose tokens Cursor did not record has no
    cost (None, listed as unknown), never $0."""

    __slots__ = ("_inner",)

    def __init__(self, inner: PriceSchedule | None) -> None:
        super().__init__(inner.model_id if inner else "", inner.periods if inner else ())
        self._inner = inner

    def cost(self, record: UsageRecord) -> float | None:  # type: ignore[override]
        if self._inner is None or record.total_tokens == 0:
            return None
        return self._inner.cost(record)
