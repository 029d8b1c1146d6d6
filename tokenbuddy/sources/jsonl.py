"""Cheap line location and defensive JSON parsing shared by the JSONL sources.

Most bytes of an agent transcript are tool output on lines that carry no
usage. Parsing every line into Python objects costs several times more than
finding the few that matter, so the Codex source locates candidate lines with a
search for a needle such as ``"token_count"`` and parses only those. (Claude Code
transcripts are decoded whole into typed structs instead, which skip what they
do not need at C speed; ``load_line`` judges the lines those cannot read.)

Lines that are not parsed are still checked structurally, at C speed, so that
truncated and garbled lines are counted rather than silently passed over.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import orjson

from tokenbuddy.core.records import INVALID_UTF8_REPAIRED, ParseStats, SkipReason

MAX_RECOVERY_ATTEMPTS = 64


def candidate_lines(chunk: bytes, needles: tuple[bytes, ...], stats: ParseStats) -> list[bytes]:
    """Each line of ``chunk`` containing any of ``needles``, in file order.

    Every other line is only checked for the shape of a JSON object (starts with
    ``{``, ends with ``}``); one that fails is parsed to count why. Blank lines are
    passed over. ``chunk`` must hold complete lines (the tailer's buffers do).
    Counts lines into ``stats``.

    Lines are walked by offset rather than split out: only the lines returned are
    copied, and each byte is searched once for the needles, however many lines
    lie between two hits.
    """
    found: list[bytes] = []
    lines = blank = 0
    size = len(chunk)
    hits = _NeedleHits(chunk, needles)
    next_hit = hits.next
    find = chunk.find
    start = 0
    while start < size:
        end = find(b"\n", start)
        if end < 0:
            end = size
        if end > start:
            lines += 1
            if next_hit < end:
                found.append(chunk[start:end])
                next_hit = hits.advance(end)
            elif chunk[start] != _OPEN_BRACE or chunk[end - 1] != _CLOSE_BRACE:
                blank += _check_suspect(chunk[start:end], stats)
        start = end + 1
    stats.lines += lines - blank
    return found


class _NeedleHits:
    """The next offset in a chunk at which any of several needles starts.

    Each needle's next hit is kept, and searched again only once the walk has
    passed it, so every byte is searched once per needle.
    """

    __slots__ = ("_chunk", "_needles", "_positions", "next")

    def __init__(self, chunk: bytes, needles: tuple[bytes, ...]) -> None:
        self._chunk = chunk
        self._needles = [_literal(needle) for needle in needles]
        self._positions = [self._find(needle, 0) for needle in self._needles]
        self.next = min(self._positions, default=len(chunk))

    def advance(self, offset: int) -> int:
        """Move past every hit before ``offset``; returns the new :attr:`next`."""
        positions = self._positions
        if len(positions) == 1:
            if positions[0] < offset:
                positions[0] = self._find(self._needles[0], offset)
            self.next = positions[0]
            return self.next
        for index, position in enumerate(positions):
            if position < offset:
                positions[index] = self._find(self._needles[index], offset)
        self.next = min(positions, default=len(self._chunk))
        return self.next

    def _find(self, needle: re.Pattern[bytes], offset: int) -> int:
        found = needle.search(self._chunk, offset)
        return found.start() if found is not None else len(self._chunk)


@cache
def _literal(needle: bytes) -> re.Pattern[bytes]:
    """A needle as a pattern: ``re`` finds a literal like ``"usage"`` in JSON text about
    15% faster than ``bytes.find``, whose skip table is defeated by a needle ending in
    a character as common as ``"``."""
    return re.compile(re.escape(needle))


_OPEN_BRACE = ord("{")
_CLOSE_BRACE = ord("}")


def _check_suspect(line: bytes, stats: ParseStats) -> int:
    """Parse a line that does not look like a JSON object; returns 1 if it was blank."""
    stripped = line.strip()
    if not stripped:
        return 1
    if stripped[0] != _OPEN_BRACE or stripped[-1] != _CLOSE_BRACE:
        load_line(stripped, stats)
    return 0


def check_shape(line: bytes, stats: ParseStats) -> None:
    """Count a non-blank line passed over unparsed if it is not shaped like a JSON object."""
    if line[0] != _OPEN_BRACE or line[-1] != _CLOSE_BRACE:
        _check_suspect(line, stats)


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
