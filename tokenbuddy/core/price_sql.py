"""Pricing in SQL: the expression a bulk load prices its staged rows with as it merges them.

A bulk load's parsing processes never need the price database: the merge prices every row
with one SQL expression that equals :meth:`PriceBook.cost` bit for bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tokenbuddy.core.pricing import BILLED_SQL, prices_list, us_multiplier
from tokenbuddy.core.units import DAY_MS

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tokenbuddy.core.pricing import PriceBook, PricePeriod, PriceSchedule


def cost_sql(book: PriceBook, keys: Iterable[tuple[str, str, str]]) -> tuple[str, list[Any]]:
    """An SQL expression over ``requests`` columns that equals :meth:`PriceBook.cost`, and its
    parameters, for rows whose (model, source, speed) is among ``keys``.

    A bulk load prices its rows as it merges them, so its parsing processes
    never need the price database. The result is bit for bit what :meth:`PriceBook.cost`
    gives: the same products of the same doubles (prices are bound, not
    printed), summed in the same order. Cursor estimates are not supported.
    """
    by_model: dict[str, list[tuple[str, str, PriceSchedule]]] = {}
    for model, source, speed in sorted(keys):
        schedule = book.transcript_schedule(model, source, speed)
        if schedule is not None and schedule.periods:
            by_model.setdefault(model, []).append((source, speed, schedule))
    # One comparison of the model per candidate, then its few (source, speed) variants.
    models: list[str] = []
    params: list[Any] = []
    for model, variants in by_model.items():
        params.append(model)
        whens: list[str] = []
        multiplier = us_multiplier(model)
        for source, speed, schedule in variants:
            if multiplier != 1.0:
                params += [source, speed]
                whens.append("WHEN source = ? AND speed = ? AND inference_geo = 'us'")
                whens.append(f"THEN {_schedule_sql(schedule, params)} * ?")
                params.append(multiplier)
            params += [source, speed]
            whens.append(f"WHEN source = ? AND speed = ? THEN {_schedule_sql(schedule, params)}")
        models.append(f"WHEN ? THEN (CASE {' '.join(whens)} END)")
    listed = f"(CASE model {' '.join(models)} END)" if models else "NULL"
    billed = f"source IN {BILLED_SQL} AND reported_cost_usd IS NOT NULL"
    return f"(CASE WHEN {billed} THEN reported_cost_usd ELSE {listed} END)", params


_TOTAL_INPUT_SQL = (
    "(input_tokens + cache_write_5m_tokens + cache_write_1h_tokens + cache_read_tokens)"
)
_UNIT_COST_SQL = (
    "(input_tokens * ? + cache_write_5m_tokens * ? + cache_write_1h_tokens * ?"
    " + cache_read_tokens * ? + output_tokens * ? + web_search_requests * ?)"
)


def _schedule_sql(schedule: PriceSchedule, params: list[Any]) -> str:
    """:meth:`PriceSchedule.cost` in SQL: the newest period started by the request's day."""
    periods = schedule.periods
    whens = []
    for period in reversed(periods[1:]):
        params.append(period.start_day * DAY_MS)
        whens.append(f"WHEN ts_ms >= ? THEN {_period_sql(period, params)}")
    first = _period_sql(periods[0], params)
    return f"(CASE {' '.join(whens)} ELSE {first} END)" if whens else first


def _period_sql(period: PricePeriod, params: list[Any]) -> str:
    """:meth:`PricePeriod.prices_for` in SQL: the last tier whose threshold is exceeded."""
    tiers = period.tiers
    whens = []
    for threshold, prices in reversed(tiers[1:]):
        params.append(threshold)
        params += prices_list(prices)
        whens.append(f"WHEN {_TOTAL_INPUT_SQL} > ? THEN {_UNIT_COST_SQL}")
    params += prices_list(tiers[0][1])
    return f"(CASE {' '.join(whens)} ELSE {_UNIT_COST_SQL} END)" if whens else _UNIT_COST_SQL
