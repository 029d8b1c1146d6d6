"""Which copy of a request the ledger keeps, and which requests count.

Deduplication happens by primary key, the request's dedup key:

- Claude Code keeps the copy of a request with the largest token total (early
  streamed lines carry partial output counts); on a tie it prefers the main
  conversation's copy over a replay. So do the agents whose documents are rewritten
  as a call completes (Gemini CLI, Copilot, OpenCode, Qwen Code, Cline). Attribution
  (session, project, subagent) comes from the main conversation's copy whenever one
  was seen.
- Codex keys a request by its cumulative totals, so a forked rollout that
  replays history collides with the original; the smaller delta is the true one.
- Either way, a copy that knows how its session was started (its entrypoint) fills
  in a stored copy that does not: a ledger written before entrypoints were read gets
  them when the logs are read again, without any count changing.

Across sources, billed Cursor rows and Cursor's local estimates describe the same
requests: :data:`COUNTED` keeps one of the two in every total.
"""

from __future__ import annotations

from typing import Any

from tokenbuddy.core.records import CODEX, CURSOR, CURSOR_LOCAL, UsageRecord

SMALLEST_COPY_SOURCES = (CODEX, CURSOR, CURSOR_LOCAL)
"""The sources whose copies of a request keep the smallest (:data:`KEEP_SMALLEST`); every
other source keeps the largest (:data:`KEEP_LARGEST`): Claude Code's streamed lines, and
the documents other agents rewrite as a call completes, only ever grow a call's counts."""
SMALLEST_COPY_SQL = "({})".format(", ".join(f"'{name}'" for name in SMALLEST_COPY_SOURCES))
""":data:`SMALLEST_COPY_SOURCES` as an SQL list."""


def keeps_smallest(source: str) -> bool:
    """Whether a source's copies of a request settle on the smallest."""
    return source in SMALLEST_COPY_SOURCES


RECORD_COLUMNS = (
    *UsageRecord._fields,
    "cost_usd",
    "total_tokens",
)
"""The ``requests`` table's columns, in the order :func:`request_row` fills them."""
_INSERT = "INSERT INTO requests ({}) VALUES ({})".format(
    ", ".join(RECORD_COLUMNS), ", ".join("?" * len(RECORD_COLUMNS))
)
_TOKEN_COLUMNS = (
    "ts_ms",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "reasoning_tokens",
    "web_search_requests",
    "speed",
    "inference_geo",
    "cost_usd",
    "total_tokens",
    "reported_cost_usd",
    "billing_units",
)
_ATTRIBUTION_COLUMNS = (
    "session_id",
    "project",
    "is_sidechain",
    "agent_id",
    "agent_type",
)
_LARGER = (
    "(excluded.total_tokens > requests.total_tokens OR (excluded.total_tokens = "
    "requests.total_tokens AND requests.is_sidechain = 1 AND excluded.is_sidechain = 0))"
)
_MAIN_COPY = "(requests.is_sidechain = 1 AND excluded.is_sidechain = 0)"
_SMALLER = "excluded.total_tokens < requests.total_tokens"
_FILLS_ENTRYPOINT = "(requests.entrypoint = '' AND excluded.entrypoint != '')"


def _entrypoint(replaces: str) -> str:
    """The SET term of ``entrypoint``: the new copy's when it has one and either
    ``replaces`` holds or the stored copy has none."""
    return (
        "entrypoint = CASE WHEN excluded.entrypoint != '' AND (requests.entrypoint = ''"
        f" OR {replaces}) THEN excluded.entrypoint ELSE requests.entrypoint END"
    )


KEEP_LARGEST = (
    " ON CONFLICT(dedup_key) DO UPDATE SET "
    + ", ".join(
        [
            f"{c} = CASE WHEN {_LARGER} THEN excluded.{c} ELSE requests.{c} END"
            for c in _TOKEN_COLUMNS
        ]
        + [
            f"{c} = CASE WHEN {_MAIN_COPY} THEN excluded.{c} ELSE requests.{c} END"
            for c in _ATTRIBUTION_COLUMNS
        ]
        + [_entrypoint(_MAIN_COPY)]
    )
    + f" WHERE {_LARGER} OR {_MAIN_COPY} OR {_FILLS_ENTRYPOINT}"
)
"""The upsert clause of the sources not in :data:`SMALLEST_COPY_SOURCES`: the larger
copy's figures, the main conversation's attribution, an entrypoint from whichever copy has one."""
KEEP_SMALLEST = (
    " ON CONFLICT(dedup_key) DO UPDATE SET "
    + ", ".join(
        [
            f"{c} = CASE WHEN {_SMALLER} THEN excluded.{c} ELSE requests.{c} END"
            for c in RECORD_COLUMNS
            if c not in {"dedup_key", "entrypoint"}
        ]
        + [_entrypoint(_SMALLER)]
    )
    + f" WHERE {_SMALLER} OR {_FILLS_ENTRYPOINT}"
)
"""The upsert clause of :data:`SMALLEST_COPY_SOURCES`: the smaller copy, whole (an entrypoint from
whichever copy has one)."""
UPSERT_KEEP_LARGEST = _INSERT + KEEP_LARGEST
"""Insert one :func:`request_row`, or settle it with the stored copy (largest kept)."""
UPSERT_KEEP_SMALLEST = _INSERT + KEEP_SMALLEST
"""Insert one :func:`request_row`, or settle it with the stored copy (smallest kept)."""


def request_row(record: UsageRecord, cost: float | None) -> tuple[Any, ...]:
    """The ``requests`` table row for one priced request."""
    return (*record, cost, record.total_tokens)


BILLED_RANGES = "cursor_billed_ranges"
"""The periods billed Cursor rows cover: one row per merged range, ``[low_ms, high_ms]``."""
IN_BILLED_RANGE = (
    f"EXISTS (SELECT 1 FROM {BILLED_RANGES} WHERE low_ms <= ts_ms AND high_ms >= ts_ms)"
)
"""Whether a ``requests`` row's time lies inside a period billed Cursor rows cover."""
COUNTED = f"(source != 'cursor-local' OR NOT {IN_BILLED_RANGE})"
"""One request, counted once: a ``requests`` filter every total uses.

Billed Cursor rows (source ``cursor``: API events and imported CSV rows) and local
estimates (``cursor-local``) describe the same requests. Inside the period each import
or pull covers, the billed rows count and the estimates are left out; outside every such
period the estimates count, so an export of one week leaves the months around it to the
estimates, and the live figures after the latest pull stay current. The rollup is built
with this filter, so reports, the dashboard's period figures and the cap projection all
follow it; the queries that read ``requests`` directly (burn rate, detectors, session
timelines, tips) add it too. Adding a period marks the rollup buckets of the estimates
inside it dirty (:func:`tokenbuddy.store.cursor.add_billed_range`)."""
