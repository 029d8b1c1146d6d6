"""Cheap line location and defensive JSON parsing shared by the JSONL sources.

Most bytes of an agent transcript are tool output on lines that carry no
usage. Parsing every line costs several times more than finding the few that
matter, so sources locate candidate lines with ``bytes.find`` on a needle such
as ``"usage"`` (which matches ``"usage":{`` and ``"usage": {`` alike, and never
the escaped ``\\"usage\\"`` inside a JSON string) and parse only those.

Lines that are not parsed are still checked structurally, at C speed, so that
truncated and garbled lines are counted rather than silently passed over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from tokenbuddy.core.records import ParseStats, SkipReason

if TYPE_CHECKING:
    from collections.abc import Iterator

MAX_RECOVERY_ATTEMPTS = 64


def candidate_lines(chunk: bytes, needles: tuple[bytes, ...]) -> Iterator[bytes]:
    """Each line of ``chunk`` containing any of ``needles``, in file order, once.

    ``chunk`` must end with a newline (the tailer guarantees it).
    """
    if len(needles) == 1:
        for start, end in _spans_with(chunk, needles[0]):
            yield chunk[start:end]
        return
    starts: dict[int, int] = {}
    for needle in needles:
        for start, end in _spans_with(chunk, needle):
            starts[start] = end
    for start in sorted(starts):
        yield chunk[start : starts[start]]


def _spans_with(chunk: bytes, needle: bytes) -> Iterator[tuple[int, int]]:
    find, rfind = chunk.find, chunk.rfind
    position = find(needle)
    while position != -1:
        start = rfind(b"\n", 0, position) + 1
        end = find(b"\n", position)
        yield start, end
        position = find(needle, end)


def count_lines(chunk: bytes) -> int:
    """Non-blank lines in ``chunk``."""
    return chunk.count(b"\n") - chunk.count(b"\n\n") - (1 if chunk.startswith(b"\n") else 0)


def count_broken_lines(chunk: bytes, needles: tuple[bytes, ...], stats: ParseStats) -> None:
    """Count lines that cannot be JSON objects among those no needle selected.

    A JSONL object line starts with ``{`` and ends with ``}``. Counting
    ``\\n{`` and ``}\\n`` is done in C; only when the counts disagree are the
    lines walked one by one to find and parse the suspects.
    """
    newlines = chunk.count(b"\n")
    blank = chunk.count(b"\n\n") + (1 if chunk.startswith(b"\n") else 0)
    opens = chunk.count(b"\n{") + (1 if chunk.startswith(b"{") else 0)
    closes = chunk.count(b"}\n")
    if opens == closes == newlines - blank:
        return
    for line in chunk.split(b"\n"):
        stripped = line.strip()
        if not stripped or any(needle in line for needle in needles):
            continue
        if stripped.startswith(b"{") and stripped.endswith(b"}"):
            continue
        load_line(stripped, stats)


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
        stats.skip(SkipReason.INVALID_UTF8)
        return None
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
