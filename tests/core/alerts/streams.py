"""Realistic request streams for the runaway-spend detectors, priced at list prices."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from tokenbuddy.core.alerts import Alert, AlertEngine, PromptEvent, RequestEvent

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
T0 = int(datetime(2026, 5, 11, 9, tzinfo=UTC).timestamp() * 1000)  # a Monday morning
PER_M = 1e-6


@dataclass(frozen=True)
class Model:
    """List prices in $/M tokens."""

    name: str
    input: float
    write: float
    read: float
    output: float


OPUS = Model("claude-opus-4-6", 5.0, 6.25, 0.50, 25.0)
SONNET = Model("claude-sonnet-4-6", 3.0, 3.75, 0.30, 15.0)
HAIKU = Model("claude-haiku-4-5", 1.0, 1.25, 0.10, 5.0)

Event = RequestEvent | PromptEvent


def request(
    ts: int,
    *,
    write: int,
    read: int,
    model: Model = OPUS,
    session: str = "s1",
    output: int = 1_500,
    sidechain: bool = False,
    agent: str = "",
) -> RequestEvent:
    """One request priced at ``model``'s list prices, its cache-miss excess included."""
    uncached = 3
    cost = (
        uncached * model.input + write * model.write + read * model.read + output * model.output
    ) * PER_M
    excess = (uncached * (model.input - model.read) + write * (model.write - model.read)) * PER_M
    return RequestEvent(
        ts,
        session,
        "/home/u/app",
        model.name,
        cost,
        uncached,
        write,
        read,
        output,
        sidechain,
        agent,
        excess,
    )


def healthy(
    start: int,
    count: int,
    *,
    every_s: int = 30,
    context: int = 40_000,
    model: Model = OPUS,
    session: str = "s1",
    sidechain: bool = False,
    agent: str = "",
) -> list[RequestEvent]:
    """A normal thread: a first full write, then reads of the context plus ~800 new tokens."""
    events = []
    for i in range(count):
        ts = start + i * every_s * SECOND
        write, read = (context, 0) if i == 0 else (800, context)
        events.append(
            request(
                ts,
                write=write,
                read=read,
                model=model,
                session=session,
                sidechain=sidechain,
                agent=agent,
            )
        )
        if i > 0:
            context += 800
    return events


def costing(
    ts: int,
    session: str,
    usd: float,
    *,
    project: str = "/p",
    model: Model = OPUS,
    sidechain: bool = False,
    agent: str = "",
) -> RequestEvent:
    """A request with a healthy cache that cost ``usd``."""
    return RequestEvent(
        ts, session, project, model.name, usd, 3, 600, 60_000, 900, sidechain, agent
    )


def broken(
    start: int, count: int, *, every_s: int = 30, write: int = 125_000, session: str = "s1"
) -> list[RequestEvent]:
    """A harness that changes the prompt prefix: every request rewrites the whole context."""
    return [
        request(start + i * every_s * SECOND, write=write, read=0, session=session)
        for i in range(count)
    ]


def replay(engine: AlertEngine, events: Iterable[Event]) -> list[Alert]:
    """Feed events in time order (a prompt before a request at the same instant), evaluating
    after each as the live app does; return every alert announced."""
    fired: list[Alert] = []
    for event in sorted(events, key=lambda e: (e.ts_ms, isinstance(e, RequestEvent))):
        if isinstance(event, RequestEvent):
            engine.feed_request(event)
        else:
            engine.feed_prompt(event)
        fired += engine.evaluate(event.ts_ms)
    return fired


def kinds(alerts: Iterable[Alert], only: str | None = None) -> list[tuple[str, str]]:
    return [(a.kind, a.severity) for a in alerts if only is None or a.kind == only]


def spent_until(events: Iterable[RequestEvent], until: int, since: int = 0) -> float:
    return sum(e.cost_usd or 0.0 for e in events if since <= e.ts_ms <= until)


def working_days(days: int, usd_per_hour: float, *, end: int = T0) -> list[RequestEvent]:
    """``days`` days before ``end`` of 09:00-17:00 work at ``usd_per_hour``, a request a minute."""
    per_request = usd_per_hour / 60
    events = []
    for day in range(days, 0, -1):
        start = end - day * DAY
        for minute in range(8 * 60):
            events.append(costing(start + minute * MINUTE, f"d{day}", per_request))
    return events


def steady(start: int, minutes: int, usd_per_hour: float, session: str) -> list[RequestEvent]:
    """A request every 30 s for ``minutes`` at ``usd_per_hour``."""
    return [
        costing(start + i * 30 * SECOND, session, usd_per_hour / 120, project="/home/u/api")
        for i in range(minutes * 2)
    ]
