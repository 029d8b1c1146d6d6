"""The usage CSV the Cursor dashboard exports: billed Cursor requests, in three generations.

A file is recognised by its header, never by column positions; unknown extra columns are
ignored, and names are matched without regard to case or spacing:

- **v1**: ``Date,Model,Input (w/ Cache Write),Input (w/o Cache Write),Cache Read,
  Output Tokens,Total Tokens,Cost,Cost to you``: what was billed is ``Cost to you``;
- **v2**: ``Date,Kind,Model,Max Mode,`` the same token columns, ``Cost``: the billed figure;
- **v3**: ``Date,Cloud Agent ID,Automation ID,Kind,Model,Max Mode,`` the token columns,
  ``Requests``: no cost at all. Its rows are priced at list price (the price database,
  through :mod:`tokenbuddy.core.cursor_models`) and so are estimates; ``Requests``
  (``0.5``, ``-``, ``Free``) is kept as the row's billing units.

Team exports add the member (``User``, ``Email``...), which becomes part of a row's key.

Values: ``Date`` is ISO 8601 (UTC when it names no offset), a few dashboard layouts, or
epoch seconds or milliseconds. Token cells may be empty or ``-`` (0) and use thousands
separators. Money is ``$0.49``, locale-formatted (``1.234,56 €``), ``Included`` or
``Free`` ($0); an empty or ``-`` cost is priced at list price instead, never $0.
``Kind`` values saying errored, aborted or not charged (``Errored, No Charge``,
``Aborted, Not Charged``) and ``Free`` keep the row's tokens (they were processed) at $0
billed.

Token columns: ``Input (w/ Cache Write)`` is the cache write, ``Input (w/o Cache Write)``
the uncached input; ``Total Tokens`` is the sum of the four token columns, and a row
whose total disagrees is skipped and counted.

A row's key is its time, model, uncached input, output and cache read, its member in a
team export, and its rank among identical rows of the same file, so re-importing a file,
or an overlapping export, upserts the same rows.
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
DATE, MODEL, KIND = "date", "model", "kind"
CACHE_WRITE, INPUT = "input (w/ cache write)", "input (w/o cache write)"
CACHE_READ, OUTPUT, TOTAL = "cache read", "output tokens", "total tokens"
COST, COST_TO_YOU, REQUESTS = "cost", "cost to you", "requests"
TOKEN_COLUMNS = (CACHE_WRITE, INPUT, CACHE_READ, OUTPUT)
MEMBER_COLUMNS = ("user", "email", "user email", "member", "member email")
NOT_CHARGED = ("errored", "aborted", "not charged", "no charge")
"""``Kind`` words meaning the request was processed but not charged."""
FREE_WORDS = frozenset({"free", "included"})
_NOT_A_NUMBER = re.compile(r"[^0-9,.\-]")
_NOT_A_DIGIT = re.compile(r"\D")
CLOCK_SLACK_MS = 5 * 60_000
"""How far apart Cursor's local record of a request and its billed row may be in time."""
_DASHBOARD_DATES = ("%b %d, %Y, %I:%M %p", "%b %d, %Y %I:%M %p", "%m/%d/%Y %H:%M:%S")


class Skip:
    """Why a row was not used; the names show up in the import's output."""

    NO_DATE = "no valid date"
    NO_MODEL = "no model"
    TOTAL = "Total Tokens disagrees with the sum of its four token columns"


@dataclass(frozen=True, slots=True)
class Generation:
    """Which export layout a header is, and where its billed figure comes from."""

    name: str
    """``v1``, ``v2`` or ``v3``."""
    cost_column: str | None
    """The billed figure's column; None when the export has none (rows are estimates)."""
    member_column: str | None
    """The team member's column of a team export."""


def recognise(header: list[str], name: str) -> Generation:
    """The generation of an export from its normalised header; ``SourceError`` when the
    header is not a Cursor usage export's."""
    columns = set(header)
    missing = [c for c in (DATE, MODEL) if c not in columns]
    if not missing and not columns & {COST, COST_TO_YOU, *TOKEN_COLUMNS}:
        missing = ["Cost or token"]
    if missing:
        raise SourceError(f"{name} is not a Cursor usage export: no {', '.join(missing)} column")
    member = next((c for c in MEMBER_COLUMNS if c in columns), None)
    if COST_TO_YOU in columns:
        return Generation("v1", COST_TO_YOU, member)
    if COST in columns:
        return Generation("v2", COST, member)
    return Generation("v3", None, member)


@dataclass(slots=True)
class CsvRows:
    """The records one or more exports hold, with what was billed, and what was skipped.

    ``priced`` pairs a record with its billed dollars; None marks a row to be priced at
    list price (an estimate). The record carries the billed figure as
    ``reported_cost_usd`` too."""

    priced: list[tuple[UsageRecord, float | None]] = field(default_factory=list)
    bad_rows: dict[str, int] = field(default_factory=dict)
    generations: dict[str, int] = field(default_factory=dict)
    """Files read per generation."""
    not_charged: int = 0
    """Errored, aborted and free rows: kept with their tokens, $0 billed."""
    ranges: list[tuple[int, int]] = field(default_factory=list)
    """Each file's period: its first request's time to its last's (see :func:`_period`)."""

    def bad(self, reason: str) -> None:
        """Count one unreadable row."""
        self.bad_rows[reason] = self.bad_rows.get(reason, 0) + 1

    def merge(self, other: CsvRows) -> None:
        """Add another file's rows and counts."""
        self.priced.extend(other.priced)
        for reason, count in other.bad_rows.items():
            self.bad_rows[reason] = self.bad_rows.get(reason, 0) + count
        for name, count in other.generations.items():
            self.generations[name] = self.generations.get(name, 0) + count
        self.not_charged += other.not_charged
        self.ranges.extend(other.ranges)


