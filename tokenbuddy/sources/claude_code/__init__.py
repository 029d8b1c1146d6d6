"""Claude Code transcripts: ``<config dir>/projects/**/*.jsonl``.

Only ``assistant`` records carry usage, plus the ``progress`` records of
Claude Code 2.1.8x that embed a subagent's assistant message. One API
response is written as several lines (one per content block, early ones with
partial output counts), and side files replay the parent conversation, so
each record carries a dedup key and the ledger keeps the largest copy.

- ``layout``: where the transcripts are, what a path says (session, project, subagent);
- ``transcript``: reading buffers of lines, fast and, line by line, in full;
- ``structs``: the fast path, lines decoded into typed structs;
- ``reference``: the full parse into dicts, for lines the structs cannot read;
- ``rules``: the decisions both share (what counts, dedup keys, prompts).
"""

from tokenbuddy.sources.claude_code.layout import HOME_DIRS, FileContext, context_for, log_dirs
from tokenbuddy.sources.claude_code.reference import prompt_from, record_from
from tokenbuddy.sources.claude_code.transcript import (
    OVERLONG_RECOVERED,
    TranscriptReader,
    parse_chunk,
    recover_overlong,
)

__all__ = [
    "HOME_DIRS",
    "OVERLONG_RECOVERED",
    "FileContext",
    "TranscriptReader",
    "context_for",
    "log_dirs",
    "parse_chunk",
    "prompt_from",
    "record_from",
    "recover_overlong",
]
