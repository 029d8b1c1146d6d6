"""Daily aggregates of the local ledger: the only thing team sync ever sends.

One row per (local day, source, model[, project name]) with token sums, cost and
request count. Session ids, prompts and paths never leave; with
``share_project_names`` only the last component of a project's path is kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime
from pathlib import PurePath
from typing import TYPE_CHECKING

from tokenbuddy.core.report import BUCKET_MS

if TYPE_CHECKING:
    from collections.abc import Iterable
    from zoneinfo import ZoneInfo


@dataclass(slots=True)
class DailyRow:
    """One member machine's usage of one model on one local day."""

    day: date
    source: str
    model: str
    project: str
    """The project's folder name when the member opted in; '' otherwise."""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = 0.0
    requests: int = 0

    @property
    def key(self) -> tuple[date, str, str, str]:
        """The row's identity within one member machine."""
        return (self.day, self.source, self.model, self.project)


def project_label(path: str) -> str:
    """The name a project is shared under: its folder name, never the full path."""
    return PurePath(path.rstrip("/\\")).name if path else ""


RollupRow = tuple[int, str, str, str, int, int, int, int, float, int]
"""One 15-minute rollup bucket's sums: (bucket, source, model, project path, input, output,
cache write and cache read tokens, cost, requests); the path is '' when not shared."""


def fold_days(
    rollup: Iterable[RollupRow], zone: ZoneInfo, since: date, *, share_projects: bool
) -> list[DailyRow]:
    """Sums per local day from ``since`` on, folded from the ledger's 15-minute rollup."""
    rows: dict[tuple[date, str, str, str], DailyRow] = {}
    for bucket, source, model, path, inputs, outputs, writes, reads, cost, count in rollup:
        day = datetime.fromtimestamp(bucket * BUCKET_MS / 1000, UTC).astimezone(zone).date()
        label = project_label(path) if share_projects else ""
        row = rows.setdefault((day, source, model, label), DailyRow(day, source, model, label))
        row.input_tokens += int(inputs or 0)
        row.output_tokens += int(outputs or 0)
        row.cache_write_tokens += int(writes or 0)
        row.cache_read_tokens += int(reads or 0)
        row.cost_usd += float(cost or 0.0)
        row.requests += int(count or 0)
    return [rows[key] for key in sorted(rows) if key[0] >= since]


def by_day(rows: Iterable[DailyRow]) -> dict[date, list[DailyRow]]:
    """Rows grouped by day."""
    grouped: dict[date, list[DailyRow]] = {}
    for row in rows:
        grouped.setdefault(row.day, []).append(row)
    return grouped


def fingerprint(rows: Iterable[DailyRow]) -> str:
    """A digest of one day's rows: equal digests mean nothing to send again."""
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda r: r.key):
        values = astuple(row)
        digest.update(repr((*values[:-2], round(row.cost_usd, 6), row.requests)).encode())
    return digest.hexdigest()[:32]
