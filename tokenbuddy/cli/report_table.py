"""A report as a table that fits the terminal.

The full table comes first; when it is wider than the terminal, numbers turn
compact (``52.3M``), then the cache columns merge, then the least needed columns go
(cache, input, output, cache hit), and at last the widest name column is cut. The
key, the requests and the cost always stay. ``--wide`` (or a pipe) keeps everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tokenbuddy.cli.table import clean, compact, render_table, tokens
from tokenbuddy.core.model_ids import model_label
from tokenbuddy.core.money import dollars

if TYPE_CHECKING:
    from collections.abc import Callable
    from zoneinfo import ZoneInfo

KEY_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "daily": [("Date", "date")],
    "weekly": [("Week", "week")],
    "monthly": [("Month", "month")],
    "session": [
        ("Last request", "last_request_ms"),
        ("Project", "project"),
        ("Session", "session_id"),
    ],
    "model": [("Model", "model"), ("Source", "source")],
    "agent": [("Agent", "agent")],
}
"""Each report's key columns: header and the row field they show."""

BREAKDOWN_MARK = "  └ "
"""How a period's model rows are set under it."""


@dataclass(frozen=True, slots=True)
class Layout:
    """One way of laying out the numbers: compact or not, and which columns stay."""

    compact: bool = False
    merge_cache: bool = False
    dropped: frozenset[str] = frozenset()


LAYOUTS = (
    Layout(),
    Layout(compact=True),
    Layout(compact=True, merge_cache=True),
    Layout(compact=True, dropped=frozenset({"cache"})),
    Layout(compact=True, dropped=frozenset({"cache", "input"})),
    Layout(compact=True, dropped=frozenset({"cache", "input", "output"})),
    Layout(compact=True, dropped=frozenset({"cache", "input", "output", "hit"})),
)
"""From the full table to the narrowest, tried in order."""


def format_report(
    kind: str, report: dict[str, Any], zone: ZoneInfo, *, width: int | None = None
) -> str:
    """The report as an aligned table with a totals row, fitted to ``width`` columns
    (None: every column, exact numbers)."""
    rows = _table_rows(kind, report, zone)
    own_costs = report["totals"]["reported_requests"] > 0
    table = ""
    for layout in LAYOUTS if width is not None else LAYOUTS[:1]:
        table = _render(kind, rows, layout, own_costs)
        if width is None or _widest(table) <= width:
            return table + _narrowed(layout) + footer(report)
    table = _cut_names(kind, rows, LAYOUTS[-1], own_costs, width or 0)
    return table + _narrowed(LAYOUTS[-1]) + footer(report)


def _table_rows(
    kind: str, report: dict[str, Any], zone: ZoneInfo
) -> list[tuple[list[str], dict[str, Any]]]:
    """Each row's key cells and figures, model rows under their period, the totals last."""
    key_columns = KEY_COLUMNS[kind]
    rows: list[tuple[list[str], dict[str, Any]]] = []
    for row in report["rows"]:
        rows.append(([_key_cell(field, row[field], zone) for _, field in key_columns], row))
        for model in row.get("model_breakdown", ()):
            rows.append(([BREAKDOWN_MARK + clean(model_label(model["model"]))], model))
    label = ["Total"] + [""] * (len(key_columns) - 1)
    rows.append((label, report["totals"]))
    return [(_padded(keys, len(key_columns)), figures) for keys, figures in rows]


def _padded(keys: list[str], count: int) -> list[str]:
    return keys + [""] * (count - len(keys))


def _render(
    kind: str, rows: list[tuple[list[str], dict[str, Any]]], layout: Layout, own_costs: bool
) -> str:
    columns = _number_columns(layout, own_costs)
    headers = [h for h, _ in KEY_COLUMNS[kind]] + [header for header, _ in columns]
    cells = [keys + [cell(figures) for _, cell in columns] for keys, figures in rows]
    return render_table(headers, cells, numeric_from=len(KEY_COLUMNS[kind]))


Column = tuple[str, "Callable[[dict[str, Any]], str]"]


