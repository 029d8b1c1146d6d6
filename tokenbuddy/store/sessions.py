"""Sessions as the ledger holds them: their sums, projects, subagents and timelines.

A session is a (session id, source) pair. Its sums come from ``usage_rollup``
(bounded whatever the history size); its timeline and subagent spend come from
``requests`` through the session index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import orjson

from tokenbuddy.core.dashboard import RequestLine
from tokenbuddy.core.records import CLAUDE_CODE, CLINE, CODEX, COPILOT
from tokenbuddy.core.report import BUCKET_MS
from tokenbuddy.store.ledger import COUNTED

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tokenbuddy.store.ledger import Ledger

SessionKey = tuple[str, str]
"""(session id, source)."""

_JSON_IDS = "(SELECT value FROM json_each(?))"
"""The session ids of a JSON array parameter: any number of them in one parameter (a
loop's runs can be thousands, past the limit of some SQLite builds on parameters)."""
SESSION_COLUMNS = (
    "session_id, source, MIN(first_ts_ms), MAX(last_ts_ms), GROUP_CONCAT(DISTINCT model),"
    " SUM(input_tokens), SUM(cache_write_tokens), SUM(cache_read_tokens), TOTAL(cost_usd),"
    " SUM(requests)"
)


class SessionTotals(NamedTuple):
    """One session's sums over the rollup."""

    session_id: str
    source: str
    first_ms: int
    last_ms: int
    models: str | None
    """Its models, comma-separated."""
    input_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    cost_usd: float
    requests: int


class SessionSpend(NamedTuple):
    """One session id's dollars and requests."""

    cost_usd: float
    requests: int


def recent_sessions(ledger: Ledger, since_ms: int, limit: int) -> list[SessionTotals]:
    """Sessions with a request since ``since_ms`` (to its bucket), latest first, at most
    ``limit``; their sums cover their whole history."""
    rows = ledger.db.execute(
        f"SELECT {SESSION_COLUMNS} FROM usage_rollup"
        " WHERE session_id IN (SELECT DISTINCT session_id FROM usage_rollup WHERE bucket >= ?)"
        " GROUP BY session_id, source ORDER BY MAX(last_ts_ms) DESC LIMIT ?",
        (since_ms // BUCKET_MS, limit),
    )
    return list(map(SessionTotals._make, rows))


def session_totals(ledger: Ledger, session_id: str, source: str) -> list[SessionTotals]:
    """One session's sums: one row, or none when the rollup has no such session."""
    rows = ledger.db.execute(
        f"SELECT {SESSION_COLUMNS} FROM usage_rollup WHERE session_id = ? AND source = ?"
        " GROUP BY session_id, source",
        (session_id, source),
    )
    return list(map(SessionTotals._make, rows))


def latest_projects(ledger: Ledger, ids: list[str]) -> dict[SessionKey, str]:
    """Where each of the sessions ``ids`` last ran."""
    if not ids:
        return {}
    rows = ledger.db.execute(
        "SELECT session_id, source, project, MAX(last_ts_ms) FROM usage_rollup"
        f" WHERE session_id IN {_JSON_IDS} GROUP BY session_id, source",
        (orjson.dumps(ids).decode(),),
    )
    return {(sid, source): project for sid, source, project, _ in rows}


def subagent_costs(ledger: Ledger, ids: list[str]) -> dict[SessionKey, float]:
    """Dollars the subagents of each of the sessions ``ids`` spent (sessions without any
    are left out)."""
    if not ids:
        return {}
    rows = ledger.db.execute(
        "SELECT session_id, source, TOTAL(cost_usd) FROM requests"
        f" WHERE session_id IN {_JSON_IDS} AND is_sidechain = 1"
        " GROUP BY session_id, source",
        (orjson.dumps(ids).decode(),),
    )
    return {(sid, source): float(cost) for sid, source, cost in rows}


_ENTRYPOINT_SOURCES = frozenset({CLAUDE_CODE, CODEX, COPILOT, CLINE})
"""The sources whose logs say how a session was started."""
_FIRST_ENTRYPOINTS = (
    "WITH keys(sid, src) AS (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]')"
    " FROM json_each(?)) SELECT sid, src, (SELECT entrypoint FROM requests WHERE"
    " session_id = sid AND source = src AND entrypoint != '' ORDER BY ts_ms LIMIT 1) FROM keys"
)


def entrypoints(ledger: Ledger, keys: Iterable[SessionKey]) -> dict[SessionKey, str]:
    """How each of the sessions ``keys`` was started: the entrypoint of its earliest
    request that names one. Sessions that name none are left out.

    The earliest rather than the most frequent: it takes one step down the session index
    per session, not a read of all its requests, and a session ``claude -p`` started
    stays a script's run when someone resumes it by hand. The keys go in as one JSON
    array, so any number of sessions costs one query.
    """
    wanted = [key for key in keys if key[1] in _ENTRYPOINT_SOURCES]
    if not wanted:
        return {}
    rows = ledger.db.execute(_FIRST_ENTRYPOINTS, (orjson.dumps(wanted).decode(),))
    return {(sid, source): entry for sid, source, entry in rows if entry}


def latest_source(ledger: Ledger, session_id: str) -> str | None:
    """The source of the session id's latest request; None when it has none."""
    row = ledger.db.execute(
        "SELECT source FROM requests WHERE session_id = ? ORDER BY ts_ms DESC LIMIT 1",
        (session_id,),
    ).fetchone()
    return None if row is None else str(row[0])


def timeline(ledger: Ledger, session_id: str, source: str, limit: int) -> tuple[RequestLine, ...]:
    """The session's first ``limit`` counted requests, in time order."""
    rows = ledger.db.execute(
        "SELECT ts_ms, model, input_tokens, cache_write_5m_tokens + cache_write_1h_tokens,"
        " cache_read_tokens, output_tokens, cost_usd, CASE WHEN is_sidechain THEN agent_type"
        f" ELSE '' END FROM requests WHERE session_id = ? AND source = ? AND {COUNTED}"
        " ORDER BY ts_ms LIMIT ?",
        (session_id, source, limit),
    ).fetchall()
    return tuple(RequestLine(*row) for row in rows)


def subagent_spend(
    ledger: Ledger, session_id: str, source: str
) -> tuple[tuple[str, int, float], ...]:
    """(agent type, requests, dollars) per subagent type of the session, costliest first."""
    rows = ledger.db.execute(
        "SELECT CASE WHEN agent_type = '' THEN 'subagent' ELSE agent_type END, COUNT(*),"
        " TOTAL(cost_usd) FROM requests WHERE session_id = ? AND source = ? AND is_sidechain = 1"
        " GROUP BY 1 ORDER BY 3 DESC",
        (session_id, source),
    ).fetchall()
    return tuple((agent, int(count), float(cost)) for agent, count, cost in rows)


def session_spend(ledger: Ledger, session_id: str) -> SessionSpend:
    """One session's dollars and requests, from every source that used its id."""
    cost, count = ledger.db.execute(
        "SELECT TOTAL(cost_usd), COUNT(*) FROM requests WHERE session_id = ?", (session_id,)
    ).fetchone()
    return SessionSpend(float(cost), int(count))
