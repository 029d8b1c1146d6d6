"""Vendor results in the ledger: billed usage and costs, source states, reconciliation.

Tables (ledger migration 3):

- ``vendor_usage``: token sums per (provider, bucket start, bucket width, model);
- ``vendor_costs``: billed dollars per (provider, UTC day, model, line item);
- ``source_state``: per provider, the last attempt, success and error, the next poll
  and a lease that keeps two processes from polling the same provider at once.

A pull replaces the rows of the period it covered, so re-polling is idempotent.
Cursor's events go to ``requests`` (source ``cursor``) by dedup key, upserted.

The dashboard reads :func:`source_states` and :func:`reconciliation`; both are
plain SQL and quick.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.core.model_ids import undated_model
from tokenbuddy.core.records import CLAUDE_CODE, CODEX, UsageRecord
from tokenbuddy.core.report import BUCKET_MS
from tokenbuddy.core.units import DAY_MS
from tokenbuddy.core.vendor_usage import day_of
from tokenbuddy.store import cursor as cursor_store
from tokenbuddy.store.ledger import request_row
from tokenbuddy.store.ledger.files import INSERT_RATE_LIMITS
from tokenbuddy.store.ledger.rollup import mark_dirty

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Sequence

    from tokenbuddy.core.vendor_usage import PullResult
    from tokenbuddy.store.ledger import Ledger

VENDOR_SOURCES = ("claude", "anthropic", "openai", "cursor", "cursor-team")
"""Every vendor source, in the order ``tokenbuddy sources`` lists them."""
RECONCILED = {CLAUDE_CODE: "anthropic", CODEX: "openai"}
"""Which vendor bills the requests of each local source."""

_COLUMNS = (*UsageRecord._fields, "cost_usd", "total_tokens")
_UPSERT_VENDOR_REQUEST = (
    "INSERT INTO requests ({cols}) VALUES ({marks}) ON CONFLICT(dedup_key) DO UPDATE SET {sets}"
    " WHERE requests.cost_usd IS NOT excluded.cost_usd"
    " OR requests.total_tokens != excluded.total_tokens"
    " OR requests.reported_cost_usd IS NOT excluded.reported_cost_usd"
).format(
    cols=", ".join(_COLUMNS),
    marks=", ".join("?" * len(_COLUMNS)),
    sets=", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:]),
)
_STATE_COLUMNS = (
    "provider, last_attempt_ms, last_success_ms, last_error, error_kind, failures,"
    " next_poll_ms, covered_from_ms, covered_until_ms, detail"
)


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the ledger knows about one vendor source's polling."""

    provider: str
    last_attempt_ms: int | None = None
    last_success_ms: int | None = None
    last_error: str = ""
    """The last failure's one-line message (empty after a success)."""
    error_kind: str = ""
    """``unauthorized``, ``forbidden``, ``missing_scope``, ``rate_limited``, ``server``,
    ``timeout``, ``network``, ``malformed``, ``schema``, ``credential``... or empty."""
    failures: int = 0
    """Failures in a row since the last success."""
    next_poll_ms: int | None = None
    covered_from_ms: int | None = None
    covered_until_ms: int | None = None
    """The period the stored vendor rows cover."""
    detail: dict[str, Any] = field(default_factory=dict)
    """A secret-free summary of the last success (plan usage, counts)."""

    @property
    def status(self) -> str:
        """``never polled``, ``ok`` or ``error``."""
        if self.last_attempt_ms is None:
            return "never polled"
        return "error" if self.last_error else "ok"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form, with the status."""
        return {**asdict(self), "status": self.status}


def source_states(ledger: Ledger, providers: Sequence[str] = VENDOR_SOURCES) -> list[SourceState]:
    """One state per provider, in order; providers never polled get an empty state."""
    rows = ledger.db.execute(f"SELECT {_STATE_COLUMNS} FROM source_state").fetchall()
    known = {row[0]: _state(row) for row in rows}
    return [known.get(provider, SourceState(provider)) for provider in providers]


def source_state(ledger: Ledger, provider: str) -> SourceState:
    """One provider's state (empty when never polled)."""
    return source_states(ledger, (provider,))[0]


def _state(row: tuple[Any, ...]) -> SourceState:
    return SourceState(
        provider=row[0],
        last_attempt_ms=row[1],
        last_success_ms=row[2],
        last_error=row[3],
        error_kind=row[4],
        failures=row[5],
        next_poll_ms=row[6],
        covered_from_ms=row[7],
        covered_until_ms=row[8],
        detail=orjson.loads(row[9]) if row[9] else {},
    )


