"""The SQLite ledger: every priced request, every file cursor, kept beyond the logs.

Claude Code deletes transcripts after 30 days; the ledger is the user's
history beyond that. Rows are never deleted when a log disappears.

:class:`Ledger` is the open database. Behind it, one module per idea:

- :mod:`.schema`: tables, migrations, indexes and journal modes;
- :mod:`.files`: each log file's cursor and counters, and a batch of reads committed;
- :mod:`.dedup`: which copy of a request is kept, and which requests count;
- :mod:`.bulk_merge`: a bulk load's staging files merged in one pass;
- :mod:`.rollup`: the per-bucket sums the reports read;
- :mod:`.price_cache`: price schedules kept between runs, and re-pricing.
"""

from tokenbuddy.store.ledger.database import Ledger
from tokenbuddy.store.ledger.dedup import (
    BILLED_RANGES,
    COUNTED,
    IN_BILLED_RANGE,
    RECORD_COLUMNS,
    request_row,
)
from tokenbuddy.store.ledger.files import FileResult, StoredFile
from tokenbuddy.store.ledger.schema import SCHEMA_VERSION

__all__ = [
    "BILLED_RANGES",
    "COUNTED",
    "IN_BILLED_RANGE",
    "RECORD_COLUMNS",
    "SCHEMA_VERSION",
    "FileResult",
    "Ledger",
    "StoredFile",
    "request_row",
]
