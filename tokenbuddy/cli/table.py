"""Plain aligned text tables, for terminals and pipes alike (no Rich: start-up matters)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def render_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, numeric_from: int = 1
) -> str:
    """Columns padded to their widest cell; columns from ``numeric_from`` on are right-aligned.

    The last row is treated as a totals row and set off by a rule.
    """
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if index >= numeric_from else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [line(headers), rule]
    out.extend(line(row) for row in rows[:-1])
    if rows:
        out.extend([rule, line(rows[-1])])
    return "\n".join(out)


def tokens(value: int) -> str:
    """A token count with thousands separators."""
    return f"{value:,}"


def compact(value: int) -> str:
    """A count in at most 6 characters: ``9,999``, ``52.3k``, ``52.3M``, ``1.2B``."""
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if value >= 10_000 and value >= limit:
            shown = f"{value / limit:.1f}"
            return (shown[:-2] if len(shown) > 5 else shown) + suffix
    return f"{value:,}"


def table_width(wide: bool) -> int | None:
    """How wide a table may be: the terminal's width when stdout is one (``$COLUMNS``
    wins), else None (a pipe or ``--wide``: every column, exact numbers)."""
    import os
    import shutil
    import sys

    if wide:
        return None
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


def clean(text: str) -> str:
    """Text from logs made safe to print: control characters become ``?``."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)
