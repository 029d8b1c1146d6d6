"""Pricing while ingesting: the price database's version, price books, repricing.

Cached schedules are valid for one version of the installed price database; when
it changes, every stored request is priced again.
"""

from __future__ import annotations

import os
from operator import itemgetter

from tokenbuddy.core.pricing import PriceBook, PriceSchedule
from tokenbuddy.core.records import UsageRecord
from tokenbuddy.services import price_loader
from tokenbuddy.store.ledger import Ledger

ScheduleCache = dict[tuple[str, str, str], PriceSchedule | None]
PriceKey = tuple[str, str, str]
"""A record's (model, source, speed): what decides the schedule it is priced with."""
price_key = itemgetter(*(UsageRecord._fields.index(name) for name in ("model", "source", "speed")))


def price_book(cached: ScheduleCache) -> PriceBook:
    """A price book that builds missing schedules through the price helper, if one runs."""
    loader = price_loader.active()
    return PriceBook(cached, build=None if loader is None else loader.build)


def price_database_version() -> str:
    """The installed genai-prices version: cached schedules are only valid for it.

    Found from the package's dist-info directory name without importing either
    genai-prices or importlib.metadata (both slow), which the warm path cannot afford.
    """
    import importlib.util

    spec = importlib.util.find_spec("genai_prices")
    if spec is not None and spec.origin:
        site = os.path.dirname(os.path.dirname(spec.origin))
        for name in os.listdir(site):
            if name.startswith("genai_prices-") and name.endswith(".dist-info"):
                return name.removeprefix("genai_prices-").removesuffix(".dist-info")
    from importlib.metadata import version

    return version("genai-prices")


def reprice_if_needed(ledger: Ledger) -> None:
    """Re-price every request when the installed price database changed."""
    version = price_database_version()
    if not ledger.needs_repricing(version):
        return
    book = price_book({})
    ledger.set_costs((book.cost(record), record.dedup_key) for record in ledger.all_requests())
    ledger.save_prices(version, book.new_schedules)


def load_prices() -> None:
    """Import the price database, which only this process needs (it prices as it merges).

    Done once the workers are forked and busy, so none of them waits for it or
    inherits it, and no process forks after importing it.
    """
    import genai_prices.data  # noqa: F401
