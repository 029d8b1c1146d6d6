"""Read-only aggregate queries over the ledger, for reports, ``doctor`` and team sync.

Reports read ``usage_rollup`` (sums per 15-minute bucket, source, project,
session and model), not the per-request table, so they cost the same whatever
the size of the history. Their time bounds must fall on 15-minute boundaries,
which every local midnight does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from tokenbuddy.core.agents import agent_name
from tokenbuddy.core.report import BUCKET_MS, ReportRow
from tokenbuddy.core.totals import Totals
from tokenbuddy.errors import ConfigError
from tokenbuddy.store.sessions import entrypoints

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator

    from tokenbuddy.store.ledger import Ledger

_SUMS = (
    "SUM(input_tokens), SUM(output_tokens), SUM(cache_write_tokens), SUM(cache_read_tokens),"
    " TOTAL(cost_usd), SUM(requests)"
)
_REPORT_SUMS = _SUMS + ", TOTAL(reported_cost_usd), SUM(reported_requests), TOTAL(billing_units)"
"""The sums and the agents' own figures (:meth:`Totals.from_row` reads both)."""


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
        """A SQL WHERE clause over ``usage_rollup`` (possibly empty) and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        for bound, operator in ((self.since_ms, ">="), (self.until_ms, "<")):
            if bound is not None:
                if bound % BUCKET_MS:
                    raise ConfigError("report bounds must fall on a quarter hour")
                clauses.append(f"bucket {operator} ?")
                params.append(bound // BUCKET_MS)
        self.add_matching(clauses, params)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def add_matching(self, clauses: list[str], params: list[Any]) -> None:
        """The source and project conditions (columns both tables have)."""
        if self.source:
            clauses.append("source = ?")
            params.append(self.source)
        if self.project:
            clauses.append("instr(lower(project), lower(?)) > 0")
            params.append(self.project)


def bucket_totals(ledger: Ledger, request_filter: RequestFilter) -> list[tuple[int, Totals]]:
    """Sums per 15-minute UTC bucket, as (bucket start in epoch ms, totals)."""
    where, params = request_filter.where()
    rows = ledger.db.execute(
        f"SELECT bucket, {_REPORT_SUMS} FROM usage_rollup{where} GROUP BY 1 ORDER BY 1", params
    )
    return [(row[0] * BUCKET_MS, Totals.from_row(row[1:])) for row in rows]


def bucket_model_totals(
    ledger: Ledger, request_filter: RequestFilter
) -> list[tuple[int, str, Totals]]:
    """Sums per 15-minute UTC bucket and model, as (bucket start in epoch ms, model, totals)."""
    where, params = request_filter.where()
    rows = ledger.db.execute(
        f"SELECT bucket, model, {_REPORT_SUMS} FROM usage_rollup{where} GROUP BY 1, 2 ORDER BY 1",
        params,
    )
    return [(row[0] * BUCKET_MS, row[1], Totals.from_row(row[2:])) for row in rows]


def session_rows(ledger: Ledger, request_filter: RequestFilter) -> list[ReportRow]:
    """One row per session, most recently active last; its project is where it last ran,
    its entrypoint how it was started (see :func:`.sessions.entrypoints`)."""
    where, params = request_filter.where()
    rows = ledger.db.execute(
        "SELECT session_id, source, MIN(first_ts_ms), MAX(last_ts_ms),"
        f" GROUP_CONCAT(DISTINCT model), {_REPORT_SUMS} FROM usage_rollup{where}"
        " GROUP BY session_id, source ORDER BY 4",
        params,
    )
    result = [
        ReportRow(
            {
                "session_id": row[0],
                "project": "",
                "source": row[1],
                "entrypoint": "",
                "first_request_ms": row[2],
                "last_request_ms": row[3],
                "models": sorted(set((row[4] or "").split(","))),
            },
            Totals.from_row(row[5:]),
        )
        for row in rows
    ]
    projects = _latest_projects(ledger.db, request_filter)
    started = entrypoints(ledger, ((row.key["session_id"], row.key["source"]) for row in result))
    for row in result:
        key = (row.key["session_id"], row.key["source"])
        row.key["project"] = projects.get(key, "")
        row.key["entrypoint"] = started.get(key, "")
    return result


def _latest_projects(
    db: sqlite3.Connection, request_filter: RequestFilter
) -> dict[tuple[str, str], str]:
    where, params = request_filter.where()
    rows = db.execute(
        f"SELECT session_id, source, project, MAX(last_ts_ms) FROM usage_rollup{where}"
        " GROUP BY session_id, source",
        params,
    )
    return {(row[0], row[1]): row[2] for row in rows}


def model_rows(ledger: Ledger, request_filter: RequestFilter) -> list[ReportRow]:
    """One row per model, most expensive first."""
    where, params = request_filter.where()
    rows = ledger.db.execute(
        f"SELECT model, source, {_REPORT_SUMS} FROM usage_rollup{where} GROUP BY model, source"
        " ORDER BY TOTAL(cost_usd) DESC, model",
        params,
    )
    return [
        ReportRow({"model": row[0], "source": row[1]}, Totals.from_row(row[2:])) for row in rows
    ]


def agent_rows(ledger: Ledger, request_filter: RequestFilter) -> list[ReportRow]:
    """One row per source, most expensive first."""
    where, params = request_filter.where()
    rows = ledger.db.execute(
        f"SELECT source, {_REPORT_SUMS} FROM usage_rollup{where} GROUP BY source"
        " ORDER BY TOTAL(cost_usd) DESC, source",
        params,
    )
    return [
        ReportRow({"agent": agent_name(row[0]), "source": row[0]}, Totals.from_row(row[1:]))
        for row in rows
    ]


def project_totals(ledger: Ledger, request_filter: RequestFilter) -> list[tuple[str, Totals]]:
    """Sums per project path, most expensive first."""
    where, params = request_filter.where()
    rows = ledger.db.execute(
        f"SELECT project, {_REPORT_SUMS} FROM usage_rollup{where} GROUP BY project"
        " ORDER BY TOTAL(cost_usd) DESC",
        params,
    )
    return [(row[0], Totals.from_row(row[1:])) for row in rows]


class ModelBucket(NamedTuple):
    """One 15-minute bucket's sums for one source, model and project."""

    bucket: int
    source: str
    model: str
    project: str
    """The project path, or empty when projects were left out."""
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    cost_usd: float
    requests: int


