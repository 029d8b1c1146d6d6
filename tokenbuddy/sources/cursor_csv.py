"""The usage CSV the Cursor dashboard exports: billed Cursor requests.

Columns: ``Date,Kind,Model,Max Mode,Input (w/ Cache Write),Input (w/o Cache Write),
Cache Read,Output Tokens,Total Tokens,Cost``; newer exports add columns (ignored), and
only ``Date``, ``Model`` and ``Cost`` are required.

- ``Date`` is ISO 8601 (UTC when it names no offset) or epoch milliseconds.
- ``Cost`` is ``$0.49``, a locale-formatted amount (``1.234,56 €``, ``0,49 $``), or
  ``Included`` (covered by the plan: $0 charged). Cursor bills in US dollars, so the
  symbol is dropped and the amount kept. An empty or unreadable cost leaves the row
  unpriced, never $0. ``Kind`` values meaning errored or aborted cost nothing.
- Input with cache write minus input without it is the cache write; input without
  it is the uncached input.

A row's key is its time, model, token total and its rank among identical rows of the
same file, so re-importing a file, or an overlapping export, upserts the same rows.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tokenbuddy.core.records import CURSOR, UsageRecord
from tokenbuddy.errors import SourceError

if TYPE_CHECKING:
    from collections.abc import Mapping

CSV_KEY_PREFIX = "cursor:csv:"
REQUIRED = ("Date", "Model", "Cost")
_NOT_CHARGED = ("errored", "aborted", "not charged")
_NOT_A_NUMBER = re.compile(r"[^0-9,.\-]")


@dataclass(slots=True)
class CsvRows:
    """The priced records one export holds, and the rows that could not be read."""

    priced: list[tuple[UsageRecord, float | None]] = field(default_factory=list)
    bad_rows: dict[str, int] = field(default_factory=dict)

    def bad(self, reason: str) -> None:
        """Count one unreadable row."""
        self.bad_rows[reason] = self.bad_rows.get(reason, 0) + 1


def parse_export(text: str, name: str) -> CsvRows:
    """Every row of one export; raises ``SourceError`` when it is not a Cursor export."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [column.strip() for column in reader.fieldnames or ()]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise SourceError(f"{name} is not a Cursor usage export: no {', '.join(missing)} column")
    reader.fieldnames = header
    rows = CsvRows()
    seen: dict[tuple[int, str, int], int] = {}
    for raw in reader:
        row = {key: (value or "").strip() for key, value in raw.items() if key}
        record = _record(row, rows)
        if record is None:
            continue
        identity = (record.ts_ms, record.model, record.total_tokens)
        rank = seen.get(identity, 0)
        seen[identity] = rank + 1
        key = f"{CSV_KEY_PREFIX}{record.ts_ms}:{record.model}:{record.total_tokens}:{rank}"
        rows.priced.append((record._replace(dedup_key=key), _cost(row)))
    return rows


def _record(row: Mapping[str, str], rows: CsvRows) -> UsageRecord | None:
    ts_ms = parse_date(row["Date"])
    if ts_ms is None:
        rows.bad("no valid date")
        return None
    with_writes = _tokens(row.get("Input (w/ Cache Write)"))
    without_writes = _tokens(row.get("Input (w/o Cache Write)"))
    return UsageRecord(
        "", CURSOR, ts_ms, "", "", row["Model"] or "unknown",
        without_writes, _tokens(row.get("Output Tokens")),
        max(with_writes - without_writes, 0), 0, _tokens(row.get("Cache Read")),
        0, 0, "", "", False, "", "",
    )  # fmt: skip


def _tokens(value: str | None) -> int:
    digits = re.sub(r"\D", "", value or "")
    return int(digits) if digits else 0


def _cost(row: Mapping[str, str]) -> float | None:
    kind = row.get("Kind", "").lower()
    if any(marker in kind for marker in _NOT_CHARGED):
        return 0.0
    return parse_amount(row["Cost"])


def parse_amount(text: str) -> float | None:
    """Dollars from ``$0.49``, ``1.234,56 €``, ``1,234.56``, ``Included`` (0); None if unknown."""
    if text.strip().lower() == "included":
        return 0.0
    number = _NOT_A_NUMBER.sub("", text)
    if not any(c.isdigit() for c in number):
        return None
    comma, dot = number.rfind(","), number.rfind(".")
    if comma > dot and (dot >= 0 or _decimal_comma(number, comma)):
        number = number.replace(".", "").replace(",", ".")
    else:
        number = number.replace(",", "")
    try:
        return float(number)
    except ValueError:
        return None


def _decimal_comma(number: str, comma: int) -> bool:
    """With a comma and no dot: ``0,49`` and ``12,5`` are decimals, ``1,234`` is thousands."""
    decimals = len(number) - comma - 1
    whole = number[:comma].lstrip("-")
    return decimals != 3 or whole in ("", "0")


def parse_date(text: str) -> int | None:
    """Epoch ms from ISO 8601 (UTC unless it says otherwise) or epoch ms; None if neither."""
    text = text.strip().strip('"')
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
