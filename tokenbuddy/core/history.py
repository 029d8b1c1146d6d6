"""The history view as plain data: which sessions were asked for, one page of them, and
why a page is empty.

Pure: the ledger is read by ``tokenbuddy.services.history``; the explanations here
take what it found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from tokenbuddy.errors import ConfigError

if TYPE_CHECKING:
    from tokenbuddy.core.dashboard import SessionSummary

PAGE_SIZE = 100
"""Sessions per page of the history view."""


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """Sessions with requests between two local days (inclusive), whose project path
    contains a text, one page of them."""

    since: date | None = None
    until: date | None = None
    project: str = ""
    """Case-insensitive part of the project path; empty for every project."""
    page: int = 0

    def describe(self) -> str:
        """``between 2026-11-01 and 2026-11-20 in projects matching "shop"``."""
        text = self.describe_range()
        return text + (f' in projects matching "{self.project}"' if self.project else "")

    def describe_range(self) -> str:
        """``between 2026-11-01 and 2026-11-20``, ``since 2026-11-01``, ``at any time``."""
        if self.since and self.until:
            text = f"between {self.since} and {self.until}"
        elif self.since:
            text = f"since {self.since}"
        elif self.until:
            text = f"up to {self.until}"
        else:
            text = "at any time"
        return text


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of the sessions a :class:`HistoryQuery` matches, the latest started first."""

    query: HistoryQuery
    sessions: tuple[SessionSummary, ...]
    total_sessions: int
    total_usd: float
    total_requests: int
    explanation: str = ""
    """Why nothing matched, when nothing did."""

    @property
    def pages(self) -> int:
        """How many pages the query's sessions fill (at least one)."""
        return max(1, -(-self.total_sessions // PAGE_SIZE))

    @property
    def first_index(self) -> int:
        """The 0-based position of the page's first session among all of them."""
        return self.query.page * PAGE_SIZE


def parse_day(text: str, what: str) -> date | None:
    """A ``YYYY-MM-DD`` day typed by the user; None when left empty."""
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{what} must be a day as YYYY-MM-DD, not {text!r}") from None
