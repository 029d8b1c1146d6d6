"""Incremental, crash-safe reading of append-only JSONL files.

A :class:`~tokenbuddy.core.file_cursor.FileCursor` remembers where the last read
of a file stopped: its device and inode, its size and mtime, the byte offset just
past the last complete line, and a hash of its first bytes. From a cursor and a fresh
``stat``, :func:`plan_read` decides whether the file is unchanged, grew, or
was truncated or replaced (then it is read again from the start; the ledger's
dedup keys stop anything being counted twice).

:class:`ChunkReader` then yields buffers that hold only complete lines. An
unterminated last line is left for the next read, unless it already parses as
a complete JSON object (a writer that never ends its last line).
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_module
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.core.file_cursor import FileCursor

if TYPE_CHECKING:
    from collections.abc import Iterator

CHUNK_SIZE = 8 * 1024 * 1024
MAX_LINE_BYTES = 10 * 1024 * 1024
EDGE_BYTES = 64 * 1024
"""Of a line over :data:`MAX_LINE_BYTES`, this much of its start and of its end is kept:
a record's ids and model come before its (huge) content, its usage after."""
HEAD_BYTES = 4096


@dataclass(frozen=True, slots=True)
class ReadPlan:
    """What to do with one file on this pass."""

    cursor: FileCursor
    """The cursor to read from: a fresh one when the file is read from the start."""
    stat: os.stat_result
    restarted: bool
    """True when an existing cursor was dropped (truncated or replaced file)."""
    fingerprint: tuple[int, int] | None = None
    """A document's (size, mtime_ns) with its companion files, as planned."""


def head_hash(path: str, length: int) -> str:
    """A short hash of the first and the last 4 KB of the first ``length`` bytes of ``path``.

    An append-only file keeps both; a file rewritten in place almost never does.
    """
    digest = hashlib.blake2b(digest_size=12)
    with open(open_regular(path), "rb") as handle:
        digest.update(handle.read(min(length, HEAD_BYTES)))
        if length > HEAD_BYTES:
            handle.seek(max(length - HEAD_BYTES, HEAD_BYTES))
            digest.update(handle.read(length - max(length - HEAD_BYTES, HEAD_BYTES)))
    return digest.hexdigest()


