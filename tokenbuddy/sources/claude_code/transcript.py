"""Reading a Claude Code transcript, buffer by buffer.

:class:`TranscriptReader` is what ingest drives, through the registry. Each buffer
of complete lines is decoded whole into the typed structs of ``structs``; when that
fails it is read line by line, and a line the structs cannot read goes through
``load_line`` and the dict-based ``reference`` functions, which count why it is
skipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
import orjson

from tokenbuddy.core.records import ParseStats, PromptMark, RateLimitSnapshot, UsageRecord
from tokenbuddy.sources.claude_code.layout import FileContext, context_for
from tokenbuddy.sources.claude_code.reference import prompt_from, record_from
from tokenbuddy.sources.claude_code.structs import Line, Unreadable, from_values, judge
from tokenbuddy.sources.jsonl import parse_in_full, split_lines

if TYPE_CHECKING:
    from collections.abc import Iterable

USAGE_NEEDLE = b'"usage"'
OVERLONG_RECOVERED = "lines over 10 MB whose usage was read from their two ends"
_decode_lines = msgspec.json.Decoder(Line).decode_lines
_decode_line = msgspec.json.Decoder(Line).decode


class TranscriptReader:
    """One transcript's new bytes, buffer by buffer, into records and human prompts."""

    def __init__(self, path: str, state: dict[str, Any], stats: ParseStats) -> None:
        self.context = context_for(path)
        self.stats = stats
        self.state = state
        """Kept as it is: every Claude Code line stands on its own, nothing carries over."""
        self.records: list[UsageRecord] = []
        self.prompts: list[PromptMark] = []
        self.rate_limits: list[RateLimitSnapshot] = []
        """Always empty: Claude Code writes no rate limits into its transcripts."""

    def feed_chunk(self, chunk: bytes) -> None:
        """Read one buffer of complete lines."""
        self.records += parse_chunk(chunk, self.context, self.stats, self.prompts)

    def finish(self, overlong_edges: Iterable[tuple[bytes, bytes]]) -> int:
        """Rescue the usage of lines too long to read whole from their two ends (counted
        as a note); returns how many were rescued."""
        rescued = 0
        for head, tail in overlong_edges:
            record = recover_overlong(head, tail, self.context, self.stats)
            if record is not None:
                self.records.append(record)
                self.stats.note(OVERLONG_RECOVERED)
                rescued += 1
        self.stats.records += rescued
        return rescued


def parse_chunk(
    chunk: bytes,
    context: FileContext,
    stats: ParseStats,
    prompts: list[PromptMark] | None = None,
) -> list[UsageRecord]:
    """Every usage record in a buffer of complete lines; human prompts go to ``prompts``.

    Every line is parsed, into typed structs that declare only the fields records
    and prompts need: the rest of each line (message text, tool inputs and
    results, most of the bytes) is skipped at C speed, without building a Python
    object for it. The whole buffer is decoded in one call; when that fails (a
    malformed line anywhere in it, a field of an unexpected type), it is read line
    by line instead, and a line that does not fit the structs goes through
    ``load_line`` and the dict-based functions, which count why it is skipped.

    What is not read is not checked: invalid UTF-8 or a number out of range inside
    skipped text does not lose the record (a full parse would repair or reject the
    line). Read whole, two records written on one line without a newline between
    them both count, as two lines.
    """
    try:
        values = _decode_lines(chunk)
        whole = ParseStats()
        found: list[PromptMark] = []
        records = from_values(values, context, whole, found)
    except (msgspec.MsgspecError, RecursionError, Unreadable):
        return _parse_lines(chunk, context, stats, prompts)
    stats.merge(whole)
    if prompts is not None:
        prompts += found
    return records


def _parse_lines(
    chunk: bytes,
    context: FileContext,
    stats: ParseStats,
    prompts: list[PromptMark] | None,
) -> list[UsageRecord]:
    """:func:`parse_chunk` line by line, for a buffer that does not decode whole."""
    records = []
    for line in split_lines(chunk):
        record = _parse_line(line, context, stats, prompts)
        if record is not None:
            records.append(record)
    stats.records += len(records)
    return records


def _parse_line(
    line: memoryview, context: FileContext, stats: ParseStats, prompts: list[PromptMark] | None
) -> UsageRecord | None:
    """One non-empty line: as structs, else through the dict-based functions."""
    try:
        value = _decode_line(line)
    except (msgspec.MsgspecError, RecursionError):
        value = None
    if value is not None:
        found: list[PromptMark] = []
        try:
            record = judge(value, context, stats, found)
        except Unreadable:
            pass
        else:
            stats.lines += 1
            if prompts is not None:
                prompts += found
            return record
    obj = parse_in_full(line, stats)
    if obj is None:
        return None
    record = record_from(obj, context, stats)
    if record is None and prompts is not None:
        prompt = prompt_from(obj, context)
        if prompt is not None:
            prompts.append(prompt)
    return record


def recover_overlong(
    head: bytes, tail: bytes, context: FileContext, stats: ParseStats
) -> UsageRecord | None:
    """The usage record of an assistant line too long to read whole, from its two ends.

    Claude Code writes ``message`` with its id and model before the content and
    ``usage``, ``requestId`` and ``timestamp`` after it; the content (a huge tool
    result or text) is replaced by an empty list. None unless that parses into a
    record: the line then stays counted as skipped.
    """
    start = head.find(b'"content":')
    end = tail.rfind(b'"stop_reason"')
    if start < 0 or end < 0 or USAGE_NEEDLE not in tail[end:]:
        return None
    try:
        obj = orjson.loads(head[:start] + b'"content":[],' + tail[end:])
    except orjson.JSONDecodeError:
        return None
    return record_from(obj, context, stats) if isinstance(obj, dict) else None