def claim_poll(ledger: Ledger, provider: str, now_ms: int, lease_ms: int) -> bool:
    """Take the provider's poll lease; False when another poll holds an unexpired one."""
    with ledger.transaction():
        ledger.db.execute("INSERT OR IGNORE INTO source_state (provider) VALUES (?)", (provider,))
        claimed = ledger.db.execute(
            "UPDATE source_state SET lease_until_ms = ?, last_attempt_ms = ?"
            " WHERE provider = ? AND (lease_until_ms IS NULL OR lease_until_ms <= ?)",
            (now_ms + lease_ms, now_ms, provider, now_ms),
        )
    return bool(claimed.rowcount)


def record_failure(
    ledger: Ledger, provider: str, message: str, kind: str, next_poll_ms: int
) -> None:
    """Remember a failed poll (the stored rows stay as they were) and release the lease."""
    with ledger.transaction():
        ledger.db.execute(
            "UPDATE source_state SET last_error = ?, error_kind = ?, failures = failures + 1,"
            " next_poll_ms = ?, lease_until_ms = NULL WHERE provider = ?",
            (message, kind, next_poll_ms, provider),
        )


def store_pull(ledger: Ledger, result: PullResult, now_ms: int, next_poll_ms: int) -> None:
    """Write a successful pull in one transaction and release the lease."""
    with ledger.transaction():
        _replace_usage(ledger.db, result)
        _replace_costs(ledger.db, result)
        ledger.db.executemany(INSERT_RATE_LIMITS, result.rate_limits)
        _upsert_requests(ledger.db, result)
        _mark_success(ledger.db, result, now_ms, next_poll_ms)
    if result.requests:
        ledger.refresh_rollup()


def _replace_usage(db: sqlite3.Connection, result: PullResult) -> None:
    db.execute(
        "DELETE FROM vendor_usage WHERE provider = ? AND bucket_start_ms >= ?"
        " AND bucket_start_ms < ?",
        (result.provider, result.since_ms, result.until_ms),
    )
    db.executemany(
        "INSERT OR REPLACE INTO vendor_usage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(result.provider, *astuple_row(row), result.until_ms) for row in result.usage],
    )


def astuple_row(row: Any) -> tuple[Any, ...]:
    """A results dataclass as a tuple of its fields, in order."""
    return tuple(getattr(row, name) for name in row.__dataclass_fields__)


def _replace_costs(db: sqlite3.Connection, result: PullResult) -> None:
    db.execute(
        "DELETE FROM vendor_costs WHERE provider = ? AND day >= ? AND day <= ?",
        (result.provider, day_of(result.since_ms), day_of(result.until_ms)),
    )
    db.executemany(
        "INSERT OR REPLACE INTO vendor_costs VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(result.provider, *astuple_row(row), result.until_ms) for row in result.costs],
    )


