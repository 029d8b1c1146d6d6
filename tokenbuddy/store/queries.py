"""Read-only aggregate queries over the ledger, for reports and ``doctor``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.core.report import BUCKET_MS, ReportRow, Totals

if TYPE_CHECKING:
    import sqlite3

_SUMS = (
    "SUM(input_tokens), SUM(output_tokens), SUM(cache_write_5m_tokens + cache_write_1h_tokens),"
    " SUM(cache_read_tokens), TOTAL(cost_usd), COUNT(*)"
)


@dataclass(frozen=True, slots=True)
class RequestFilter:
    """Which requests a report covers."""

    since_ms: int | None = None
    until_ms: int | None = None
    """Exclusive upper bound."""
    source: str | None = None
    project: str | None = None
    """Case-insensitive substring of the project path."""

    def where(self) -> tuple[str, list[Any]]:
        """A SQL WHERE clause (possibly empty) and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.since_ms is not None:
            clauses.append("ts_ms >= ?")
            params.append(self.since_ms)
        if self.until_ms is not None:
            clauses.append("ts_ms < ?")
            params.append(self.until_ms)
        if self.source:
            clauses.append("source = ?")
            params.append(self.source)
        if self.project:
            clauses.append("instr(lower(project), lower(?)) > 0")
            params.append(self.project)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _totals(row: tuple[Any, ...]) -> Totals:
    return Totals(
        input_tokens=int(row[0] or 0),
        output_tokens=int(row[1] or 0),
        cache_creation_tokens=int(row[2] or 0),
        cache_read_tokens=int(row[3] or 0),
        cost_usd=float(row[4] or 0.0),
        requests=int(row[5]),
    )


def bucket_totals(
    db: sqlite3.Connection, request_filter: RequestFilter
) -> list[tuple[int, Totals]]:
    """Sums per 15-minute UTC bucket, as (bucket start in epoch ms, totals)."""
    where, params = request_filter.where()
    rows = db.execute(
        f"SELECT ts_ms / {BUCKET_MS}, {_SUMS} FROM requests{where} GROUP BY 1 ORDER BY 1", params
    )
    return [(row[0] * BUCKET_MS, _totals(row[1:])) for row in rows]


def session_rows(db: sqlite3.Connection, request_filter: RequestFilter) -> list[ReportRow]:
    """One row per session, most recently active last."""
    where, params = request_filter.where()
    rows = db.execute(
        f"SELECT session_id, project, source, MIN(ts_ms), MAX(ts_ms), GROUP_CONCAT(DISTINCT model),"
        f" {_SUMS} FROM requests{where} GROUP BY session_id, source ORDER BY MAX(ts_ms)",
        params,
    )
    return [
        ReportRow(
            {
                "session_id": row[0],
                "project": row[1],
                "source": row[2],
                "first_request_ms": row[3],
                "last_request_ms": row[4],
                "models": sorted(set((row[5] or "").split(","))),
            },
            _totals(row[6:]),
        )
        for row in rows
    ]


def model_rows(db: sqlite3.Connection, request_filter: RequestFilter) -> list[ReportRow]:
    """One row per model, most expensive first."""
    where, params = request_filter.where()
    rows = db.execute(
        f"SELECT model, source, {_SUMS} FROM requests{where} GROUP BY model, source"
        " ORDER BY TOTAL(cost_usd) DESC, model",
        params,
    )
    return [ReportRow({"model": row[0], "source": row[1]}, _totals(row[2:])) for row in rows]


def unpriced_models(db: sqlite3.Connection, request_filter: RequestFilter) -> dict[str, int]:
    """Requests per model that has no known price (they are not in any cost)."""
    where, params = request_filter.where()
    where = (where + " AND " if where else " WHERE ") + "cost_usd IS NULL"
    rows = db.execute(f"SELECT model, COUNT(*) FROM requests{where} GROUP BY model", params)
    return {model: count for model, count in rows}


def skipped_lines(db: sqlite3.Connection) -> int:
    """Lines skipped across every file the ledger has read."""
    total = 0
    for (skipped,) in db.execute("SELECT skipped FROM files WHERE skipped != '{}'"):
        total += sum(orjson.loads(skipped).values())
    return total
