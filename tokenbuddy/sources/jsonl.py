"""Defensive parsing of one JSONL line and its timestamps, shared by the JSONL sources.

The sources decode whole buffers into typed structs that read only what they
need (see ``claude_code`` and ``codex``); a line those cannot read is parsed in
full here, and why it cannot be counted: invalid JSON or UTF-8, a truncated line
with a record glued to its end, a value that is not an object.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.core.records import INVALID_UTF8_REPAIRED, ParseStats, SkipReason

if TYPE_CHECKING:
    from collections.abc import Iterator

MAX_RECOVERY_ATTEMPTS = 64


def split_lines(chunk: bytes) -> Iterator[memoryview]:
    """Each non-empty line of ``chunk``, without its newline, as a view (no copy)."""
    view = memoryview(chunk)
    size = len(chunk)
    start = 0
    while start < size:
        end = chunk.find(b"\n", start)
        if end < 0:
            end = size
        if end > start:
            yield view[start:end]
        start = end + 1


def parse_in_full(line: memoryview, stats: ParseStats) -> dict[str, Any] | None:
    """A line the typed structs could not read, through :func:`load_line`; counted as a
    line unless it is blank. None for a blank line or one that cannot be parsed."""
    text = line.tobytes()
    if not text.strip():
        return None
    stats.lines += 1
    return load_line(text, stats)


def load_line(line: bytes, stats: ParseStats) -> dict[str, Any] | None:
    """Parse one JSONL line into a dict, counting why when it cannot be.

    A line that is a truncated record with a complete record glued to its end
    (a writer that crashed mid-line and then appended) yields that record, and
    the lost prefix is counted as truncated.
    """
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return _recover(line, stats)
    if isinstance(value, dict):
        return value
    stats.skip(SkipReason.NOT_AN_OBJECT)
    return None


def _recover(line: bytes, stats: ParseStats) -> dict[str, Any] | None:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return _repair_utf8(line, stats)
    position = line.find(b'{"', 1)
    for _ in range(MAX_RECOVERY_ATTEMPTS):
        if position == -1:
            break
        try:
            value = orjson.loads(line[position:])
        except orjson.JSONDecodeError:
            position = line.find(b'{"', position + 1)
            continue
        if isinstance(value, dict) and "type" in value:
            stats.skip(SkipReason.TRUNCATED)
            return value
        break
    stats.skip(SkipReason.INVALID_JSON)
    return None


def _repair_utf8(line: bytes, stats: ParseStats) -> dict[str, Any] | None:
    """A record with a stray invalid byte (in its text, typically) still carries usage."""
    try:
        value = orjson.loads(line.decode("utf-8", "replace"))
    except orjson.JSONDecodeError:
        value = None
    if isinstance(value, dict):
        stats.note(INVALID_UTF8_REPAIRED)
        return value
    stats.skip(SkipReason.INVALID_UTF8)
    return None


def parse_timestamp(value: Any) -> int | None:
    """Epoch milliseconds from an ISO-8601 timestamp, or None if it is not one.

    Any date parses, 1900 and 3000 alike: whether it is plausible is judged once, for
    every source, as the ingest reads the records (see ``core.records.plausible_time``).
    """
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return math.floor(moment.timestamp() * 1000 + 0.5)
    except (OverflowError, OSError):
        return None
