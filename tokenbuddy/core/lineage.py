"""Cache lineages: the threads of a session that each build a prompt cache of their own.

A session's main thread is one lineage and each subagent another: every subagent
starts with a cache of its own, and a full write. The runaway detectors follow the
lineages request by request; the tips group a window's requests by them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from tokenbuddy.core.units import MINUTE_MS

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tokenbuddy.core.records import UsageRecord

MAIN_THREAD = ""
SIDECHAIN_THREAD = "subagents"
"""The one lineage of subagent work logged without an agent id."""
CACHE_WARM_GAP_MS = 5 * MINUTE_MS
"""A gap shorter than this between a lineage's requests keeps a 5-minute cache warm."""


def lineage_thread(agent_id: str, is_sidechain: bool) -> str:
    """Which lineage of its session a request belongs to: its subagent's, else the main
    thread's."""
    return agent_id or (SIDECHAIN_THREAD if is_sidechain else MAIN_THREAD)


def lineages(records: Iterable[UsageRecord]) -> list[list[UsageRecord]]:
    """Records grouped by cache lineage, each in time order."""
    grouped: dict[tuple[str, str, str], list[UsageRecord]] = defaultdict(list)
    for record in records:
        thread = lineage_thread(record.agent_id, record.is_sidechain)
        grouped[(record.source, record.session_id, thread)].append(record)
    return [sorted(group, key=lambda r: r.ts_ms) for group in grouped.values()]
