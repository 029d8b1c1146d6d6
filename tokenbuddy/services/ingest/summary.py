"""What an ingest pass did, added up batch by batch as it goes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(slots=True)
class IngestSummary:
    """What one pass did, for the CLI, the TUI and ``doctor``."""

    files_seen: int = 0
    files_read: int = 0
    bytes_read: int = 0
    requests_written: int = 0
    restarted_files: int = 0
    missing_files: int = 0
    cursor_dbs_read: int = 0
    """Cursor databases that changed since the last pass and were read."""
    errors: list[str] = field(default_factory=list)
    not_regular: list[str] = field(default_factory=list)
    """Paths named like logs that are no regular file (a FIFO, a device, a socket, or a
    symlink to one), with what they are: skipped unopened, since reading one could block
    or never end."""


@dataclass(slots=True)
class BatchReport:
    """What committing one batch did."""

    planned_bytes: int = 0
    files_read: int = 0
    bytes_read: int = 0
    requests_written: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Progress:
    """Adds batch reports to the summary and tells the caller how far the pass is."""

    summary: IngestSummary
    total_bytes: int
    callback: Callable[[int, int], None] | None
    done_bytes: int = 0

    def add(self, report: BatchReport) -> None:
        self.done_bytes += report.planned_bytes
        self.summary.files_read += report.files_read
        self.summary.bytes_read += report.bytes_read
        self.summary.requests_written += report.requests_written
        self.summary.errors.extend(report.errors)
        if self.callback is not None:
            self.callback(self.done_bytes, self.total_bytes)
