"""A Copilot CLI ``session.shutdown``: the totals of the segment it ends, split over the
segment's (model, hour) records (see :mod:`tokenbuddy.sources.copilot.cli`)."""

from __future__ import annotations

from typing import Any

from tokenbuddy.core.records import COPILOT, UsageRecord
from tokenbuddy.sources.copilot import usage

ENTRYPOINT = "copilot-cli"
USAGE_FIELDS = ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens")
DETAIL_TYPES = ("input", "output", "cache_read", "cache_write")

Figures = list[Any]
"""[prompt, output, cache read, cache write, reasoning, premium requests, nano AIU or None]."""


def reported(data: dict[str, Any], model: str) -> dict[str, Figures]:
    """The shutdown's figures per model: ``modelMetrics``, else the session-wide
    ``tokenDetails`` under the current model. Session-wide premium requests and AI credits
    go to the model with the most tokens when no model carries its own."""
    metrics = data.get("modelMetrics")
    found: dict[str, Figures] = {}
    if isinstance(metrics, dict):
        for name, metric in metrics.items():
            if isinstance(metric, dict) and isinstance(metric.get("usage"), dict):
                found[usage.model_id(name) or name] = model_figures(metric)
    details = data.get("tokenDetails")
    if not found and isinstance(details, dict):
        counts = [detail_count(details.get(kind)) for kind in DETAIL_TYPES]
        found[usage.model_id(data.get("currentModel")) or model] = [*counts, 0, 0.0, None]
    if found:
        attach_session_billing(data, found)
    return found


def model_figures(metric: dict[str, Any]) -> Figures:
    """One ``modelMetrics`` entry as figures."""
    tokens = metric["usage"]
    requests = metric.get("requests")
    premium = usage.amount(requests.get("cost")) if isinstance(requests, dict) else None
    return [
        *(usage.count(tokens.get(field)) for field in USAGE_FIELDS),
        usage.count(tokens.get("reasoningTokens")),
        premium or 0.0,
        usage.amount(metric.get("totalNanoAiu")),
    ]


def detail_count(detail: Any) -> int:
    """The ``tokenCount`` of one ``tokenDetails`` entry."""
    return usage.count(detail.get("tokenCount")) if isinstance(detail, dict) else 0


def attach_session_billing(data: dict[str, Any], found: dict[str, Figures]) -> None:
    """Session-wide premium requests and AI credits, where no model has its own."""
    largest = max(found, key=lambda name: sum(found[name][:4]))
    premium = usage.amount(data.get("totalPremiumRequests"))
    if premium and not any(figures[5] for figures in found.values()):
        found[largest][5] = premium
    nano = usage.amount(data.get("totalNanoAiu"))
    if nano is not None and all(figures[6] is None for figures in found.values()):
        found[largest][6] = nano


def segment_totals(data: dict[str, Any], state: dict[str, Any]) -> dict[str, Figures]:
    """What the segment this shutdown ends used, per model; records the session's running
    totals in ``state["totals"]``."""
    now = reported(data, state["model"])
    before: dict[str, Figures] = state["totals"]
    if cumulative(now, before, state):
        delta = {model: minus(figures, before.get(model)) for model, figures in now.items()}
        state["totals"] = now
    else:
        delta = now
        state["totals"] = {m: plus(before.get(m), now.get(m)) for m in {*before, *now}}
    return {model: normalized(figures) for model, figures in delta.items()}


def cumulative(now: dict[str, Figures], before: dict[str, Figures], state: dict[str, Any]) -> bool:
    """Whether this shutdown repeats the earlier segments' usage (the build restores the
    session's totals on resume) rather than covering only its own process.

    A build that writes usage checkpoints restores them; otherwise the output tokens
    decide: a cumulative shutdown's output is the earlier totals' plus this segment's."""
    if not before or any(int(now.get(m, [0, 0])[1]) < int(before[m][1]) for m in before):
        return False
    if state["checkpoint"]:
        return True  # a build that checkpoints restores the totals on resume
    seen = {m: sum(hour[0] for hour in hours.values()) for m, hours in state["buckets"].items()}
    if not any(seen.values()):
        return False
    alone = sum(abs(now.get(m, [0, 0])[1] - out) for m, out in seen.items())
    added = sum(
        abs(now.get(m, [0, 0])[1] - before.get(m, [0, 0])[1] - out) for m, out in seen.items()
    )
    return bool(added < alone)


def minus(now: Figures, before: Figures | None) -> Figures:
    """``now`` less ``before``, never below zero."""
    if before is None:
        return list(now)
    nano = None if now[6] is None else max(now[6] - (before[6] or 0.0), 0.0)
    return [max(a - b, 0) for a, b in zip(now[:6], before[:6], strict=True)] + [nano]


def plus(one: Figures | None, other: Figures | None) -> Figures:
    """The sum of two figures, either of which may be missing."""
    if one is None or other is None:
        return list(one or other or [])
    nano = None if one[6] is None and other[6] is None else (one[6] or 0.0) + (other[6] or 0.0)
    return [a + b for a, b in zip(one[:6], other[:6], strict=True)] + [nano]


def normalized(figures: Figures) -> Figures:
    """Figures with the prompt count turned into input without the cache."""
    prompt, output, cache_read, cache_write = figures[:4]
    return [usage.fresh_input(prompt, cache_read, cache_write), output, *figures[2:]]


def segment_records(
    state: dict[str, Any], model: str, buckets: dict[str, list[int]], figures: Figures
) -> list[UsageRecord]:
    """The segment's records of one model with its totals split by the hours' output."""
    hours = sorted(buckets, key=int)
    weights = [buckets[hour][0] for hour in hours]
    outputs = split_output(figures[1], weights)
    columns = [usage.split_ints(figures[i], weights) for i in (0, 2, 3, 4)]
    premium = usage.split_floats(figures[5], weights)
    cost = (
        usage.split_floats(usage.credits_usd(figures[6]), weights)
        if figures[6] is not None
        else None
    )
    return [
        record(
            state, model, hour, buckets[hour][1],
            [columns[0][i], outputs[i], columns[1][i], columns[2][i], columns[3][i]],
            cost=None if cost is None else cost[i], premium=premium[i],
        )
        for i, hour in enumerate(hours)
    ]  # fmt: skip


def split_output(total: int, seen: list[int]) -> list[int]:
    """The segment's output over its hours: each keeps what its messages had and the last
    takes the rest (calls whose messages carried no count); scaled down if the shutdown
    reports less than the messages did."""
    if total >= sum(seen):
        return [*seen[:-1], seen[-1] + total - sum(seen)]
    return usage.split_ints(total, seen)


def record(
    state: dict[str, Any],
    model: str,
    hour: str,
    ts_ms: int,
    tokens: list[int],
    *,
    cost: float | None = None,
    premium: float = 0.0,
) -> UsageRecord:
    """One (segment, model, hour) record; ``tokens`` is [input, output, cache read, cache
    write, reasoning], input without the cache."""
    fresh, output, cache_read, cache_write, reasoning = tokens
    key = f"copilot-cli:{state['session']}:{state['segment']}:{model}:{hour}"
    return UsageRecord(
        key, COPILOT, ts_ms, state["session"], state["cwd"], model, fresh, output,
        cache_write, 0, cache_read, min(reasoning, output), 0, "", "", False, "", "",
        ENTRYPOINT, cost, premium,
    )  # fmt: skip
