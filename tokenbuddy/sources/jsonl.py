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

from typing import Any

import orjson

from tokenbuddy.core.records import INVALID_UTF8_REPAIRED, ParseStats, SkipReason

MAX_RECOVERY_ATTEMPTS = 64


HEAD_BYTES = 2048
"""How far into a line a ``head_needle`` is looked for: record envelopes come first."""


def candidate_lines(
    chunk: bytes,
    needles: tuple[bytes, ...],
    stats: ParseStats,
    head_needle: bytes | None = None,
    head_matches: list[bytes] | None = None,
) -> list[bytes]:
    """Each line of ``chunk`` containing any of ``needles``, in file order.

    With ``head_needle``, the other lines holding it within their first
    :data:`HEAD_BYTES` go to ``head_matches``. Every remaining line is only
    checked for the shape of a JSON object (starts with ``{``, ends with ``}``);
    one that fails is parsed to count why. Blank lines are passed over.
    ``chunk`` must hold complete lines (the tailer's buffers do). Counts lines
    into ``stats``.
    """
    found: list[bytes] = []
    lines = 0
    blank = 0
    needle = needles[0]
    others = needles[1:]
    for line in chunk.split(b"\n"):
        if not line:
            continue
        lines += 1
        if needle in line or (others and any(other in line for other in others)):
            found.append(line)
        elif head_matches is not None and line.find(head_needle or b"", 0, HEAD_BYTES) >= 0:
            head_matches.append(line)
        elif line[0] != _OPEN_BRACE or line[-1] != _CLOSE_BRACE:
            blank += _check_suspect(line, stats)
    stats.lines += lines - blank
    return found


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
