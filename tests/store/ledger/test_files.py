"""File cursors: a read is committed once, even when two processes made it."""

from __future__ import annotations

from tokenbuddy.core.file_cursor import FileCursor
from tokenbuddy.core.records import CLAUDE_CODE
from tokenbuddy.store.ledger import FileResult, Ledger, request_row

from .builders import BASE_MS, commit, record


def test_a_stale_read_of_a_file_is_not_committed_twice(ledger: Ledger) -> None:
    """Two processes read the same new bytes: the second commit finds the cursor moved."""
    commit(ledger, "/f", record("k1", BASE_MS, 10))
    planned = ledger.files()["/f"]
    cursor = FileCursor("/f", CLAUDE_CODE, offset=2, inode=1)
    first = FileResult(
        cursor, [request_row(record("k2", BASE_MS, 5), 1.0)], [], 1, {}, {}, False, planned
    )
    assert ledger.commit_files([first]) == 1
    assert ledger.commit_files([first]) == 0
    assert ledger.files()["/f"].lines == 2


def test_consumed_bytes_list_recently_modified_files_newest_first(ledger: Ledger) -> None:
    for path, mtime_ns, offset, pending in (
        ("/old", 10, 100, 0),
        ("/a", 20, 200, 5),
        ("/b", 30, 300, 0),
    ):
        cursor = FileCursor(
            path, CLAUDE_CODE, offset=offset, mtime_ns=mtime_ns, pending_bytes=pending
        )
        ledger.commit_files([FileResult(cursor, [], [], 1, {}, {}, False)])
    assert list(ledger.consumed_bytes(20, 10).items()) == [("/b", 300), ("/a", 205)]
    assert ledger.consumed_bytes(20, 1) == {"/b": 300}
    assert ledger.consumed_bytes(31, 10) == {}