def normalise(column: str) -> str:
    """A header cell compared case- and spacing-blind: ``Input (w/o Cache Write)``."""
    return " ".join(column.replace("\ufeff", "").split()).lower()


def parse_export(text: str, name: str) -> CsvRows:
    """Every row of one export; raises ``SourceError`` when it is not a Cursor export."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [normalise(column) for column in next(reader, [])]
    generation = recognise(header, name)
    rows = CsvRows(generations={generation.name: 1})
    seen: dict[tuple[object, ...], int] = {}
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        row = {column: cell.strip() for column, cell in zip(header, cells, strict=False)}
        read = _row(row, generation, rows)
        if read is None:
            continue
        record, billed = read
        identity = _identity(record, row.get(generation.member_column or "", ""))
        rank = seen.get(identity, 0)
        seen[identity] = rank + 1
        key = CSV_KEY_PREFIX + ":".join(map(str, (*identity, rank)))
        rows.priced.append((record._replace(dedup_key=key), billed))
    if rows.priced:
        stamps = [record.ts_ms for record, _ in rows.priced]
        rows.ranges.append(_period(min(stamps), max(stamps)))
    return rows


def _period(first_ms: int, last_ms: int) -> tuple[int, int]:
    """The period a file bills: its first row's time to its last, widened by
    :data:`CLOCK_SLACK_MS` on each side, as a request's local and billed times differ."""
    return first_ms - CLOCK_SLACK_MS, last_ms + CLOCK_SLACK_MS


def _identity(record: UsageRecord, member: str) -> tuple[object, ...]:
    """What tells a row from another: time, model, the token counts that the cache-write
    reading does not change, and the team member when the export names one."""
    base = (record.ts_ms, record.model, record.input_tokens, record.output_tokens)
    return (*base, record.cache_read_tokens, *([member] if member else []))


def _row(
    row: Mapping[str, str], generation: Generation, rows: CsvRows
) -> tuple[UsageRecord, float | None] | None:
    """One row's record and billed dollars (None: to be estimated); None when skipped."""
    ts_ms = parse_date(row.get(DATE, ""))
    if ts_ms is None:
        rows.bad(Skip.NO_DATE)
        return None
    model = row.get(MODEL, "")
    if not model or model == "-":
        rows.bad(Skip.NO_MODEL)
        return None
    counts = [parse_tokens(row.get(column)) for column in TOKEN_COLUMNS]
    if not _total_agrees(row, counts):
        rows.bad(Skip.TOTAL)
        return None
    billed = _billed(row, generation)
    if billed == 0.0 and _not_charged(row.get(KIND, "")):
        rows.not_charged += 1
    cache_write, uncached, cache_read, output = counts
    record = UsageRecord(
        "", CURSOR, ts_ms, "", "", model, uncached, output, cache_write, 0, cache_read,
        0, 0, "", "", False, "", "", "", billed, parse_units(row.get(REQUESTS)),
    )  # fmt: skip
    return record, billed


def _total_agrees(row: Mapping[str, str], counts: list[int]) -> bool:
    """Whether ``Total Tokens`` equals the four token columns' sum (True when the export
    has no total, or not all four columns)."""
    total = row.get(TOTAL, "")
    if not total or total == "-" or any(column not in row for column in TOKEN_COLUMNS):
        return True
    return parse_tokens(total) == sum(counts)


def _not_charged(kind: str) -> bool:
    """Whether a ``Kind`` value says the request cost nothing (errored, aborted, free)."""
    kind = kind.strip().lower()
    return kind == "free" or any(marker in kind for marker in NOT_CHARGED)


def _billed(row: Mapping[str, str], generation: Generation) -> float | None:
    """What the row says was billed; None when it does not say (priced at list price)."""
    if _not_charged(row.get(KIND, "")):
        return 0.0
    if generation.cost_column is None:
        return 0.0 if row.get(REQUESTS, "").strip().lower() == "free" else None
    amount = parse_amount(row.get(generation.cost_column, ""))
    if amount is None and generation.name == "v1":
        amount = parse_amount(row.get(COST, ""))
    return amount


def parse_tokens(value: str | None) -> int:
    """A token count: ``1,234`` and ``1.234`` are 1234; empty, ``-`` or words are 0."""
    if value and value.isdigit():
        return int(value)
    digits = _NOT_A_DIGIT.sub("", value or "")
    return int(digits) if digits else 0


def parse_units(value: str | None) -> float:
    """``Requests``: ``1``, ``0.5``, ``0,5``; ``-``, ``Free`` or empty are 0."""
    amount = parse_amount(value or "")
    return amount if amount is not None and amount > 0 else 0.0


def parse_amount(text: str) -> float | None:
    """Dollars from ``$0.49``, ``1.234,56 €``, ``1,234.56``, ``Included`` or ``Free`` (0);
    None when the cell holds no amount (empty, ``-``)."""
    if text.strip().lower() in FREE_WORDS:
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
    """Epoch ms from ISO 8601 (UTC unless it says otherwise), a dashboard layout
    (``Mar 4, 2026, 3:05 PM``), or epoch seconds or ms; None if none of them."""
    text = text.strip().strip('"')
    if text.isdigit():
        value = int(text)
        return value * 1000 if value < 100_000_000_000 else value
    try:
        moment: datetime | None = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = _dashboard_date(text)
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _dashboard_date(text: str) -> datetime | None:
    for layout in _DASHBOARD_DATES:
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    return None