def model_buckets(ledger: Ledger, since_ms: int, *, with_projects: bool) -> Iterator[ModelBucket]:
    """Sums per bucket, source, model and project (all in one when not ``with_projects``)
    from the bucket holding ``since_ms`` on, streamed in no set order."""
    project = "project" if with_projects else "''"
    rows = ledger.db.execute(
        f"SELECT bucket, source, model, {project}, {_SUMS}"
        " FROM usage_rollup WHERE bucket >= ? GROUP BY 1, 2, 3, 4",
        (since_ms // BUCKET_MS,),
    )
    return map(ModelBucket._make, rows)


def unpriced_models(ledger: Ledger, request_filter: RequestFilter) -> dict[str, int]:
    """Requests per model that has no known price (they are not in any cost)."""
    where, params = request_filter.where()
    where = (where + " AND " if where else " WHERE ") + "unpriced_requests > 0"
    rows = ledger.db.execute(
        f"SELECT model, SUM(unpriced_requests) FROM usage_rollup{where} GROUP BY model", params
    )
    return {model: count for model, count in rows}


def skipped_lines(ledger: Ledger, source: str | None = None, since_ms: int | None = None) -> int:
    """Lines skipped in the files the ledger has read: every file's, or only those of
    ``source`` last written from ``since_ms`` on (an older file's lines cannot be newer)."""
    return sum(skipped_by_reason(ledger, source, since_ms).values())


def skipped_by_reason(
    ledger: Ledger, source: str | None = None, since_ms: int | None = None
) -> dict[str, int]:
    """The lines :func:`skipped_lines` counts, by reason."""
    where = "skipped != '{}'"
    params: list[object] = []
    if source is not None:
        where += " AND source = ?"
        params.append(source)
    if since_ms is not None:
        where += " AND mtime_ns >= ?"
        params.append(since_ms * 1_000_000)
    totals: dict[str, int] = {}
    for (skipped,) in ledger.db.execute(f"SELECT skipped FROM files WHERE {where}", params):
        for reason, count in orjson.loads(skipped).items():
            totals[reason] = totals.get(reason, 0) + count
    return totals


def requests_by_source(ledger: Ledger) -> dict[str, RequestSpan]:
    """Each source's request count and its first and last request's timestamps."""
    rows = ledger.db.execute(
        "SELECT source, COUNT(*), MIN(ts_ms), MAX(ts_ms) FROM requests GROUP BY source"
    )
    return {str(name): RequestSpan(int(count), first, last) for name, count, first, last in rows}


class RequestSpan(NamedTuple):
    """How many requests the ledger holds, and the first and last one's timestamps."""

    requests: int
    first_ms: int | None
    last_ms: int | None


def request_span(ledger: Ledger) -> RequestSpan:
    """How many requests the ledger holds, and the first and last one's timestamps."""
    count, first_ms, last_ms = ledger.db.execute(
        "SELECT COUNT(*), MIN(ts_ms), MAX(ts_ms) FROM requests"
    ).fetchone()
    return RequestSpan(int(count), first_ms, last_ms)


def filtered_span(ledger: Ledger, request_filter: RequestFilter) -> RequestSpan:
    """How many requests match ``request_filter``, and the first and last one's quarter
    hour (from the rollup, so a project filter costs the same as none)."""
    where, params = request_filter.where()
    count, first, last = ledger.db.execute(
        f"SELECT SUM(requests), MIN(bucket), MAX(bucket) FROM usage_rollup{where}", params
    ).fetchone()
    if not count:
        return RequestSpan(0, None, None)
    return RequestSpan(int(count), first * BUCKET_MS, last * BUCKET_MS)


def files_under(ledger: Ledger, source: str, directory: str) -> int:
    """How many files of ``source`` under ``directory`` the ledger has read (and still
    finds on disk)."""
    prefix = directory.rstrip("/") + "/"
    (count,) = ledger.db.execute(
        "SELECT COUNT(*) FROM files WHERE source = ? AND missing = 0 AND substr(path, 1, ?) = ?",
        (source, len(prefix), prefix),
    ).fetchone()
    return int(count)


def requests_between(
    ledger: Ledger, since_ms: int | None, until_ms: int | None, request_filter: RequestFilter
) -> int:
    """How many requests of the filter's source and project fall from ``since_ms``
    (inclusive) to ``until_ms`` (exclusive), to the millisecond (from the requests)."""
    clauses: list[str] = ["1"]
    params: list[object] = []
    for bound, operator in ((since_ms, ">="), (until_ms, "<")):
        if bound is not None:
            clauses.append(f"ts_ms {operator} ?")
            params.append(bound)
    request_filter.add_matching(clauses, params)
    (count,) = ledger.db.execute(
        f"SELECT COUNT(*) FROM requests WHERE {' AND '.join(clauses)}", params
    ).fetchone()
    return int(count)
