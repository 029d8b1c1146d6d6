"""Tips from the ledger: the window's requests and prompts (:mod:`tokenbuddy.store.tips_window`)
handed to :mod:`tokenbuddy.core.tips`, re-priced with the cached price schedules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tokenbuddy import clock
from tokenbuddy.core.report import local_day_bounds
from tokenbuddy.core.tips import Tip, find_tips
from tokenbuddy.core.units import DAY_MS
from tokenbuddy.errors import ConfigError
from tokenbuddy.store.tips_window import window_prompts, window_requests

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date
    from zoneinfo import ZoneInfo

    from tokenbuddy.core.records import UsageRecord
    from tokenbuddy.store.ledger import Ledger


def ledger_tips(
    ledger: Ledger,
    *,
    since_ms: int,
    now_ms: int,
    reprice: Callable[[UsageRecord], float | None],
) -> list[Tip]:
    """The tips for the window from ``since_ms`` to ``now_ms``, the largest saving first."""
    return find_tips(
        window_requests(ledger, since_ms, now_ms),
        window_prompts(ledger, since_ms, now_ms),
        now_ms=now_ms,
        window_days=(now_ms - since_ms) / DAY_MS,
        reprice=reprice,
    )


def priced_tips(ledger: Ledger, since_ms: int, now_ms: int) -> list[Tip]:
    """The tips, re-priced with the ledger's cached price schedules (new ones are saved)."""
    from tokenbuddy.core.pricing import PriceBook
    from tokenbuddy.services.ingest import price_database_version

    version = price_database_version()
    book = PriceBook(ledger.price_cache(version))
    tips = ledger_tips(ledger, since_ms=since_ms, now_ms=now_ms, reprice=book.cost)
    if book.new_schedules:
        ledger.save_prices(version, book.new_schedules)
    return tips


DEFAULT_WINDOW_DAYS = 14
MIN_WINDOW_DAYS = 7


@dataclass(frozen=True, slots=True)
class TipsRun:
    """The tips for a window ending now, the window, and what to warn of."""

    tips: list[Tip]
    since_ms: int
    now_ms: int
    """The window's end: now, or the end of ``--until``."""
    zone: ZoneInfo
    """The zone the window's days are counted in."""
    problems: list[str]
    """Time zone, settings and log-dir problems, files that could not be read, and why
    the window holds no request when it holds none."""


def window_start(since: date | None, now_ms: int, zone: ZoneInfo) -> int:
    """The window's first moment: local midnight of ``since``, else 14 days before
    ``now_ms`` (the window's end)."""
    if since is None:
        return now_ms - DEFAULT_WINDOW_DAYS * DAY_MS
    start, _ = local_day_bounds(since, None, zone)
    assert start is not None
    if now_ms - start < MIN_WINDOW_DAYS * DAY_MS:
        raise ConfigError(
            f"--since must be at least {MIN_WINDOW_DAYS} days before the window's end "
            "(today, or --until): a shorter window would turn a few requests into a "
            "monthly saving"
        )
    return start


def window_end(until: date | None, now_ms: int, zone: ZoneInfo) -> int:
    """The window's end: the midnight after ``until``, but never later than now."""
    if until is None:
        return now_ms
    _, end = local_day_bounds(None, until, zone)
    assert end is not None
    return min(end, now_ms)


def tips_since(
    since: date | None,
    *,
    until: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TipsRun:
    """Bring the ledger up to date, then find the tips from ``since`` (default: two weeks
    before the end) to the end of ``until`` (default: now)."""
    from tokenbuddy.services.empty_result import explain_empty
    from tokenbuddy.services.session import open_session
    from tokenbuddy.store.timezone import configured_zone, zone_notice

    session = open_session(settings=True, progress=progress)
    with session.ledger:
        settings = session.settings
        assert settings is not None
        zone, zone_problems = configured_zone(settings.timezone)
        end_ms = window_end(until, clock.now_ms(), zone)
        since_ms = window_start(since, end_ms, zone)
        tips = priced_tips(session.ledger, since_ms, end_ms)
        empty = (
            []
            if tips
            else explain_empty(
                session.ledger, session.roots, zone=zone, since_ms=since_ms, until_ms=end_ms
            )
        )
    problems = [
        *zone_problems,
        *zone_notice(settings.timezone),
        *session.problems,
        *session.summary.errors,
    ]
    return TipsRun(tips, since_ms, end_ms, zone, [*problems, *empty])
