"""The dashboard's first ingest of a large backlog, in a process of its own.

The dashboard reads logs in a thread, and a process with threads does not fork
parsing processes; a first run over a large history would then take twice as
long as ``tokenbuddy report``. So the dashboard starts ``python -m
tokenbuddy.services.backlog`` for it: a process without threads, which parses in several
processes and loads the price database in a helper, like the command line. It
prints its progress as ``<done bytes> <total bytes>`` lines and ends with one
JSON line: what the pass read and the errors it met. The dashboard then catches
up with whatever arrived meanwhile in its own thread, as usual.

The single argument is a JSON object: ``{"ledger": path, "roots": [[source,
path, origin], ...]}``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    from tokenbuddy.sources.discovery import LogRoot


def spec(ledger: Path, roots: list[LogRoot]) -> str:
    """The argument for a backlog process reading ``roots`` into ``ledger``."""
    return orjson.dumps(
        {"ledger": str(ledger), "roots": [[r.source, str(r.path), r.origin] for r in roots]}
    ).decode()


def main(argv: list[str]) -> int:
    from tokenbuddy.services import price_loader
    from tokenbuddy.services.ingest import sync
    from tokenbuddy.sources.discovery import LogRoot
    from tokenbuddy.store.ledger import Ledger

    request = orjson.loads(argv[0])
    ledger_path = Path(request["ledger"])
    roots = [LogRoot(source, Path(path), origin) for source, path, origin in request["roots"]]

    def progress(done: int, total: int) -> None:
        sys.stdout.write(f"{done} {total}\n")
        sys.stdout.flush()

    price_loader.start_for_first_run(ledger_path)
    try:
        with Ledger(ledger_path) as ledger:
            summary = sync(ledger, roots, progress=progress)
    finally:
        price_loader.stop()
    sys.stdout.write(
        orjson.dumps({"files_read": summary.files_read, "errors": summary.errors}).decode() + "\n"
    )
    return 0


if __name__ == "__main__":
    from tokenbuddy.services.process import exit_without_teardown

    exit_without_teardown(main(sys.argv[1:]))  # the dashboard waits for this process
