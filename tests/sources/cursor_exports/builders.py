"""Building Cursor usage exports of each generation (no real export is public).

Rows are written with Python's csv module from named fields, so a test never depends on
column positions: the header order is whatever the test asks for.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime

TOKENS = [
    "Input (w/ Cache Write)",
    "Input (w/o Cache Write)",
    "Cache Read",
    "Output Tokens",
    "Total Tokens",
]
V1 = ["Date", "Model", *TOKENS, "Cost", "Cost to you"]
V2 = ["Date", "Kind", "Model", "Max Mode", *TOKENS, "Cost"]
V3 = ["Date", "Cloud Agent ID", "Automation ID", "Kind", "Model", "Max Mode", *TOKENS, "Requests"]


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Row:
    """One export row by field; ``total`` None means the four token columns' sum."""

    at_ms: int
    model: str = "claude-4.5-sonnet"
    cache_write: int = 1500
    uncached: int = 1000
    cache_read: int = 20000
    output: int = 300
    kind: str = "Included"
    cost: str = "$0.10"
    requests: str = "1"
    total: str | None = None
    user: str = ""

    def cells(self) -> dict[str, str]:
        total = sum((self.cache_write, self.uncached, self.cache_read, self.output))
        return {
            "Date": iso(self.at_ms),
            "Kind": self.kind,
            "Model": self.model,
            "Max Mode": "No",
            "Input (w/ Cache Write)": f"{self.cache_write:,}",
            "Input (w/o Cache Write)": str(self.uncached),
            "Cache Read": str(self.cache_read),
            "Output Tokens": str(self.output),
            "Total Tokens": str(total) if self.total is None else self.total,
            "Cost": self.cost,
            "Cost to you": self.cost,
            "Requests": self.requests,
            "Cloud Agent ID": "",
            "Automation ID": "",
            "User": self.user,
            "Email": self.user,
        }


def export(header: list[str], rows: list[Row]) -> str:
    """The CSV text of ``rows`` under ``header`` (any order; unknown names left empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        cells = row.cells()
        writer.writerow([cells.get(name, "x") for name in header])
    return out.getvalue()
