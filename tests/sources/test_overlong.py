"""Lines over 10 MB: the record's usage is read from the line's two ends; nothing else is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from tests.conftest import environ_for
from tokenbuddy.core.records import SkipReason
from tokenbuddy.services.ingest import sync
from tokenbuddy.sources.claude_code import OVERLONG_RECOVERED
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.sources.tailer import EDGE_BYTES, MAX_LINE_BYTES, ChunkReader
from tokenbuddy.store.ledger import Ledger

if TYPE_CHECKING:
    from pathlib import Path

BIG = 2 * MAX_LINE_BYTES
"""Long enough to outgrow the read buffer whatever the alignment (shorter lines are read
whole: the limit applies to what is buffered while looking for the line's end)."""


def assistant(number: int, text: str = "ok") -> dict[str, Any]:
    """Key order as Claude Code writes it: ids and model before the content, usage after."""
    return {
        "parentUuid": None,
        "isSidechain": False,
        "cwd": "/home/dev/app",
        "sessionId": "s1",
        "message": {
            "id": f"msg_{number}",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": 10 + number,
                "output_tokens": 500,
                "cache_creation_input_tokens": 2000,
                "cache_read_input_tokens": 90_000,
            },
        },
        "requestId": f"req_{number}",
        "type": "assistant",
        "uuid": f"u{number}",
        "timestamp": "2026-11-20T10:00:00.000Z",
    }


def tool_result(size: int) -> dict[str, Any]:
    content = [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "x" * size}]
    return {"type": "user", "sessionId": "s1", "message": {"role": "user", "content": content}}


def write(path: Path, *records: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))


def test_an_assistant_line_over_10_mb_keeps_its_usage(tmp_path: Path) -> None:
    claude = tmp_path / "claude"
    write(
        claude / "projects" / "-home-dev-app" / "s1.jsonl",
        assistant(1),
        assistant(2, "y" * BIG),
        tool_result(BIG),
        assistant(3),
    )
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    sync(ledger, log_roots(environ_for(claude, tmp_path / "codex"), tmp_path))
    rows = ledger.db.execute(
        "SELECT dedup_key, input_tokens, output_tokens, cache_read_tokens FROM requests"
        " ORDER BY dedup_key"
    ).fetchall()
    assert rows == [
        ("c:msg_1:req_1", 11, 500, 90_000),
        ("c:msg_2:req_2", 12, 500, 90_000),
        ("c:msg_3:req_3", 13, 500, 90_000),
    ]
    (stored,) = ledger.files().values()
    assert stored.notes == {OVERLONG_RECOVERED: 1}
    assert stored.skipped == {SkipReason.LINE_TOO_LONG: 1}, "the tool result stays skipped"
    assert stored.records == 3


def test_the_edges_survive_small_reads(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    line = orjson.dumps(assistant(7, "z" * BIG))
    path.write_bytes(b"{}\n" + line + b"\n{}\n")
    reader = ChunkReader(str(path), 0, chunk_size=1024 * 1024)
    chunks = b"".join(reader)
    assert chunks == b"{}\n{}\n"
    assert reader.overlong_lines == 1
    ((head, tail),) = reader.overlong_edges
    assert head == line[:EDGE_BYTES] and tail == line[-EDGE_BYTES:]
    assert reader.offset == path.stat().st_size