def _number_columns(layout: Layout, own_costs: bool) -> list[Column]:
    """The number columns a layout keeps, each a header and how to show a row's figure."""
    count = compact if layout.compact else tokens
    columns: list[Column] = []
    if "input" not in layout.dropped:
        columns.append(("Input", lambda row: count(row["input_tokens"])))
    if "output" not in layout.dropped:
        columns.append(("Output", lambda row: count(row["output_tokens"])))
    if layout.merge_cache:
        columns.append(
            (
                "Cache w/r",
                lambda row: (
                    f"{count(row['cache_creation_tokens'])}/{count(row['cache_read_tokens'])}"
                ),
            )
        )
    elif "cache" not in layout.dropped:
        columns.append(("Cache write", lambda row: count(row["cache_creation_tokens"])))
        columns.append(("Cache read", lambda row: count(row["cache_read_tokens"])))
    if "hit" not in layout.dropped:
        columns.append(("Cache hit", _ratio))
    columns.append(("Requests", lambda row: count(row["requests"])))
    columns.append(("Cost", lambda row: dollars(row["cost_usd"])))
    if own_costs:
        columns.append(("Agent's cost", _own_cost))
    return columns


def _ratio(row: dict[str, Any]) -> str:
    ratio = row["cache_hit_ratio"]
    return "-" if ratio is None else f"{ratio:.1%}"


def _own_cost(row: dict[str, Any]) -> str:
    """What the agents themselves say it cost (``-`` where they record nothing)."""
    own = row["reported_cost_usd"]
    return "-" if own is None else dollars(own)


def _cut_names(
    kind: str,
    rows: list[tuple[list[str], dict[str, Any]]],
    layout: Layout,
    own_costs: bool,
    width: int,
) -> str:
    """The narrowest layout with the widest key column cut to fit (names end in ``…``)."""
    widest = max(range(len(KEY_COLUMNS[kind])), key=lambda i: max(len(k[i]) for k, _ in rows))
    table = _render(kind, rows, layout, own_costs)
    excess = _widest(table) - width
    longest = max(len(keys[widest]) for keys, _ in rows)
    limit = max(longest - excess, 8)
    cut = [
        ([_cut(key, limit) if i == widest else key for i, key in enumerate(keys)], figures)
        for keys, figures in rows
    ]
    return _render(kind, cut, layout, own_costs)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _widest(table: str) -> int:
    return max(len(line) for line in table.splitlines())


def _narrowed(layout: Layout) -> str:
    """A note under a table that left something out to fit."""
    if layout == LAYOUTS[0]:
        return ""
    if layout.dropped:
        return "\n(narrowed to fit the terminal: --wide shows every column)"
    return "\n(numbers shortened to fit the terminal: --wide shows them in full)"


def _key_cell(field: str, value: Any, zone: ZoneInfo) -> str:
    if field == "last_request_ms":
        moment = datetime.fromtimestamp(value / 1000, UTC).astimezone(zone)
        return moment.strftime("%Y-%m-%d %H:%M")
    if field == "project":
        return clean(str(value).rstrip("/").rsplit("/", 1)[-1] or str(value))
    if field == "session_id":
        return clean(str(value)[:8])
    if field == "model":
        return clean(model_label(str(value)))
    return clean(str(value))


def footer(report: dict[str, Any]) -> str:
    """Notes under the table: the agents' own costs, unpriced models, unknown tokens."""
    from tokenbuddy.core.wording import counted

    lines = []
    totals = report["totals"]
    if totals["reported_requests"]:
        lines.append(
            f"Agent's cost: what the agents recorded themselves, for"
            f" {counted(totals['reported_requests'], 'request')} (Cost is the list price,"
            " except where an agent's figure is what was billed: Copilot's AI credits, and"
            " Cursor's billed rows; a Cursor row without one is a list-price estimate)"
        )
    unpriced = report["unpriced_models"]
    if unpriced:
        listed = ", ".join(
            f"{clean(model_label(m))} ({counted(n, 'request')})"
            for m, n in sorted(unpriced.items())
        )
        lines.append(f"Not in any cost, no known price: {listed}")
    if report.get("unknown_token_requests"):
        lines.append(
            f"{report['unknown_token_requests']:,} Cursor requests with unknown tokens"
            " (Cursor did not record them; not in any cost)"
        )
    return ("\n\n" + "\n".join(lines)) if lines else ""