def _upsert_requests(db: sqlite3.Connection, result: PullResult) -> None:
    """Upsert vendor-priced requests by dedup key; new rows mark their rollup bucket dirty."""
    rows = [request_row(record, cost) for record, cost in result.requests]
    db.executemany(_UPSERT_VENDOR_REQUEST, rows)
    mark_dirty(db, {row[2] // BUCKET_MS for row in rows})
    cursor_store.store_billed(db, rows, result.since_ms, result.until_ms)


def _mark_success(db: sqlite3.Connection, result: PullResult, now_ms: int, next_ms: int) -> None:
    db.execute(
        "UPDATE source_state SET last_success_ms = ?, last_error = '', error_kind = '',"
        " failures = 0, next_poll_ms = ?, lease_until_ms = NULL, detail = ?,"
        " covered_from_ms = MIN(COALESCE(covered_from_ms, ?), ?),"
        " covered_until_ms = MAX(COALESCE(covered_until_ms, ?), ?) WHERE provider = ?",
        (
            now_ms,
            next_ms,
            orjson.dumps(result.detail).decode(),
            result.since_ms,
            result.since_ms,
            result.until_ms,
            result.until_ms,
            result.provider,
        ),
    )


# -- reconciliation ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReconciliationRow:
    """One UTC day, provider and model: the local estimate against what the vendor billed."""

    date: str
    provider: str
    model: str
    """The model without its date suffix (empty: billed but not attributed to a model)."""
    local_usd: float
    billed_usd: float

    @property
    def diff_usd(self) -> float:
        """Billed minus local: positive when the vendor billed more than the logs show."""
        return self.billed_usd - self.local_usd

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {**asdict(self), "diff_usd": round(self.diff_usd, 6)}


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Every row, and their totals."""

    rows: tuple[ReconciliationRow, ...]

    @property
    def totals(self) -> dict[str, float]:
        """Sums of ``local_usd``, ``billed_usd`` and ``diff_usd``."""
        local = sum(row.local_usd for row in self.rows)
        billed = sum(row.billed_usd for row in self.rows)
        return {"local_usd": local, "billed_usd": billed, "diff_usd": round(billed - local, 6)}

    def as_dict(self) -> dict[str, Any]:
        """``{"rows": [...], "totals": {...}}``."""
        return {"rows": [row.as_dict() for row in self.rows], "totals": self.totals}


def reconciliation(ledger: Ledger, since_ms: int | None, until_ms: int | None) -> Reconciliation:
    """Local estimate vs vendor-billed per UTC day, provider and model.

    Only days inside the period a provider's pulls covered are compared; providers
    never pulled are left out (their bill is unknown, not zero). Cursor's local
    estimates are compared with its billed rows (API events and imported CSV rows) inside
    the periods those cover, on the days both have requests; rows of an export without a
    Cost column are a list-price estimate, under :data:`CURSOR_LIST_PRICE`.
    """
    db = ledger.db
    coverage = _coverage(db)
    sums: dict[tuple[str, str, str], list[float]] = {}
    for day, provider, model, usd in _local_costs(db, since_ms, until_ms):
        if _covered(coverage, provider, day):
            sums.setdefault((day, provider, undated_model(model)), [0.0, 0.0])[0] += usd
    for day, provider, model, usd in _billed_costs(db, since_ms, until_ms):
        if _covered(coverage, provider, day):
            sums.setdefault((day, provider, undated_model(model)), [0.0, 0.0])[1] += usd
    sums.update(_cursor_sums(db, since_ms, until_ms))
    rows = (ReconciliationRow(*key, *values) for key, values in sorted(sums.items()))
    return Reconciliation(tuple(rows))


CURSOR_LIST_PRICE = "cursor (list price)"
"""The provider label of Cursor rows from an export without a Cost column: their tokens
are Cursor's, their dollars a list-price estimate, not what Cursor billed."""


def _cursor_sums(
    db: sqlite3.Connection, since_ms: int | None, until_ms: int | None
) -> dict[tuple[str, str, str], list[float]]:
    """Cursor estimate vs billed per UTC day and model, on the billed periods' days with
    both; a day whose billed rows are all list-price estimates is labelled so."""
    sums: dict[tuple[str, str, str], list[float]] = {}
    days: dict[int, set[str]] = {}
    rows = cursor_store.reconciliation_sums(db, since_ms, until_ms)
    for day, source, _model, _usd, estimated in rows:
        days.setdefault(day, set()).add(f"{source}~" if estimated else source)
    for day, source, model, usd, _estimated in rows:
        kinds = days[day]
        if "cursor-local" not in kinds or kinds == {"cursor-local"}:
            continue
        provider = "cursor" if "cursor" in kinds else CURSOR_LIST_PRICE
        key = (day_of(day * DAY_MS), provider, undated_model(model))
        sums.setdefault(key, [0.0, 0.0])[source == "cursor"] += usd
    return sums


def _coverage(db: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    rows = db.execute(
        "SELECT provider, covered_from_ms, covered_until_ms FROM source_state"
        " WHERE covered_from_ms IS NOT NULL AND provider IN ('anthropic', 'openai')"
    )
    return {provider: (day_of(low), day_of(high)) for provider, low, high in rows}


def _covered(coverage: dict[str, tuple[str, str]], provider: str, day: str) -> bool:
    bounds = coverage.get(provider)
    return bounds is not None and bounds[0] <= day <= bounds[1]


def _local_costs(
    db: sqlite3.Connection, since_ms: int | None, until_ms: int | None
) -> list[tuple[str, str, str, float]]:
    low = (since_ms or 0) // BUCKET_MS
    high = -(-until_ms // BUCKET_MS) if until_ms is not None else 2**62
    rows = db.execute(
        f"SELECT bucket * {BUCKET_MS} / {DAY_MS}, source, model, TOTAL(cost_usd)"
        " FROM usage_rollup WHERE bucket >= ? AND bucket < ? AND source IN (?, ?)"
        " GROUP BY 1, 2, 3",
        (low, high, *RECONCILED),
    )
    return [
        (day_of(day * DAY_MS), RECONCILED[source], model, usd) for day, source, model, usd in rows
    ]


def _billed_costs(
    db: sqlite3.Connection, since_ms: int | None, until_ms: int | None
) -> list[tuple[str, str, str, float]]:
    low = day_of(since_ms) if since_ms is not None else "0000-00-00"
    high = day_of(until_ms - 1) if until_ms is not None else "9999-99-99"
    rows = db.execute(
        "SELECT day, provider, model, TOTAL(amount_usd) FROM vendor_costs"
        " WHERE day >= ? AND day <= ? GROUP BY 1, 2, 3",
        (low, high),
    )
    return [(day, provider, model, float(usd)) for day, provider, model, usd in rows]