class NotRegularFileError(OSError):
    """A log path that is no regular file: a FIFO, a device or a socket (or a symlink to
    one). It is never opened: a FIFO blocks the open, ``/dev/zero`` never ends."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(f"{path} is {kind}, not a regular file")
        self.path = path
        self.kind = kind


_KINDS = (
    (stat_module.S_ISFIFO, "a FIFO"),
    (stat_module.S_ISCHR, "a character device"),
    (stat_module.S_ISBLK, "a block device"),
    (stat_module.S_ISSOCK, "a socket"),
    (stat_module.S_ISDIR, "a directory"),
)


def regular_stat(path: str) -> os.stat_result:
    """``os.stat(path)`` (through symlinks), raising :class:`NotRegularFileError` for
    anything but a regular file."""
    stat = os.stat(path)
    if not stat_module.S_ISREG(stat.st_mode):
        kind = next((name for test, name in _KINDS if test(stat.st_mode)), "no regular file")
        raise NotRegularFileError(path, kind)
    return stat


def open_regular(path: str) -> int:
    """A descriptor on ``path``, opened without blocking and checked to be a regular file
    (it may have been replaced by a FIFO since it was planned)."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat_module.S_ISREG(os.fstat(descriptor).st_mode):
            raise NotRegularFileError(path, "no longer a regular file")
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def plan_read(path: str, source: str, cursor: FileCursor | None) -> ReadPlan | None:
    """Decide how to read ``path`` given its last cursor; None when nothing changed.

    Raises OSError when the file cannot be stat'ed or opened, and its
    :class:`NotRegularFileError` when it is no regular file.
    """
    stat = regular_stat(path)
    if cursor is None:
        return ReadPlan(FileCursor(path, source), stat, restarted=False)
    replaced = (cursor.device, cursor.inode) != (stat.st_dev, stat.st_ino)
    if not replaced and (cursor.size, cursor.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
        return None
    shrunk = stat.st_size < cursor.offset
    if replaced or shrunk or head_hash(path, cursor.offset) != cursor.head_hash:
        return ReadPlan(FileCursor(path, source), stat, restarted=True)
    return ReadPlan(cursor, stat, restarted=False)


def plan_document(
    path: str, source: str, cursor: FileCursor | None, companions: tuple[str, ...] = ()
) -> ReadPlan | None:
    """Decide whether a document (read whole, or by its reader's watermark) changed since
    ``cursor``; None when it did not.

    Its fingerprint is its size and mtime plus those of its ``companions`` (a SQLite
    database's ``-wal``): a write that lands only in the WAL is a change too. Raises
    OSError when the document cannot be stat'ed (:class:`NotRegularFileError` when it is
    no regular file).
    """
    stat = regular_stat(path)
    size, mtime_ns = document_fingerprint(path, stat, companions)
    if cursor is not None and (cursor.device, cursor.inode, cursor.size, cursor.mtime_ns) == (
        stat.st_dev,
        stat.st_ino,
        size,
        mtime_ns,
    ):
        return None
    fresh = cursor is None or (cursor.device, cursor.inode) != (stat.st_dev, stat.st_ino)
    base = FileCursor(path, source) if cursor is None or fresh else cursor
    return ReadPlan(base, stat, fresh and cursor is not None, (size, mtime_ns))


def document_fingerprint(
    path: str, stat: os.stat_result, companions: tuple[str, ...]
) -> tuple[int, int]:
    """(size, mtime_ns) of a document and its companion files taken together."""
    size, mtime_ns = stat.st_size, stat.st_mtime_ns
    for suffix in companions:
        try:
            extra = os.stat(path + suffix)
        except OSError:
            continue
        size += extra.st_size
        mtime_ns = max(mtime_ns, extra.st_mtime_ns)
    return size, mtime_ns


def advance_document(plan: ReadPlan, state: dict[str, Any]) -> FileCursor:
    """The cursor after a completed read of a document: its fingerprint as planned (a
    write during the read changes it again, so the next pass reads it once more)."""
    size, mtime_ns = plan.fingerprint or (plan.stat.st_size, plan.stat.st_mtime_ns)
    return replace(
        plan.cursor,
        device=plan.stat.st_dev,
        inode=plan.stat.st_ino,
        size=size,
        mtime_ns=mtime_ns,
        offset=0,
        head_hash="",
        pending_bytes=0,
        state=state,
    )


class ChunkReader:
    """Yields buffers of complete lines from ``start`` to the end of a file.

    After iteration, :attr:`offset` is just past the last consumed line,
    :attr:`pending_bytes` the length of an unterminated tail left for later, and
    :attr:`overlong_lines` the number of lines dropped for exceeding 10 MB, with
    :attr:`overlong_edges` the (start, end) bytes of each, for usage recovery.
    """

    def __init__(self, path: str, start: int, chunk_size: int = CHUNK_SIZE) -> None:
        self.path = path
        self.offset = start
        self.pending_bytes = 0
        self.overlong_lines = 0
        self.overlong_edges: list[tuple[bytes, bytes]] = []
        self._chunk_size = chunk_size
        self._head = b""
        self._tail = b""

    def __iter__(self) -> Iterator[bytes]:
        with open(open_regular(self.path), "rb", buffering=0) as handle:
            handle.seek(self.offset)
            yield from self._chunks(handle, os.fstat(handle.fileno()).st_size - self.offset)

    def _chunks(self, handle: Any, expected: int) -> Iterator[bytes]:
        carry = b""
        discarding = False
        while True:
            # Ask for what the file holds, not a whole chunk: a read buffer much larger
            # than its data is mapped afresh by the allocator each time, and faulting its
            # pages in costs more than the read (in a first load, ~40% of reading).
            block = handle.read(
                min(self._chunk_size, expected) if expected > 0 else self._chunk_size
            )
            expected -= len(block)
            if not block:
                break
            data = carry + block if carry else block
            cut = data.rfind(b"\n") + 1
            if discarding:
                if cut == 0:
                    self.offset += len(data)
                    self._tail = (self._tail + data)[-EDGE_BYTES:]
                    carry = b""
                    continue
                first_newline = data.find(b"\n") + 1
                self.offset += first_newline
                tail = (self._tail + data[: first_newline - 1])[-EDGE_BYTES:]
                self.overlong_edges.append((self._head, tail))
                data, cut, discarding = data[first_newline:], cut - first_newline, False
            if cut:
                self.offset += cut
                yield data[:cut]
            carry = data[cut:]
            if len(carry) > MAX_LINE_BYTES:
                self.overlong_lines += 1
                self.offset += len(carry)
                self._head, self._tail = carry[:EDGE_BYTES], carry[-EDGE_BYTES:]
                carry, discarding = b"", True
        yield from self._unterminated(carry)

    def _unterminated(self, carry: bytes) -> Iterator[bytes]:
        """An unterminated last line: ingest it only if it is already complete JSON."""
        if not carry.strip():
            self.offset += len(carry)
            return
        try:
            complete = isinstance(orjson.loads(carry), dict)
        except orjson.JSONDecodeError:
            complete = False
        if complete:
            self.offset += len(carry)
            yield carry + b"\n"
        else:
            self.pending_bytes = len(carry)


def advance(plan: ReadPlan, reader: ChunkReader, state: dict[str, Any]) -> FileCursor:
    """The cursor after a completed read of ``plan``."""
    stat = plan.stat
    return replace(
        plan.cursor,
        device=stat.st_dev,
        inode=stat.st_ino,
        size=max(stat.st_size, reader.offset + reader.pending_bytes),
        mtime_ns=stat.st_mtime_ns,
        offset=reader.offset,
        head_hash=head_hash(plan.cursor.path, reader.offset),
        pending_bytes=reader.pending_bytes,
        state=state,
    )
